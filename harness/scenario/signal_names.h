// Signals by name and number, as scenarios write them and reports print
// them: "SIGTERM", "TERM", "term" and "15" are all 15. Pure functions.
#pragma once

#include <optional>
#include <string>

namespace gracecheck {

// Signal names: "SIGTERM", "TERM", "term", "15" -> 15; nullopt if unknown.
std::optional<int> ParseSignal(const std::string& name);
std::string SignalName(int sig);  // 15 -> "SIGTERM"; "signal 99" for a number without a name

}  // namespace gracecheck
