// refapi: the reference API server that gracecheck tests. The seed's
// pattern in C++: serve HTTP on its own threads, wait for SIGINT/SIGTERM on
// another, then shut down step by step (shutdown_sequence.h): stop HTTP
// first, close the database only after. With --bug=NAME (bugs.h) it has one
// known shutdown bug more; with --workers N it is a pre-fork server
// (prefork.h) whose every worker is this.
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api.h"
#include "bug_variants.h"
#include "connection_pool.h"
#include "http_server.h"
#include "phase_log.h"
#include "prefork.h"
#include "refapi_options.h"
#include "shutdown_sequence.h"
#include "signals.h"

namespace gracecheck::refapi {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

// What ends the serving: the first signal, or the listen loop failing.
class ShutdownTrigger {
 public:
  void Fire(bool by_signal) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fired_) return;
      fired_ = true;
      by_signal_ = by_signal;
    }
    cv_.notify_all();
  }
  // Returns true if a signal fired it.
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return fired_; });
    return by_signal_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool fired_ = false;
  bool by_signal_ = false;
};

// Serves as the one process (no `gate`), or as a pre-fork worker on
// `listener` that tells its master through `gate` once it can serve (the
// master prints the address).
int Run(const Options& options, int listener, bool create_schema, StartGate* gate) {
  if (options.bugs.Has(Bug::kOrphanChild)) {
    const pid_t helper = StartOrphanHelper(options.db_url);
    LogPhase("helper_started", fmt::format("pid={}", helper));
  }
  UseStatements(options.statements);
  std::unique_ptr<ConnectionPool> pool;
  try {
    bool schema_created = !create_schema;
    pool = std::make_unique<ConnectionPool>(options.db_url, options.pool_size,
                                            [&schema_created](pqxx::connection& c) {
                                              if (!schema_created)
                                                CreateSchema(c);  // before statements on the table
                                              schema_created = true;
                                              PrepareStatements(c);
                                            });
  } catch (const std::exception& e) {
    LogError(fmt::format("cannot open the database pool: {}", e.what()));
    return kExitFailure;
  }

  std::atomic<bool> ready{true};
  HttpServer server(options.http_workers);
  std::unique_ptr<BugVariants> variants;
  if (!options.bugs.empty()) {
    try {
      variants = std::make_unique<BugVariants>(options, *pool, server);  // before RegisterApi
    } catch (const std::exception& e) {
      LogError(fmt::format("cannot start the --bug variant: {}", e.what()));
      return kExitFailure;
    }
  }
  RegisterApi(server, *pool, ready);
  if (gate) {
    server.Adopt(listener);
  } else {
    const int port = server.Bind(options.listen.host, options.listen.port);
    if (port < 0) {
      LogError(fmt::format("cannot listen on {}",
                           FormatHostPort(options.listen.host, options.listen.port)));
      return kExitFailure;
    }
    const std::string address = FormatHostPort(options.listen.host, port);
    std::printf("listening on %s\n", address.c_str());
    std::fflush(stdout);
    LogPhase("listening", "addr=" + address);
  }

  ShutdownTrigger trigger;
  std::function<bool()> accept_gate;
  if (gate) {
    accept_gate = [gate] {
      const bool go = gate->WaitForGo();
      LogPhase(go ? "serving" : "not_started");
      return go;
    };
  }
  server.Start(
      [&trigger](bool ok) {
        if (!ok) trigger.Fire(/*by_signal=*/false);
      },
      std::move(accept_gate));
  StartSignalThread([&trigger](int) { trigger.Fire(/*by_signal=*/true); });
  if (gate) {  // every thread runs; the accept thread waits at the gate
    LogPhase("worker_ready");
    gate->Ready();
  }

  ShutdownContext context{options, ready, server, *pool};
  context.exit_code = options.exit_code;
  context.variants = variants.get();
  if (!trigger.Wait()) {
    LogPhase("listener_failed");
    context.exit_code = kExitFailure;
  }
  const int code = RunShutdown(ShutdownSteps(options.bugs, options.drain), context);
  if (SecondSignalCame()) {  // "exit now", even when the drain ended first
    LogPhase("forced_exit");
    return kExitFailure;
  }
  return code;
}

}  // namespace
}  // namespace gracecheck::refapi

int main(int argc, char** argv) {
  using namespace gracecheck::refapi;
  // Before any thread exists, so that every thread inherits the mask and
  // only the signals thread takes SIGINT/SIGTERM.
  BlockShutdownSignals();
  std::vector<std::string_view> args(argv + 1, argv + argc);
  Options options;
  std::string error;
  if (!ParseOptions(args, &options, &error)) {
    LogError(error);
    return kExitUsage;
  }
  if (options.help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (options.bugs.Has(Bug::kIgnoreSigterm)) IgnoreSigterm();
  if (options.worker_processes > 0) {
    return RunPrefork(options,
                      [](const Options& worker, int listener, bool create_schema, StartGate& gate) {
                        return Run(worker, listener, create_schema, &gate);
                      });
  }
  return Run(options, /*listener=*/-1, /*create_schema=*/true, /*gate=*/nullptr);
}
