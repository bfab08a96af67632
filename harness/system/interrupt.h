// How gracecheck reacts to being interrupted (SIGINT, SIGTERM, SIGHUP).
//
// Install() blocks these signals in the calling thread (call it in main
// before any other thread exists, so every thread inherits the mask) and
// starts one thread that takes them with sigwait. The first signal only sets
// a flag: the main flow notices it at its next wait, unwinds
// (so that destructors stop the target, the cluster and remove temp dirs) and
// exits 130. A second signal exits 130 at once; children then die by their
// parent-death signal and the next start removes what is left on disk.
//
// Threading: every function may be called from any thread.
#pragma once

#include <stdexcept>

namespace gracecheck::interrupt {

// Thrown by the main flow when it notices the interrupt.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

void Install();
bool Requested();
// The signal that interrupted, 0 if none.
int Signal();
// Throws Interrupted if an interrupt was requested.
void ThrowIfRequested();

}  // namespace gracecheck::interrupt
