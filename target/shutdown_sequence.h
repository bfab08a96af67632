// refapi's graceful shutdown as data: an ordered list of named steps, run
// one after another on the main thread once the first SIGINT/SIGTERM came.
//
//   not_ready        /readyz answers 503                 phase=not_ready
//   lame_duck        keep serving for --lame-duck         phase=lame_duck_done
//   stop_accepting   listener closed (ECONNREFUSED);      phase=stopped_accepting
//                    later responses "Connection: close"
//   close_idle       idle keep-alive connections closed   phase=idle_closed n=K
//   drain            in-flight requests answered, their   phase=drained inflight=0
//                    connections closed
//   join_workers     the listen loop and workers ended    phase=workers_joined
//   close_pool       every pooled connection closed       phase=pool_closed n=N
//   exit             _exit(0), or 1 after a failed step   phase=exit code=C
//
// Idle connections are closed before the drain, not after it: left open,
// each would take (and be served) a new request while the drain waits, the
// very thing cpp-httplib's own stop() gets wrong. close_idle, drain and
// join_workers share one deadline, --drain-timeout after stop_accepting. A
// step that fails (its deadline passed) logs why, sets the exit code to 1
// and skips to the cleanup steps (close_pool, exit).
//
// Because the steps are data, a variant of the server can drop one or
// change their order (e.g. close the pool first) without a second copy of
// any step. ShutdownSteps() makes the --bug variants (bugs.h) that way:
//
//   db-first             close_pool moved before stop_accepting
//   no-db-close          close_pool dropped
//   no-lame-duck         lame_duck dropped
//   cancel-inflight      + cancel_inflight after stop_accepting
//                                                   phase=queries_cancelled n=K
//   reset-keepalive      close_idle replaced by reset_connections
//                                                   phase=connections_reset n=K
//   small-backlog        close_idle and drain dropped (stock cpp-httplib: stop, join)
//   hang-on-shutdown     + join_background after join_workers
//                                                   phase=joining_background
//   ack-before-commit    + stop_writer after join_workers
//                                                   phase=writer_stopped dropped=K
//   idle-in-transaction  + open_transaction before close_pool
//                                                   phase=transaction_left_open
//   exit-immediately     exit only (overrides the others)
//
// Threading: RunShutdown runs on one thread; the steps it calls are
// thread-safe against the HTTP workers still serving.
#pragma once

#include <atomic>
#include <chrono>
#include <string_view>
#include <vector>

#include "connection_pool.h"
#include "http_server.h"
#include "refapi_options.h"

namespace gracecheck::refapi {

class BugVariants;

struct ShutdownContext {
  const Options& options;
  std::atomic<bool>& ready;
  HttpServer& server;
  ConnectionPool& pool;
  std::chrono::steady_clock::time_point deadline;  // for close_idle..join_workers
  int exit_code = 0;
  BugVariants* variants = nullptr;  // set exactly when options.bugs is not empty
};

struct ShutdownStep {
  std::string_view name;
  // Cleanup steps run even after an earlier step failed.
  bool cleanup;
  // Returns false if the step failed (it logged why).
  bool (*run)(ShutdownContext& context);
};

// The correct order, as in the table above.
std::vector<ShutdownStep> DefaultShutdownSteps();

// The steps for --drain wait-for-clients (Node's server.close()): the
// listener closes but keep-alive goes on, and there is no close_idle, so the
// drain waits until every client has closed its connection (or the
// keep-alive timeout, 5 s, closed it): a correct server whose exit depends
// on its clients' FIN.
std::vector<ShutdownStep> WaitForClientsShutdownSteps();

// The correct order with the edits of `bugs`, as in the list above (several
// bugs apply their edits in that list's order); DefaultShutdownSteps() when
// `bugs` is empty.
std::vector<ShutdownStep> ShutdownSteps(const BugSet& bugs,
                                        DrainStyle drain = DrainStyle::kCloseIdle);

// Runs `steps` in order. The exit step ends the process; if the list has
// none, returns the exit code.
int RunShutdown(const std::vector<ShutdownStep>& steps, ShutdownContext& context);

}  // namespace gracecheck::refapi
