// The watchdog: what cleans up after a gracecheck that was SIGKILLed.
//
// Start() forks a small process (before any thread exists, so the copy is
// clean) that reads a pipe from gracecheck. gracecheck tells it what it
// owns: process groups (the target's) and directories (the cluster's). When
// the pipe closes without a goodbye, gracecheck died: the watchdog SIGKILLs
// every group it was told of (grandchildren that outlived the target's own
// parent-death signal included), waits for the postmasters to go, removes
// the directories, and exits. A normal exit says goodbye first.
//
// Threading: the functions may be called from any thread; a process without
// a watchdog (tests, or Start not called) ignores them.
#pragma once

#include <sys/types.h>

#include <string>

namespace gracecheck::watchdog {

// Call first thing in main, before any thread is created. Returns false if
// the watchdog could not be started (gracecheck then works without it) or
// GRACECHECK_NO_WATCHDOG=1.
bool Start();
void WatchGroup(pid_t pgid);
void ForgetGroup(pid_t pgid);
// A directory to remove after the groups are dead; `wait_pid`: a process to
// wait for first (the postmaster), 0 for none.
void WatchDir(const std::string& dir, pid_t wait_pid);
void ForgetDir(const std::string& dir);
// Normal exit: the watchdog leaves without touching anything.
void Goodbye();

}  // namespace gracecheck::watchdog
