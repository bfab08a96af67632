// Loopback ports for the things gracecheck starts (the target, the embedded
// cluster). Everything listens on 127.0.0.1 only.
#pragma once

namespace gracecheck {

// A port that was free on 127.0.0.1 a moment ago (bind to port 0, read it,
// close). Another process may take it before it is used: callers that start
// a server on it retry with another when the bind fails. Not one of the
// last 256 it returned (runs made at once get different ports). Throws
// std::runtime_error if no socket can be bound.
int PickFreePort();

}  // namespace gracecheck
