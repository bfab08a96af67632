// Durations as people write them in scenario files and on command lines:
// "1.5s", "800ms", "250us", "2m", "1h", and "0". A bare number without a unit
// is rejected (is "5" seconds or milliseconds?), except 0.
//
// Pure functions; safe to call from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gracecheck {

using Duration = std::chrono::nanoseconds;

// Parses a duration; on failure returns nullopt and, if `error` is given,
// stores a one-line reason ("unknown unit 'sec' (use ns, us, ms, s, m or h)").
std::optional<Duration> ParseDuration(std::string_view text, std::string* error = nullptr);

// Formats for people: "1.5s", "800ms", "42us", "0s". Round trips through
// ParseDuration to within the printed precision.
std::string FormatDuration(Duration d);

// Milliseconds as a double, for reports.
inline double ToMillis(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace gracecheck
