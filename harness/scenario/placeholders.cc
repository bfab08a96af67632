#include "placeholders.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "spellcheck.h"

namespace gracecheck {

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-'; }
bool IsEnvChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Parses a whole decimal integer with optional sign.
std::optional<std::int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  const bool negative = s[0] == '-';
  std::uint64_t value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
  }
  const auto v = static_cast<std::int64_t>(value);
  return negative ? -v : v;
}

}  // namespace

// ---------------------------------------------------------------- Template

Template Template::Literal(std::string text) {
  Template t;
  t.source_ = text;
  if (!text.empty()) t.segments_.push_back({Kind::kLiteral, std::move(text), std::nullopt, 0, 0});
  return t;
}

std::optional<Template> Template::Compile(std::string_view text, const PlaceholderScope& scope,
                                          std::vector<TemplateError>* errors) {
  Template t;
  t.source_ = std::string(text);
  bool failed = false;
  std::string literal;
  auto fail = [&](std::size_t offset, std::string message) {
    failed = true;
    if (errors) errors->push_back({offset, std::move(message)});
  };
  auto flush = [&] {
    if (!literal.empty()) {
      t.segments_.push_back({Kind::kLiteral, std::move(literal), std::nullopt, 0, 0});
      literal.clear();
    }
  };
  auto add = [&](Segment segment) {
    flush();
    t.segments_.push_back(std::move(segment));
  };

  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c == '{' && i + 1 < n && text[i + 1] == '{') {
      literal.push_back('{');
      i += 2;
      continue;
    }
    if (c == '{' && i + 1 < n && IsNameStart(text[i + 1])) {
      std::size_t j = i + 1;
      while (j < n && IsNameChar(text[j])) ++j;
      if (j < n && (text[j] == '}' || text[j] == ':')) {
        const std::string name(text.substr(i + 1, j - i - 1));
        std::optional<std::string_view> args;
        std::size_t end = j;
        if (text[j] == ':') {
          end = text.find('}', j);
          if (end == std::string_view::npos) {
            fail(i, fmt::format("unclosed placeholder '{}' (write {{{{ for a literal brace)",
                                text.substr(i)));
            break;
          }
          args = text.substr(j + 1, end - j - 1);
        }
        const std::size_t at = i;
        i = end + 1;
        const bool is_binary =
            std::find(scope.binaries.begin(), scope.binaries.end(), name) != scope.binaries.end();
        if (name == "random") {
          if (!scope.per_request) {
            fail(at, "{random:A..B} changes per request and cannot be used here");
            continue;
          }
          const std::size_t dots = args ? args->find("..") : std::string_view::npos;
          std::optional<std::int64_t> lo, hi;
          if (dots != std::string_view::npos) {
            lo = ParseInt(args->substr(0, dots));
            hi = ParseInt(args->substr(dots + 2));
          }
          if (!lo || !hi) {
            fail(at, fmt::format("'{}' is not a random range (write e.g. {{random:1..1000}})",
                                 text.substr(at, i - at)));
          } else if (*lo > *hi) {
            fail(at, fmt::format("empty random range {}..{} (the first bound must not exceed the "
                                 "second)",
                                 *lo, *hi));
          } else {
            add({Kind::kRandom, {}, std::nullopt, *lo, *hi});
          }
          continue;
        }
        if (args && (name == "port" || name == "database_url" || name == "key" || is_binary)) {
          fail(at, fmt::format("{{{}}} takes no argument", name));
          continue;
        }
        if (name == "port") {
          add({Kind::kPort, {}, std::nullopt, 0, 0});
        } else if (name == "database_url") {
          add({Kind::kDatabaseUrl, {}, std::nullopt, 0, 0});
        } else if (name == "key") {
          if (!scope.per_request) {
            fail(at, "{key} changes per request and cannot be used here");
          } else {
            add({Kind::kKey, {}, std::nullopt, 0, 0});
          }
        } else if (is_binary) {
          add({Kind::kBinary, name, std::nullopt, 0, 0});
        } else {
          std::vector<std::string> known = {"port", "database_url"};
          if (scope.per_request) {
            known.push_back("key");
            known.push_back("random");
          }
          known.insert(known.end(), scope.binaries.begin(), scope.binaries.end());
          std::string message = fmt::format("unknown placeholder {{{}}}", name);
          if (auto guess = SpellCheck(name, known)) {
            message += fmt::format(" (did you mean {{{}}}?)", *guess);
          } else {
            std::string list;
            for (const auto& k : known)
              list += fmt::format("{}{{{}}}", list.empty() ? "" : ", ", k);
            message += fmt::format(" (known: {}; write {{{{ for a literal brace)", list);
          }
          fail(at, std::move(message));
        }
        continue;
      }
    }
    if (c == '$' && i + 1 < n && text[i + 1] == '{' && i + 2 < n && IsNameStart(text[i + 2])) {
      std::size_t j = i + 2;
      while (j < n && IsEnvChar(text[j])) ++j;
      const std::string name(text.substr(i + 2, j - i - 2));
      if (j < n && text[j] == '}') {
        add({Kind::kEnv, name, std::nullopt, 0, 0});
        i = j + 1;
        continue;
      }
      if (text.substr(j, 2) == ":-") {
        const std::size_t end = text.find('}', j);
        if (end == std::string_view::npos) {
          fail(i, fmt::format("unclosed '${{{}:-' (write ${{{}:-default}})", name, name));
          break;
        }
        add({Kind::kEnv, name, std::string(text.substr(j + 2, end - j - 2)), 0, 0});
        i = end + 1;
        continue;
      }
      fail(i, fmt::format("unsupported form '${{{}…' (write ${{{}}} or ${{{}:-default}})", name,
                          name, name));
      i = j;
      continue;
    }
    literal.push_back(c);
    ++i;
  }
  flush();
  if (failed) return std::nullopt;
  return t;
}

