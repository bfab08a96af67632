// "Did you mean …?" for names people mistype in scenario files and on the
// command line: the closest candidate by edit distance (optimal string
// alignment, so a swapped pair of letters costs one edit), if it is close
// enough to be a plausible typo.
//
// Pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gracecheck {

// Edits (insert, delete, substitute, swap adjacent) turning `a` into `b`.
// Case-insensitive: "Timeout" and "timeout" are 0 apart.
std::size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or nullopt when none is within
// max(1, word.size() / 3) edits. Ties go to the earlier candidate.
std::optional<std::string> SpellCheck(std::string_view word,
                                      const std::vector<std::string>& candidates);

}  // namespace gracecheck
