#include "shutdown_sequence.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "phase_log.h"

namespace gracecheck::refapi {

namespace {

using Clock = std::chrono::steady_clock;

// How long close_pool waits for connections still leased (only after a
// failed drain, or in variants that close the pool early).
constexpr auto kPoolCloseGrace = std::chrono::seconds(1);

bool NotReady(ShutdownContext& c) {
  c.ready.store(false);
  LogPhase("not_ready");
  return true;
}

bool LameDuck(ShutdownContext& c) {
  if (c.options.lame_duck <= Duration::zero()) return true;
  std::this_thread::sleep_for(c.options.lame_duck);
  LogPhase("lame_duck_done", fmt::format("waited={}", FormatDuration(c.options.lame_duck)));
  return true;
}

bool StopAccepting(ShutdownContext& c) {
  c.deadline = Clock::now() + c.options.drain_timeout;
  c.server.connections().StopKeepAlive();
  c.server.StopAccepting();
  LogPhase("stopped_accepting");
  return true;
}

bool CloseIdle(ShutdownContext& c) {
  ConnectionTracker& connections = c.server.connections();
  connections.CloseIdle();
  if (!connections.WaitUntil([](const auto& n) { return n.idle == 0; }, c.deadline)) {
    LogPhase("close_idle_timeout", fmt::format("idle={}", connections.counts().idle));
    return false;
  }
  LogPhase("idle_closed", fmt::format("n={}", connections.counts().closed_idle));
  return true;
}

// Done when every connection is closed: each in-flight request was answered
// (with "Connection: close") and its connection closed after it.
bool Drain(ShutdownContext& c) {
  ConnectionTracker& connections = c.server.connections();
  if (connections.WaitUntil([](const auto& n) { return n.open() == 0; }, c.deadline)) {
    LogPhase("drained", "inflight=0");
    return true;
  }
  ConnectionTracker::Counts n = connections.counts();
  LogPhase("drain_timeout", fmt::format("inflight={} idle={}", n.in_flight(), n.idle));
  return false;
}

bool JoinWorkers(ShutdownContext& c) {
  if (!c.server.WaitUntilStopped(c.deadline)) {
    LogPhase("join_timeout");
    return false;
  }
  c.server.Join();
  LogPhase("workers_joined");
  return true;
}

bool ClosePool(ShutdownContext& c) {
  ConnectionPool::CloseResult closed = c.pool.Close(kPoolCloseGrace);
  if (closed.abandoned == 0) {
    LogPhase("pool_closed", fmt::format("n={}", closed.closed));
    return true;
  }
  LogPhase("pool_closed", fmt::format("n={} abandoned={}", closed.closed, closed.abandoned));
  return false;
}

bool Exit(ShutdownContext& c) {
  LogPhase("exit", fmt::format("code={}", c.exit_code));
  std::fflush(stdout);
  // _exit, not exit: after a failed step, workers may still run, and static
  // destructors must not pull anything from under them. Everything that
  // needs closing was closed by the steps before.
  ::_exit(c.exit_code);
}

}  // namespace

std::vector<ShutdownStep> DefaultShutdownSteps() {
  return {
      {"not_ready", false, NotReady},
      {"lame_duck", false, LameDuck},
      {"stop_accepting", false, StopAccepting},
      {"close_idle", false, CloseIdle},
      {"drain", false, Drain},
      {"join_workers", false, JoinWorkers},
      {"close_pool", true, ClosePool},
      {"exit", true, Exit},
  };
}

int RunShutdown(const std::vector<ShutdownStep>& steps, ShutdownContext& context) {
  context.deadline = Clock::now() + context.options.drain_timeout;
  bool failed = false;
  for (const ShutdownStep& step : steps) {
    if (failed && !step.cleanup) continue;
    if (!step.run(context)) {
      failed = true;
      context.exit_code = 1;
    }
  }
  return context.exit_code;
}

}  // namespace gracecheck::refapi
