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

#include <functional>

namespace gracecheck::refapi {

void BlockShutdownSignals();

void StartSignalThread(std::function<void(int sig)> on_first_signal);

}  // namespace gracecheck::refapi
