// refapi --workers N: the pre-fork shape of gunicorn, uvicorn --workers,
// Puma's cluster mode and PHP-FPM. The master binds the listener and forks
// N workers, then only supervises: each worker serves on the shared
// listener with its own pool and runs its own shutdown sequence
// (shutdown_sequence.h), as a single refapi does.
//
// Startup: the master forks the first worker, which creates the schema on
// its pool's first connection (so that the master holds no session of its
// own), and once it is ready the others. A worker is ready when its pool is
// open and all its threads run, its accept thread waiting at a gate. Only
// when every worker is ready does the master listen(2), print "listening
// on", and open the gates: a client that can connect finds every worker
// up, and a thread count taken at readiness is the whole tree's. A worker
// that exits during startup, or a signal then, stops the others and the
// master exits 1.
//
// The master takes SIGINT and SIGTERM. At the first it closes its copy of
// the listener, forwards the signal to every worker and waits for them all:
// it exits with the --exit-code if every worker did, 1 otherwise. A second
// signal is forwarded too (the workers then exit at once) and the master
// exits 1 once they have. It gives its workers --lame-duck + --drain-timeout
// + 5 s after the first signal, then SIGKILLs the ones left and exits 1. A
// worker that exits while the others serve stops them (SIGTERM) and the
// master exits 1: there is no respawn.
//
// --bug=no-forward: the master exits at the first signal without telling
// its workers, which keep serving (a supervisor that neither forwards nor
// waits; the pre-fork cousin of an entrypoint that does not exec).
//
// Threading: the master is single-threaded; call RunPrefork() from main,
// after BlockShutdownSignals() and before any thread exists.
#pragma once

#include <functional>

#include "refapi_options.h"

namespace gracecheck::refapi {

// What a worker tells its master at startup (prefork.cc): Ready() once it
// can serve; then, on its accept thread, WaitForGo() blocks until the
// master listens (true) or gave up starting (false).
class StartGate {
 public:
  virtual ~StartGate() = default;
  virtual void Ready() = 0;
  virtual bool WaitForGo() = 0;
};

// Serves as one worker on `listener`, the shared socket (bound; listening
// once the gate opens), with `options` (its own --bug list); creates the
// schema if `create_schema`; returns the worker's exit code.
using WorkerMain =
    std::function<int(const Options& options, int listener, bool create_schema, StartGate& gate)>;

// Runs the master of options.worker_processes workers; returns its exit code.
int RunPrefork(const Options& options, const WorkerMain& serve);

}  // namespace gracecheck::refapi