bool Template::has_request_slots() const {
  for (const Segment& s : segments_) {
    if (s.kind == Kind::kKey || s.kind == Kind::kRandom) return true;
  }
  return false;
}

std::optional<BoundTemplate> Template::Bind(const RunValues& values, std::string* error) const {
  BoundTemplate bound;
  auto append_literal = [&](std::string_view text) {
    if (text.empty()) return;
    if (!bound.segments_.empty() && bound.segments_.back().kind == BoundTemplate::Kind::kLiteral) {
      bound.segments_.back().text.append(text);
    } else {
      bound.segments_.push_back({BoundTemplate::Kind::kLiteral, std::string(text), 0, 0});
    }
  };
  auto fail = [&](std::string message) -> std::optional<BoundTemplate> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  for (const Segment& s : segments_) {
    switch (s.kind) {
      case Kind::kLiteral:
        append_literal(s.text);
        break;
      case Kind::kPort:
        append_literal(std::to_string(values.port));
        break;
      case Kind::kDatabaseUrl:
        append_literal(values.database_url);
        break;
      case Kind::kBinary: {
        auto it = values.binaries.find(s.text);
        if (it == values.binaries.end()) {
          return fail(fmt::format("{{{}}}: no such binary was built", s.text));
        }
        append_literal(it->second);
        break;
      }
      case Kind::kEnv: {
        std::optional<std::string> value;
        if (values.getenv) {
          value = values.getenv(s.text);
        } else if (const char* v = std::getenv(s.text.c_str())) {
          value = v;
        }
        if (value && !value->empty()) {
          append_literal(*value);
        } else if (s.fallback) {
          append_literal(*s.fallback);
        } else if (value) {
          append_literal("");  // set but empty, no default: empty, as in sh
        } else {
          return fail(
              fmt::format("environment variable {} is not set (write ${{{}:-default}} "
                          "to give a default)",
                          s.text, s.text));
        }
        break;
      }
      case Kind::kKey:
        bound.segments_.push_back({BoundTemplate::Kind::kKey, {}, 0, 0});
        break;
      case Kind::kRandom:
        bound.segments_.push_back({BoundTemplate::Kind::kRandom, {}, s.lo, s.hi});
        break;
    }
  }
  return bound;
}

std::optional<std::string> Template::Expand(const RunValues& values, std::string* error) const {
  if (has_request_slots()) {
    if (error) *error = fmt::format("'{}' has per-request placeholders", source_);
    return std::nullopt;
  }
  std::optional<BoundTemplate> bound = Bind(values, error);
  if (!bound) return std::nullopt;
  return bound->Expand(RequestValues{});
}

// ----------------------------------------------------------- BoundTemplate

bool BoundTemplate::uses_key() const {
  for (const Segment& s : segments_) {
    if (s.kind == Kind::kKey) return true;
  }
  return false;
}

void BoundTemplate::AppendTo(std::string* out, const RequestValues& values) const {
  for (const Segment& s : segments_) {
    switch (s.kind) {
      case Kind::kLiteral:
        out->append(s.text);
        break;
      case Kind::kKey:
        out->append(values.key);
        break;
      case Kind::kRandom: {
        // A caller that forgot its engine still gets numbers, not a crash.
        static thread_local std::mt19937_64 fallback;
        std::uniform_int_distribution<std::int64_t> dist(s.lo, s.hi);
        const fmt::format_int digits(dist(values.rng ? *values.rng : fallback));
        out->append(digits.data(), digits.size());
        break;
      }
    }
  }
}

std::string BoundTemplate::Expand(const RequestValues& values) const {
  std::string out;
  AppendTo(&out, values);
  return out;
}

}  // namespace gracecheck
