// Placeholders in scenario strings, and their expansion in two stages.
//
//   {port}             the free TCP port the harness picked for the target   (per run)
//   {database_url}     postgresql:// URL of the run's own database and role  (per run)
//   {NAME}             path of a built binary, e.g. {refapi}; the caller says
//                      which names exist                                      (per run)
//   ${NAME}            environment variable of the harness; ${NAME:-text}
//                      gives a default when it is unset or empty             (per run)
//   {key}              a key unique to the request (same value everywhere in
//                      that request: path, body, headers, write_key)          (per request)
//   {random:A..B}      a uniformly drawn integer in [A, B], drawn afresh for
//                      each occurrence                                        (per request)
//   {{                 a literal '{'. A '}' needs no escape, and a '{' that does
//                      not start a placeholder (e.g. JSON's '{"') is literal.
//
// A '{' starts a placeholder only when a name follows it directly and the name
// ends in '}' or ':'; an unknown name there is an error (with a did-you-mean),
// so that "{prot}" is caught when the scenario is validated, not at run time.
//
// Stage 1, once per run: Template::Bind fills the per-run values and yields a
// BoundTemplate holding only literal text and per-request slots. Stage 2, once
// per request: BoundTemplate::AppendTo walks the precompiled segments; it does
// no parsing and no allocation beyond the output string's growth.
//
// Threading: Template and BoundTemplate are immutable after construction;
// const methods may be called from any number of threads at once (each with
// its own random engine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace gracecheck {

// What a template may refer to where it appears in a scenario.
struct PlaceholderScope {
  bool per_request = false;           // {key} and {random:A..B} allowed (load requests only)
  std::vector<std::string> binaries;  // names usable as {NAME}, e.g. "refapi"
};

// A problem found while compiling a template.
struct TemplateError {
  std::size_t offset = 0;  // byte offset in the template text where the placeholder starts
  std::string message;     // "unknown placeholder {prot} (did you mean {port}?)"
};

// Values fixed for one run.
struct RunValues {
  int port = 0;
  std::string database_url;
  std::map<std::string, std::string> binaries;  // name -> path
  // Looks up ${NAME}; nullopt when unset. Empty function: the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// Values for one request.
struct RequestValues {
  std::string_view key;            // {key}
  std::mt19937_64* rng = nullptr;  // {random:A..B}; must be set if the template has one
};

// Literal text and per-request slots only: the result of stage 1.
class BoundTemplate {
 public:
  BoundTemplate() = default;

  bool is_literal() const {
    return segments_.empty() || (segments_.size() == 1 && segments_[0].kind == Kind::kLiteral);
  }
  bool uses_key() const;

  // Stage 2. Appends the expansion to *out.
  void AppendTo(std::string* out, const RequestValues& values) const;
  std::string Expand(const RequestValues& values) const;

 private:
  friend class Template;
  enum class Kind { kLiteral, kKey, kRandom };
  struct Segment {
    Kind kind;
    std::string text;             // kLiteral
    std::int64_t lo = 0, hi = 0;  // kRandom, inclusive
  };
  std::vector<Segment> segments_;
};

// A compiled template: the source text split into literal and placeholder
// segments.
class Template {
 public:
  Template() = default;  // the empty string

  // Compiles `text`. Every problem is appended to *errors (with its offset);
  // nullopt if there was any.
  static std::optional<Template> Compile(std::string_view text, const PlaceholderScope& scope,
                                         std::vector<TemplateError>* errors);
  // A template that is `text` verbatim (no placeholders are recognized in it).
  static Template Literal(std::string text);

  const std::string& source() const { return source_; }
  bool has_request_slots() const;

  // Stage 1. Fails (nullopt, reason in *error) when an environment variable
  // without default is unset or a binary is not in values.binaries.
  std::optional<BoundTemplate> Bind(const RunValues& values, std::string* error = nullptr) const;
  // Stage 1 for text that has no per-request slots (commands, env, SQL):
  // the final string.
  std::optional<std::string> Expand(const RunValues& values, std::string* error = nullptr) const;

 private:
  enum class Kind { kLiteral, kPort, kDatabaseUrl, kBinary, kEnv, kKey, kRandom };
  struct Segment {
    Kind kind;
    std::string text;                     // kLiteral: the text; kBinary, kEnv: the name
    std::optional<std::string> fallback;  // kEnv: ${NAME:-fallback}
    std::int64_t lo = 0, hi = 0;          // kRandom
  };
  std::string source_;
  std::vector<Segment> segments_;
};

}  // namespace gracecheck
