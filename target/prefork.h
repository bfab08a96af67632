// refapi --workers N: the pre-fork shape of gunicorn, uvicorn --workers,
// Puma's cluster mode and PHP-FPM. The master creates the schema, binds the
// listener and forks N workers, then only supervises: each worker serves on
// the shared listener with its own pool and runs its own shutdown sequence
// (shutdown_sequence.h), as a single refapi does.
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

// Serves as one worker on `listener`, the shared listening socket, with
// `options` (its own --bug list); returns the worker's exit code.
using WorkerMain = std::function<int(const Options& options, int listener)>;

// Runs the master of options.worker_processes workers; returns its exit code.
int RunPrefork(const Options& options, const WorkerMain& serve);

}  // namespace gracecheck::refapi
