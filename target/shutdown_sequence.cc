#include "shutdown_sequence.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "bug_variants.h"
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

// --drain wait-for-clients: the listener closes, and the connections
// already open go on as before (keep-alive included) until their clients
// close them, as after Node's server.close().
bool StopListening(ShutdownContext& c) {
  c.deadline = Clock::now() + c.options.drain_timeout;
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

// The steps that only the --bug variants have.

bool CancelInflight(ShutdownContext& c) {
  LogPhase("queries_cancelled", fmt::format("n={}", c.pool.CancelQueries()));
  return true;
}

bool ResetConnections(ShutdownContext& c) {
  const std::size_t n = c.variants != nullptr ? c.variants->ResetConnections() : 0;
  LogPhase("connections_reset", fmt::format("n={}", n));
  return true;
}

bool JoinBackground(ShutdownContext& c) {
  LogPhase("joining_background", "thread=housekeeper");
  if (c.variants != nullptr) c.variants->JoinHousekeeper();
  LogPhase("background_joined");
  return true;
}

bool StopWriter(ShutdownContext& c) {
  const std::size_t dropped = c.variants != nullptr ? c.variants->StopWriteBehind() : 0;
  LogPhase("writer_stopped", fmt::format("dropped={}", dropped));
  return true;
}

bool RefuseCheckouts(ShutdownContext& c) {
  c.pool.Refuse();
  LogPhase("pool_refusing");
  return true;
}

bool OpenTransaction(ShutdownContext& c) {
  LeaveTransactionOpen(c.pool);
  return true;
}

// Edits of a step list by step name; an edit whose anchor another bug has
// removed lands just before exit.
class StepEditor {
 public:
  explicit StepEditor(std::vector<ShutdownStep> steps) : steps_(std::move(steps)) {}

  std::vector<ShutdownStep>::iterator Find(std::string_view name) {
    return std::find_if(steps_.begin(), steps_.end(),
                        [name](const ShutdownStep& s) { return s.name == name; });
  }
  std::vector<ShutdownStep>::iterator AnchorOr(std::vector<ShutdownStep>::iterator at) {
    return at != steps_.end() ? at : Find("exit");
  }
  void Remove(std::string_view name) {
    if (auto at = Find(name); at != steps_.end()) steps_.erase(at);
  }
  void InsertBefore(std::string_view name, const ShutdownStep& step) {
    steps_.insert(AnchorOr(Find(name)), step);
  }
  void InsertAfter(std::string_view name, const ShutdownStep& step) {
    auto at = Find(name);
    steps_.insert(at != steps_.end() ? at + 1 : Find("exit"), step);
  }
  void Move(std::string_view name, std::string_view before) {
    auto at = Find(name);
    if (at == steps_.end()) return;
    const ShutdownStep step = *at;
    steps_.erase(at);
    InsertBefore(before, step);
  }
  void Replace(std::string_view name, const ShutdownStep& step) {
    if (auto at = Find(name); at != steps_.end()) *at = step;
  }
  void KeepOnly(std::string_view name) {
    steps_.erase(std::remove_if(steps_.begin(), steps_.end(),
                                [name](const ShutdownStep& s) { return s.name != name; }),
                 steps_.end());
  }
  std::vector<ShutdownStep> steps() && { return std::move(steps_); }

 private:
  std::vector<ShutdownStep> steps_;
};

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

std::vector<ShutdownStep> WaitForClientsShutdownSteps() {
  StepEditor e(DefaultShutdownSteps());
  e.Replace("stop_accepting", {"stop_accepting", false, StopListening});
  e.Remove("close_idle");
  return std::move(e).steps();
}

std::vector<ShutdownStep> ShutdownSteps(const BugSet& bugs, DrainStyle drain) {
  StepEditor e(drain == DrainStyle::kWaitForClients ? WaitForClientsShutdownSteps()
                                                    : DefaultShutdownSteps());
  if (bugs.empty()) return std::move(e).steps();
  if (bugs.Has(Bug::kDbFirst)) e.Move("close_pool", "stop_accepting");
  if (bugs.Has(Bug::kNoDbClose)) e.Remove("close_pool");
  if (bugs.Has(Bug::kNoLameDuck)) e.Remove("lame_duck");
  if (bugs.Has(Bug::kCancelInflight))
    e.InsertAfter("stop_accepting", {"cancel_inflight", false, CancelInflight});
  if (bugs.Has(Bug::kResetKeepalive))
    e.Replace("close_idle", {"reset_connections", false, ResetConnections});
  if (bugs.Has(Bug::kSmallBacklog)) {
    e.Remove("close_idle");
    e.Remove("drain");
  }
  if (bugs.Has(Bug::kHangOnShutdown))
    e.InsertAfter("join_workers", {"join_background", false, JoinBackground});
  if (bugs.Has(Bug::kAckBeforeCommit))
    e.InsertAfter("join_workers", {"stop_writer", true, StopWriter});
  if (bugs.Has(Bug::kIdleInTransaction))
    e.InsertBefore("close_pool", {"open_transaction", true, OpenTransaction});
  if (bugs.Has(Bug::kPoolRefuses))
    e.InsertBefore("not_ready", {"refuse_checkouts", false, RefuseCheckouts});
  if (bugs.Has(Bug::kExitImmediately)) e.KeepOnly("exit");
  return std::move(e).steps();
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
