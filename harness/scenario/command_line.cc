#include "command_line.h"

#include <fmt/format.h>

namespace gracecheck {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsOperator(char c) {
  return c == '|' || c == '&' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')' ||
         c == '`';
}

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

std::optional<std::vector<std::string>> SplitCommandLine(std::string_view command,
                                                         std::string* error) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // distinguishes "" (an empty word) from no word at all
  std::size_t i = 0;
  const std::size_t n = command.size();
  while (i < n) {
    const char c = command[i];
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      const std::size_t close = command.find('\'', i + 1);
      if (close == std::string_view::npos) {
        Fail(error, fmt::format("unterminated single quote (opened at character {})", i + 1));
        return std::nullopt;
      }
      word.append(command.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const std::size_t open = i++;
      bool closed = false;
      while (i < n) {
        const char d = command[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < n) {
          const char e = command[i + 1];
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            word.push_back(e);
            i += 2;
            continue;
          }
          if (e == '\n') {
            i += 2;
            continue;
          }
        }
        word.push_back(d);
        ++i;
      }
      if (!closed) {
        Fail(error, fmt::format("unterminated double quote (opened at character {})", open + 1));
        return std::nullopt;
      }
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= n) {
        Fail(error, fmt::format("lone backslash at the end (character {})", i + 1));
        return std::nullopt;
      }
      if (command[i + 1] != '\n') {
        word.push_back(command[i + 1]);
        in_word = true;
      }
      i += 2;
    } else if (IsOperator(c)) {
      Fail(error,
           fmt::format("unquoted shell operator '{}' at character {}: gracecheck runs no shell; "
                       "quote it, or run the command through sh -c '…'",
                       c, i + 1));
      return std::nullopt;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) {
    Fail(error, "empty command");
    return std::nullopt;
  }
  return words;
}

std::string JoinCommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out.push_back(' ');
    bool plain = !word.empty();
    for (char c : word) {
      if (IsBlank(c) || IsOperator(c) || c == '\'' || c == '"' || c == '\\') plain = false;
    }
    if (plain) {
      out += word;
      continue;
    }
    out += SingleQuoted(word);
  }
  return out;
}

std::string SingleQuoted(std::string_view word) {
  // Single quotes keep everything but ' itself, which is written '\''.
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

}  // namespace gracecheck
