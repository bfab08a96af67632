#include "integer.h"

#include <limits>

namespace gracecheck {

std::optional<std::int64_t> ParseInteger(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  std::int64_t value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -value : value;
}

}  // namespace gracecheck
