// How refapi takes SIGINT and SIGTERM: blocked in every thread and taken by
// one "signals" thread with sigwait. The first signal is logged
// (phase=signal) and handed to a callback that starts the shutdown; a second
// one means "exit now": phase=forced_exit and _exit(1), whatever the
// shutdown is doing.
//
// Threading: call BlockShutdownSignals() in main before any thread exists
// (threads inherit the mask), StartSignalThread() once afterwards. The
// callback runs on the signals thread.
#pragma once

#include <signal.h>

#include <functional>

namespace gracecheck::refapi {

void BlockShutdownSignals();

// SIGINT and SIGTERM, or SIGINT alone after IgnoreSigterm().
sigset_t ShutdownSignalSet();

void StartSignalThread(std::function<void(int sig)> on_first_signal);

// Logs phase=signal sig=SIGTERM (or the signal's name) for a signal taken.
void LogSignal(int sig);

// Called by main just before it exits after a graceful shutdown: true if a
// second signal came meanwhile, whether the signals thread took it (and is
// about to _exit(1)) or had not had the CPU to take it yet; one still
// pending is taken here (and logged). Under load the drain can end before
// the signals thread runs: a second SIGTERM sent 2.5 ms after the first was
// still pending when refapi exited 0, 15 ms later (2 of 50 soak runs of
// sigterm-on-log-line with a build sharing the cores).
bool SecondSignalCame();

// --bug=ignore-sigterm: SIGTERM's disposition becomes SIG_IGN and it is
// unblocked, so the kernel discards it on arrival, as it does for a PID 1
// (in a container) that installed no handler, or for a server started by a
// wrapper that ran `trap '' TERM` (an ignored disposition survives exec).
// The signals thread then takes SIGINT only. Call after
// BlockShutdownSignals(), before any thread starts.
void IgnoreSigterm();

}  // namespace gracecheck::refapi
