#include "duration.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace gracecheck {

namespace {

struct Unit {
  std::string_view suffix;
  double nanos;
};

constexpr Unit kUnits[] = {
    {"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
};

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text, std::string* error) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
    Fail(error, fmt::format("'{}' is not a duration (write e.g. 1.5s, 800ms, 2m)", text));
    return std::nullopt;
  }
  double value = std::strtod(std::string(number).c_str(), nullptr);
  if (unit.empty()) {
    if (value == 0.0) return Duration::zero();
    Fail(error, fmt::format("'{}' has no unit (write e.g. {}s or {}ms)", text, number, number));
    return std::nullopt;
  }
  for (const Unit& u : kUnits) {
    if (unit == u.suffix) {
      double nanos = value * u.nanos;
      if (!std::isfinite(nanos) || nanos > 9e18) {
        Fail(error, fmt::format("'{}' is too long", text));
        return std::nullopt;
      }
      return Duration(static_cast<Duration::rep>(std::llround(nanos)));
    }
  }
  Fail(error, fmt::format("'{}' has unknown unit '{}' (use ns, us, ms, s, m or h)", text, unit));
  return std::nullopt;
}

std::string FormatDuration(Duration d) {
  const auto ns = d.count();
  const auto abs_ns = ns < 0 ? -ns : ns;
  if (abs_ns == 0) return "0s";
  if (abs_ns >= 1'000'000'000) return fmt::format("{:g}s", static_cast<double>(ns) / 1e9);
  if (abs_ns >= 1'000'000) return fmt::format("{:g}ms", static_cast<double>(ns) / 1e6);
  if (abs_ns >= 1'000) return fmt::format("{:g}us", static_cast<double>(ns) / 1e3);
  return fmt::format("{}ns", ns);
}

}  // namespace gracecheck
