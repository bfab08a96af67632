// Whole numbers from text, one way for all of gracecheck (scenario values,
// refapi's flags and query parameters).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gracecheck {

// A decimal integer, optionally signed, nothing else; nullopt on overflow.
std::optional<std::int64_t> ParseInteger(std::string_view s);

}  // namespace gracecheck
