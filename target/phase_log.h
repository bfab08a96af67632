// The shutdown-phase log of refapi: one line per phase on stderr,
//   refapi[PID] 2026-11-24T18:11:06.123456Z phase=NAME key=value...
// with a wall-clock UTC timestamp, so that the harness can put the server's
// own account of its shutdown on the same timeline as what clients saw.
//
// Threading: every function may be called from any thread. Each line goes out
// in a single write(2) (lines are far shorter than PIPE_BUF), so lines from
// different threads never interleave and nothing is left in a buffer when the
// process calls _exit.
#pragma once

#include <string_view>

namespace gracecheck::refapi {

// Logs `phase=NAME` followed by `fields` (already "key=value key=value").
void LogPhase(std::string_view phase, std::string_view fields = {});

// Prints "refapi: error: MESSAGE" on stderr, as one line.
void LogError(std::string_view message);

}  // namespace gracecheck::refapi
