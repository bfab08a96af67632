// Splits a command written as one string ("--target go='./server -port {port}'")
// into an argv list the way a POSIX shell splits words, without running a
// shell: nothing is expanded, globbed or redirected.
//
// Rules (a subset of POSIX sh word splitting):
//   - blanks (space, tab, newline) separate words;
//   - '…' keeps everything literally, up to the next ';
//   - "…" keeps everything literally except \" \\ \$ \` and backslash-newline;
//   - outside quotes, \c is a literal c and backslash-newline joins lines;
//   - quotes next to other text join it into one word: a'b c'd is "ab cd";
//     "" is an empty word.
// Unquoted shell operators (| & ; < > ( ) and backquotes) are rejected rather
// than passed as arguments: a command that needs them must run through
// `sh -c '…'` (or `shell: true` in a scenario). Placeholders such as {port}
// and ${ENV} are left alone here; they are expanded per word later.
//
// Pure function; safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gracecheck {

// On failure returns nullopt and, if `error` is given, stores a one-line
// reason with the 1-based character position, e.g.
// "unterminated single quote (opened at character 9)".
std::optional<std::vector<std::string>> SplitCommandLine(std::string_view command,
                                                         std::string* error = nullptr);

// The inverse for display and logs: quotes each word only if it needs it, so
// that SplitCommandLine(JoinCommandLine(argv)) == argv.
std::string JoinCommandLine(const std::vector<std::string>& argv);
// `word` in single quotes, each ' written '\'': one word to sh, bash and
// fish whatever it holds (no expansion inside).
std::string SingleQuoted(std::string_view word);

}  // namespace gracecheck
