#include "scenario.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>
#include <tuple>

#include "command_line.h"
#include "scenario_warnings.h"
#include "spellcheck.h"
#include "subprocess.h"

namespace gracecheck {

// ------------------------------------------------------------ small values

std::string ScenarioError::ToString() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, col, message);
}

std::string_view ToString(SignalTarget to) {
  return to == SignalTarget::kGroup ? "group" : "process";
}

std::string_view ToString(LoadModel model) {
  return model == LoadModel::kClosed ? "closed" : "open";
}

namespace {

constexpr double kMaxRatePerSecond = 1e6;

}  // namespace

Duration Rate::Interval() const {
  return Duration(static_cast<Duration::rep>(std::llround(1e9 / per_second)));
}

std::string Rate::ToString() const { return fmt::format("{:g}/s", per_second); }

std::optional<Rate> ParseRate(std::string_view text, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<Rate> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return fail(fmt::format("'{}' is not a rate (write e.g. 500/s, 20/ms, 90/m)", text));
  }
  const std::string_view count = text.substr(0, slash);
  std::string_view per = text.substr(slash + 1);
  std::size_t digits = 0;
  while (digits < count.size() &&
         (std::isdigit(static_cast<unsigned char>(count[digits])) || count[digits] == '.')) {
    ++digits;
  }
  if (count.empty() || digits != count.size() || count == "." ||
      count.find('.') != count.rfind('.')) {
    return fail(
        fmt::format("'{}' is not a rate: '{}' is not a number (write e.g. 500/s)", text, count));
  }
  // "500/s" means 500 per 1s; "50/100ms" is vegeta's spelling.
  std::string unit(per);
  if (!per.empty() && !std::isdigit(static_cast<unsigned char>(per[0])) && per[0] != '.') {
    unit = "1" + unit;
  }
  std::string why;
  std::optional<Duration> period = ParseDuration(unit, &why);
  if (!period || period->count() <= 0) {
    return fail(
        fmt::format("'{}' is not a rate: '/{}' is not a unit of time (use /s, /ms, /m, "
                    "/h or e.g. /100ms)",
                    text, per));
  }
  const double n = std::strtod(std::string(count).c_str(), nullptr);
  const double per_second = n * 1e9 / static_cast<double>(period->count());
  if (!(per_second > 0)) return fail(fmt::format("rate '{}' must be more than 0", text));
  if (per_second > kMaxRatePerSecond) {
    return fail(fmt::format("rate '{}' is more than {:g}/s, beyond what one load generator paces",
                            text, kMaxRatePerSecond));
  }
  return Rate{per_second};
}

StatusSet StatusSet::Successful() {
  StatusSet s;
  s.Add(200, 299);
  return s;
}

void StatusSet::Add(int lo, int hi) { ranges_.emplace_back(lo, hi); }

bool StatusSet::Contains(int status) const {
  for (const auto& [lo, hi] : ranges_) {
    if (status >= lo && status <= hi) return true;
  }
  return false;
}

std::string StatusSet::ToString() const {
  std::string out;
  for (const auto& [lo, hi] : ranges_) {
    if (!out.empty()) out += ", ";
    if (lo == hi) {
      out += std::to_string(lo);
    } else if (lo % 100 == 0 && hi == lo + 99) {
      out += fmt::format("{}xx", lo / 100);
    } else {
      out += fmt::format("{}-{}", lo, hi);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> TargetSpec::Argv(const RunValues& values,
                                                         std::string* error) const {
  std::vector<std::string> argv;
  if (shell) {
    argv.push_back("/bin/sh");
    argv.push_back("-c");
  }
  for (const Template& word : command) {
    std::optional<std::string> expanded = word.Expand(values, error);
    if (!expanded) return std::nullopt;
    argv.push_back(std::move(*expanded));
  }
  return argv;
}

// ------------------------------------------------------------------ parser

namespace {

const std::vector<std::string> kTopKeys = {"name", "description", "target",
                                           "load", "faults",      "expect"};
const std::vector<std::string> kTargetKeys = {"command", "shell", "env", "ready", "signal_to"};
const std::vector<std::string> kReadyKeys = {"http_get", "timeout", "interval"};
const std::vector<std::string> kLoadKeys = {"model",      "rate",    "connections", "duration",
                                            "keep_alive", "timeout", "requests"};
const std::vector<std::string> kRequestKeys = {"weight",  "method",    "path",         "body",
                                               "headers", "write_key", "expect_status"};
const std::vector<std::string> kFaultKeys = {"name",  "at",         "timeout",    "send", "repeat",
                                             "every", "pause",      "kill_after", "db",   "load",
                                             "to",    "if_running", "tolerance"};
// One trigger kind per mapping (combine kinds with all/any); `delay` goes
// with `after`, `since` with `time`.
const std::vector<std::string> kTriggerKeys = {"time",     "since",    "after",     "delay",
                                               "requests", "inflight", "db_active", "log",
                                               "between",  "all",      "any"};
const std::vector<std::string> kTriggerKinds = {
    "time", "after", "requests", "inflight", "db_active", "log", "between", "all", "any"};
const std::vector<std::string> kActionKeys = {"send", "pause", "kill_after", "db", "load"};
const std::vector<std::string> kDbActions = {"terminate_sessions", "cancel_queries", "restart"};
const std::vector<std::string> kSinceChoices = {"load", "ready"};
const std::vector<std::string> kExpectKeys = {"dropped",
                                              "dropped_after_signal",
                                              "allow_after_signal",
                                              "exit",
                                              "lame_duck",
                                              "threads",
                                              "db_sessions",
                                              "writes"};
const std::vector<std::string> kExitKeys = {"code", "signal", "within"};
// expect.exit.code's word for "0, or 128+N after signal N" (ExitExpectation).
constexpr char kGracefulExit[] = "graceful";
const std::vector<std::string> kThreadKeys = {"growth", "at_exit"};
const std::vector<std::string> kDbKeys = {
    "after_exit", "abandoned", "closed_before_drain", "orphaned_queries", "idle_in_transaction",
    "max",        "settle"};
const std::vector<std::string> kWritesKeys = {"lost", "verify_sql"};
const std::vector<std::string> kSignalTargets = {"process", "group"};
const std::vector<std::string> kModels = {"open", "closed"};
// Outcomes (timeline names) that allow_after_signal may excuse.
const std::vector<std::string> kOutcomes = {"http_error", "refused",   "idle_closed", "reset",
                                            "eof",        "truncated", "timeout"};

// YAML 1.1 booleans, as PyYAML reads them, so that the parser and the JSON
// Schema check agree.
const std::vector<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes",
                                        "YES",  "on",   "On",   "ON"};
const std::vector<std::string> kFalse = {"false", "False", "FALSE", "no", "No",
                                         "NO",    "off",   "Off",   "OFF"};

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

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

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok) return false;
  }
  return true;
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Stem(const std::string& path) {
  std::string base =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const std::size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 100 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// A mapping's entry: the key node (for its position) and the value.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

SourcePos PosOf(const YAML::Node& node) { return {node.Mark().line + 1, node.Mark().column + 1}; }

// A mapping's entries in file order, looked up by key.
class Map {
 public:
  void Add(Entry e) { entries_.push_back(std::move(e)); }
  const Entry* Find(std::string_view key) const {
    for (const Entry& e : entries_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

class Parser {
 public:
  Parser(std::string file, std::string_view text, const ParseOptions& options)
      : file_(std::move(file)), text_(text), options_(options) {}

  ParseResult Run();

 private:
  // ---- reporting
  void Error(const YAML::Mark& mark, std::string message) {
    ScenarioError e;
    e.file = file_;
    e.line = mark.line >= 0 ? mark.line + 1 : 0;
    e.col = mark.line >= 0 ? mark.column + 1 : 0;
    e.message = std::move(message);
    errors_.push_back(std::move(e));
  }
  // Where a value is: a missing value ("key:" and nothing) has no useful
  // position of its own, so point at its key.
  static YAML::Mark Where(const Entry& e) {
    return e.value.IsNull() || e.value.Mark().line < 0 ? e.key_node.Mark() : e.value.Mark();
  }
  static std::string Describe(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Scalar: {
        std::string s = node.Scalar();
        if (s.size() > 40) s = s.substr(0, 37) + "...";
        return node.Tag() == "!" ? fmt::format("the string \"{}\"", s) : fmt::format("'{}'", s);
      }
      default:
        return "nothing";
    }
  }
  // The position of byte `offset` of a scalar's value, when the value appears
  // verbatim in the file (one line, no escapes); else the scalar's start.
  YAML::Mark OffsetMark(const YAML::Node& scalar, std::size_t offset) const {
    YAML::Mark mark = scalar.Mark();
    if (mark.pos < 0) return mark;
    const std::string& value = scalar.Scalar();
    std::size_t start = static_cast<std::size_t>(mark.pos);
    if (start < text_.size() && (text_[start] == '"' || text_[start] == '\'')) ++start;
    if (value.find('\n') == std::string::npos && text_.substr(start, value.size()) == value) {
      mark.column += static_cast<int>(start - static_cast<std::size_t>(mark.pos) + offset);
    }
    return mark;
  }

  // ---- structure
  // Reads a mapping, reporting duplicate and unknown keys (with a guess).
  // nullopt, with an error, if `node` is not a mapping.
  std::optional<Map> ReadMap(const YAML::Node& node, const YAML::Mark& where,
                             const std::string& path, const std::vector<std::string>& known,
                             const std::vector<std::string>& future = {});
  // A mapping whose keys are data (env, headers): duplicates are reported,
  // any name is accepted.
  std::optional<Map> ReadOpenMap(const YAML::Node& node, const YAML::Mark& where,
                                 const std::string& path, std::string_view what);
  // Reports a key that repeats an earlier one; true if it does.
  bool Duplicate(const Map& map, const YAML::Node& key, const std::string& in);
  bool ExpectList(const Entry& e, const std::string& path);
  void Missing(const YAML::Mark& where, const std::string& path, std::string_view key,
               std::string_view hint = "");

  // ---- scalars
  std::optional<std::string> ReadText(const YAML::Node& node, const YAML::Mark& where,
                                      const std::string& path);
  std::optional<std::string> ReadText(const Entry& e, const std::string& path) {
    return ReadText(e.value, Where(e), path);
  }
  std::optional<std::int64_t> ReadInt(const YAML::Node& node, const YAML::Mark& where,
                                      const std::string& path, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> ReadInt(const Entry& e, const std::string& path, std::int64_t min,
                                      std::int64_t max) {
    return ReadInt(e.value, Where(e), path, min, max);
  }
  std::optional<bool> ReadBool(const Entry& e, const std::string& path);
  // A duration; `positive`: 0 is not allowed.
  std::optional<Duration> ReadDuration(const Entry& e, const std::string& path, bool positive);
  std::optional<Template> ReadTemplate(const YAML::Node& node, const YAML::Mark& where,
                                       const std::string& path, bool per_request);
  std::optional<Template> ReadTemplate(const Entry& e, const std::string& path, bool per_request) {
    return ReadTemplate(e.value, Where(e), path, per_request);
  }
  // One of `choices`, with a guess when it is none of them.
  std::optional<std::string> ReadChoice(const Entry& e, const std::string& path,
                                        const std::vector<std::string>& choices);
  std::optional<int> ReadSignal(const Entry& e, const std::string& path);
  // expect.exit.code: a code (0..255), `graceful`, or a list of them.
  void ReadExitCodes(const Entry& e, ExitExpectation* exit);
  // A status (404), a class ("5xx") or a list of them into *set; outcome
  // names too when `outcomes` is given.
  bool ReadStatuses(const Entry& e, const std::string& path, StatusSet* set,
                    std::vector<std::string>* outcomes);
  // Integer fields narrowed into their int members.
  void ReadIntInto(const Map& m, std::string_view key, const std::string& path, std::int64_t min,
                   std::int64_t max, int* out) {
    if (const Entry* e = m.Find(key)) {
      if (auto v = ReadInt(*e, path + "." + std::string(key), min, max)) {
        *out = static_cast<int>(*v);
      }
    }
  }
  void ReadDurationInto(const Map& m, std::string_view key, const std::string& path, bool positive,
                        Duration* out) {
    if (const Entry* e = m.Find(key)) {
      if (auto v = ReadDuration(*e, path + "." + std::string(key), positive)) *out = *v;
    }
  }

  // ---- sections
  void ReadTarget(const Entry& e, TargetSpec* target);
  void ReadLoad(const Entry& e, LoadSpec* load);
  void ReadRequest(const YAML::Node& node, const std::string& path, RequestSpec* request);
  void ReadFaults(const Entry& e, SignalTarget default_to, std::vector<Fault>* faults);
  void ReadTrigger(const Entry& e, const std::string& path, const std::vector<Fault>& earlier,
                   const std::vector<std::string>& earlier_names, Trigger* trigger);
  void ReadAction(const Map& m, const YAML::Node& item, const std::string& path, Fault* fault);
  void ReadExpect(const Entry& e, Expectations* expect);

  std::string file_;
  std::string_view text_;
  const ParseOptions& options_;
  std::vector<ScenarioError> errors_;
};

bool Parser::Duplicate(const Map& map, const YAML::Node& key, const std::string& in) {
  if (!key.IsScalar()) {
    Error(key.Mark(), fmt::format("keys {} must be names, got {}", in, Describe(key)));
    return true;
  }
  if (const Entry* first = map.Find(key.Scalar())) {
    Error(key.Mark(), fmt::format("duplicate key '{}' {} (first given on line {})", key.Scalar(),
                                  in, first->key_node.Mark().line + 1));
    return true;
  }
  return false;
}

std::optional<Map> Parser::ReadOpenMap(const YAML::Node& node, const YAML::Mark& where,
                                       const std::string& path, std::string_view what) {
  if (!node.IsMap()) {
    Error(where, fmt::format("{}: expected a mapping of {}, got {}", path, what, Describe(node)));
    return std::nullopt;
  }
  Map map;
  for (const auto& kv : node) {
    if (Duplicate(map, kv.first, "in " + path)) continue;
    map.Add({kv.first.Scalar(), kv.first, kv.second});
  }
  return map;
}

std::optional<Map> Parser::ReadMap(const YAML::Node& node, const YAML::Mark& where,
                                   const std::string& path, const std::vector<std::string>& known,
                                   const std::vector<std::string>& future) {
  if (!node.IsMap()) {
    Error(where, fmt::format("{}: expected a mapping ({}), got {}",
                             path.empty() ? "scenario" : path, JoinNames(known), Describe(node)));
    return std::nullopt;
  }
  Map map;
  const std::string in = path.empty() ? "at the top level" : "in " + path;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    if (Duplicate(map, key, in)) continue;
    const std::string name = key.Scalar();
    if (!Contains(known, name)) {
      if (Contains(future, name)) {
        Error(key.Mark(), fmt::format("'{}' {} is not supported yet (supported: {})", name, in,
                                      JoinNames(known)));
      } else if (auto guess = SpellCheck(name, known)) {
        Error(key.Mark(),
              fmt::format("unknown key '{}' {} (did you mean '{}'?)", name, in, *guess));
      } else {
        Error(key.Mark(),
              fmt::format("unknown key '{}' {} (expected one of: {})", name, in, JoinNames(known)));
      }
      continue;
    }
    map.Add({name, key, kv.second});
  }
  return map;
}

bool Parser::ExpectList(const Entry& e, const std::string& path) {
  if (e.value.IsSequence()) return true;
  Error(Where(e), fmt::format("{}: expected a list, got {}", path, Describe(e.value)));
  return false;
}

void Parser::Missing(const YAML::Mark& where, const std::string& path, std::string_view key,
                     std::string_view hint) {
  Error(where, fmt::format("{}: missing required key '{}'{}", path.empty() ? "scenario" : path, key,
                           hint));
}

std::optional<std::string> Parser::ReadText(const YAML::Node& node, const YAML::Mark& where,
                                            const std::string& path) {
  if (!node.IsScalar()) {
    Error(where, fmt::format("{}: expected text, got {}", path, Describe(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::int64_t> Parser::ReadInt(const YAML::Node& node, const YAML::Mark& where,
                                            const std::string& path, std::int64_t min,
                                            std::int64_t max) {
  std::optional<std::int64_t> value;
  if (node.IsScalar() && node.Tag() == "?") value = ParseInteger(node.Scalar());
  if (!value) {
    Error(where, fmt::format("{}: expected a whole number, got {}", path, Describe(node)));
    return std::nullopt;
  }
  if (*value < min) {
    Error(where, fmt::format("{}: must be at least {}, got {}", path, min, *value));
    return std::nullopt;
  }
  if (*value > max) {
    Error(where, fmt::format("{}: must be at most {}, got {}", path, max, *value));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Parser::ReadBool(const Entry& e, const std::string& path) {
  if (e.value.IsScalar() && e.value.Tag() == "?") {
    if (Contains(kTrue, e.value.Scalar())) return true;
    if (Contains(kFalse, e.value.Scalar())) return false;
  }
  Error(Where(e), fmt::format("{}: expected true or false, got {}", path, Describe(e.value)));
  return std::nullopt;
}

std::optional<Duration> Parser::ReadDuration(const Entry& e, const std::string& path,
                                             bool positive) {
  if (!e.value.IsScalar()) {
    Error(Where(e), fmt::format("{}: expected a duration such as 1.5s or 800ms, got {}", path,
                                Describe(e.value)));
    return std::nullopt;
  }
  std::string why;
  std::optional<Duration> d = ParseDuration(e.value.Scalar(), &why);
  if (!d) {
    Error(Where(e), fmt::format("{}: {}", path, why));
    return std::nullopt;
  }
  if (positive && d->count() <= 0) {
    Error(Where(e), fmt::format("{}: must be longer than 0", path));
    return std::nullopt;
  }
  return d;
}

std::optional<Template> Parser::ReadTemplate(const YAML::Node& node, const YAML::Mark& where,
                                             const std::string& path, bool per_request) {
  std::optional<std::string> text = ReadText(node, where, path);
  if (!text) return std::nullopt;
  PlaceholderScope scope;
  scope.per_request = per_request;
  scope.binaries = options_.binaries;
  std::vector<TemplateError> problems;
  std::optional<Template> t = Template::Compile(*text, scope, &problems);
  for (const TemplateError& p : problems) {
    Error(OffsetMark(node, p.offset), fmt::format("{}: {}", path, p.message));
  }
  return t;
}

std::optional<std::string> Parser::ReadChoice(const Entry& e, const std::string& path,
                                              const std::vector<std::string>& choices) {
  std::optional<std::string> text;
  if (e.value.IsScalar()) text = e.value.Scalar();
  if (text && Contains(choices, *text)) return text;
  std::string message = fmt::format(
      "{}: expected {}, got {}", path,
      choices.size() == 2 ? choices[0] + " or " + choices[1] : "one of " + JoinNames(choices),
      Describe(e.value));
  if (text) {
    if (auto guess = SpellCheck(*text, choices))
      message += fmt::format(" (did you mean '{}'?)", *guess);
  }
  Error(Where(e), std::move(message));
  return std::nullopt;
}

std::optional<int> Parser::ReadSignal(const Entry& e, const std::string& path) {
  if (!e.value.IsScalar()) {
    Error(Where(e), fmt::format("{}: expected a signal such as SIGTERM or 15, got {}", path,
                                Describe(e.value)));
    return std::nullopt;
  }
  const std::string& text = e.value.Scalar();
  std::optional<int> sig = ParseSignal(text);
  if (sig && *sig > 0 && *sig < 65) return sig;
  if (sig || ParseInteger(text)) {
    Error(Where(e), fmt::format("{}: {} is not a signal number (1 to 64)", path, text));
    return std::nullopt;
  }
  // Compare bare names ("TREM" with "TERM"), so that the common "SIG"
  // prefix does not make unrelated names look close.
  std::vector<std::string> names;
  for (int s = 1; s < 32; ++s) {
    std::string name = SignalName(s);
    if (name.rfind("SIG", 0) == 0) names.push_back(name.substr(3));
  }
  std::string bare = text;
  for (char& c : bare) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (bare.rfind("SIG", 0) == 0) bare = bare.substr(3);
  std::string message = fmt::format("{}: unknown signal '{}'", path, text);
  if (auto guess = SpellCheck(bare, names)) {
    message += fmt::format(" (did you mean SIG{}?)", *guess);
  } else {
    message += " (write a name such as SIGTERM, or a number)";
  }
  Error(Where(e), std::move(message));
  return std::nullopt;
}

void Parser::ReadExitCodes(const Entry& e, ExitExpectation* exit) {
  const std::string path = "expect.exit.code";
  std::vector<YAML::Node> items;
  if (e.value.IsSequence()) {
    for (const auto& item : e.value) items.push_back(item);
    if (items.empty()) {
      Error(Where(e), fmt::format("{}: empty list", path));
      return;
    }
  } else {
    items.push_back(e.value);
  }
  std::vector<int> codes;
  bool graceful = false;
  bool ok = true;
  for (const YAML::Node& item : items) {
    const YAML::Mark where = item.IsNull() ? Where(e) : item.Mark();
    const bool plain = item.IsScalar() && item.Tag() == "?";
    if (plain && item.Scalar() == kGracefulExit) {
      if (graceful) {
        Error(where, fmt::format("{}: {} is listed twice", path, kGracefulExit));
        ok = false;
      }
      graceful = true;
      continue;
    }
    if (plain && ParseInteger(item.Scalar())) {
      std::optional<std::int64_t> v = ReadInt(item, where, path, 0, 255);
      if (!v) {
        ok = false;
      } else if (std::find(codes.begin(), codes.end(), *v) != codes.end()) {
        Error(where, fmt::format("{}: {} is listed twice", path, *v));
        ok = false;
      } else {
        codes.push_back(static_cast<int>(*v));
      }
      continue;
    }
    std::string message = fmt::format(
        "{}: expected an exit code (0 to 255), {} (0, or 128+N after signal N), or a list of "
        "them, got {}",
        path, kGracefulExit, Describe(item));
    if (item.IsScalar()) {
      if (auto guess = SpellCheck(item.Scalar(), {kGracefulExit}))
        message += fmt::format(" (did you mean '{}'?)", *guess);
    }
    Error(where, std::move(message));
    ok = false;
  }
  if (!ok) return;
  if (graceful && std::find(codes.begin(), codes.end(), 0) == codes.end()) {
    codes.insert(codes.begin(), 0);
  }
  exit->codes = std::move(codes);
  exit->graceful = graceful;
}

bool Parser::ReadStatuses(const Entry& e, const std::string& path, StatusSet* set,
                          std::vector<std::string>* outcomes) {
  std::vector<YAML::Node> items;
  if (e.value.IsSequence()) {
    for (const auto& item : e.value) items.push_back(item);
    if (items.empty()) {
      Error(Where(e), fmt::format("{}: empty list", path));
      return false;
    }
  } else {
    items.push_back(e.value);
  }
  bool ok = true;
  const std::string what = outcomes ? "a status (503), a class (5xx) or an outcome (reset, eof, "
                                      "truncated, timeout, http_error)"
                                    : "a status (200), a class (2xx) or a list of them";
  for (const YAML::Node& item : items) {
    const YAML::Mark where = item.IsNull() ? Where(e) : item.Mark();
    if (!item.IsScalar()) {
      Error(where, fmt::format("{}: expected {}, got {}", path, what, Describe(item)));
      ok = false;
      continue;
    }
    const std::string& s = item.Scalar();
    if (auto code = ParseInteger(s); code && item.Tag() == "?") {
      if (*code < 100 || *code > 599) {
        Error(where, fmt::format("{}: {} is not an HTTP status (100 to 599)", path, *code));
        ok = false;
      } else {
        set->Add(static_cast<int>(*code), static_cast<int>(*code));
      }
    } else if (s.size() == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
               (s[2] == 'x' || s[2] == 'X')) {
      const int lo = (s[0] - '0') * 100;
      set->Add(lo, lo + 99);
    } else if (outcomes && Contains(kOutcomes, s)) {
      outcomes->push_back(s);
    } else {
      std::string message = fmt::format("{}: expected {}, got {}", path, what, Describe(item));
      if (outcomes) {
        if (auto guess = SpellCheck(s, kOutcomes))
          message += fmt::format(" (did you mean '{}'?)", *guess);
      }
      Error(where, std::move(message));
      ok = false;
    }
  }
  return ok;
}

// ----------------------------------------------------------------- target

void Parser::ReadTarget(const Entry& e, TargetSpec* target) {
  std::optional<Map> m = ReadMap(e.value, Where(e), "target", kTargetKeys);
  if (!m) return;
  if (const Entry* s = m->Find("shell")) {
    if (auto v = ReadBool(*s, "target.shell")) target->shell = *v;
  }
  if (const Entry* c = m->Find("command")) {
    const YAML::Node& node = c->value;
    if (target->shell) {
      if (!node.IsScalar()) {
        Error(Where(*c), fmt::format("target.command: with shell: true, expected the script as "
                                     "one string, got {}",
                                     Describe(node)));
      } else if (auto t = ReadTemplate(*c, "target.command", false)) {
        if (t->source().find_first_not_of(" \t\r\n") == std::string::npos) {
          Error(Where(*c), "target.command: empty script");
        }
        target->command.push_back(std::move(*t));
      }
    } else if (node.IsScalar()) {
      std::string why;
      std::optional<std::vector<std::string>> words = SplitCommandLine(node.Scalar(), &why);
      if (!words) {
        Error(Where(*c), fmt::format("target.command: {}", why));
      } else {
        for (const std::string& word : *words) {
          PlaceholderScope scope;
          scope.binaries = options_.binaries;
          std::vector<TemplateError> problems;
          std::optional<Template> t = Template::Compile(word, scope, &problems);
          for (const TemplateError& p : problems) {
            Error(Where(*c), fmt::format("target.command: {}", p.message));
          }
          if (t) target->command.push_back(std::move(*t));
        }
      }
    } else if (node.IsSequence()) {
      if (node.size() == 0) {
        Error(Where(*c), "target.command: empty list (give the program and its arguments)");
      }
      std::size_t i = 0;
      for (const auto& item : node) {
        const std::string path = fmt::format("target.command[{}]", i++);
        const YAML::Mark where = item.Mark().line >= 0 ? item.Mark() : Where(*c);
        if (auto t = ReadTemplate(item, where, path, false)) {
          if (i == 1 && t->source().empty()) Error(where, path + ": the program is empty");
          target->command.push_back(std::move(*t));
        }
      }
    } else {
      Error(Where(*c), fmt::format("target.command: expected a list of arguments or one string, "
                                   "got {}",
                                   Describe(node)));
    }
  } else {
    Missing(e.key_node.Mark(), "target", "command",
            " (e.g. command: [\"{refapi}\", \"--listen\", \"127.0.0.1:{port}\"])");
  }
  if (const Entry* env = m->Find("env")) {
    if (std::optional<Map> vars =
            ReadOpenMap(env->value, Where(*env), "target.env", "variable names to values")) {
      for (const Entry& var : vars->entries()) {
        if (!IsEnvName(var.key)) {
          Error(var.key_node.Mark(),
                fmt::format("target.env: '{}' is not a variable name (letters, digits and '_', "
                            "not starting with a digit)",
                            var.key));
        } else if (auto t = ReadTemplate(var, "target.env." + var.key, false)) {
          target->env.emplace_back(var.key, std::move(*t));
        }
      }
    }
  }
  if (const Entry* r = m->Find("ready")) {
    if (std::optional<Map> ready = ReadMap(r->value, Where(*r), "target.ready", kReadyKeys)) {
      if (const Entry* g = ready->Find("http_get")) {
        if (auto t = ReadTemplate(*g, "target.ready.http_get", false)) {
          if (t->source().empty() || t->source()[0] != '/') {
            Error(Where(*g), fmt::format("target.ready.http_get: expected a path starting with "
                                         "'/', got {}",
                                         Describe(g->value)));
          } else {
            target->ready.http_get = std::move(*t);
          }
        }
      }
      ReadDurationInto(*ready, "timeout", "target.ready", true, &target->ready.timeout);
      ReadDurationInto(*ready, "interval", "target.ready", true, &target->ready.interval);
    }
  }
  if (const Entry* s = m->Find("signal_to")) {
    if (auto v = ReadChoice(*s, "target.signal_to", kSignalTargets)) {
      target->signal_to = *v == "group" ? SignalTarget::kGroup : SignalTarget::kProcess;
    }
  }
}

// ------------------------------------------------------------------- load

void Parser::ReadLoad(const Entry& e, LoadSpec* load) {
  std::optional<Map> m = ReadMap(e.value, Where(e), "load", kLoadKeys);
  if (!m) return;
  if (const Entry* model = m->Find("model")) {
    if (auto v = ReadChoice(*model, "load.model", kModels)) {
      load->model = *v == "closed" ? LoadModel::kClosed : LoadModel::kOpen;
    }
  }
  if (const Entry* r = m->Find("rate")) {
    if (load->model == LoadModel::kClosed) {
      Error(r->key_node.Mark(),
            "load.rate: applies only to model: open (the closed model runs "
            "`connections` loops back to back, as fast as the target answers)");
    } else if (!r->value.IsScalar()) {
      Error(Where(*r),
            fmt::format("load.rate: expected a rate such as 500/s, got {}", Describe(r->value)));
    } else {
      std::string why;
      load->rate = ParseRate(r->value.Scalar(), &why);
      if (!load->rate) Error(Where(*r), "load.rate: " + why);
    }
  } else if (load->model == LoadModel::kOpen) {
    Missing(e.key_node.Mark(), "load", "rate", " (model: open sends at a rate, e.g. rate: 500/s)");
  }
  ReadIntInto(*m, "connections", "load", 1, 10000, &load->connections);
  ReadDurationInto(*m, "duration", "load", true, &load->duration);
  if (const Entry* k = m->Find("keep_alive")) {
    if (auto v = ReadBool(*k, "load.keep_alive")) load->keep_alive = *v;
  }
  ReadDurationInto(*m, "timeout", "load", true, &load->timeout);
  if (const Entry* r = m->Find("requests")) {
    if (ExpectList(*r, "load.requests")) {
      if (r->value.size() == 0) {
        Error(Where(*r), "load.requests: empty list (give at least one request)");
      }
      std::size_t i = 0;
      for (const auto& item : r->value) {
        RequestSpec request;
        const std::string path = fmt::format("load.requests[{}]", i++);
        ReadRequest(item, path, &request);
        load->requests.push_back(std::move(request));
      }
    }
  } else {
    Missing(e.key_node.Mark(), "load", "requests",
            " (e.g. requests: [{method: GET, path: /healthz}])");
  }
}

void Parser::ReadRequest(const YAML::Node& node, const std::string& path, RequestSpec* request) {
  const YAML::Mark where = node.Mark();
  request->pos = {where.line + 1, where.column + 1};
  std::optional<Map> m = ReadMap(node, where, path, kRequestKeys);
  if (!m) return;
  ReadIntInto(*m, "weight", path, 1, 1000000, &request->weight);
  if (const Entry* me = m->Find("method")) {
    if (auto v = ReadText(*me, path + ".method")) {
      std::string upper = *v;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!IsToken(*v)) {
        Error(Where(*me), fmt::format("{}.method: '{}' is not an HTTP method", path, *v));
      } else if (upper != *v) {
        Error(Where(*me), fmt::format("{}.method: '{}' is not upper case (methods are "
                                      "case-sensitive; write {})",
                                      path, *v, upper));
      } else {
        request->method = *v;
      }
    }
  }
  if (const Entry* p = m->Find("path")) {
    if (auto t = ReadTemplate(*p, path + ".path", true)) {
      const std::string& s = t->source();
      if (s.empty() || s[0] != '/') {
        Error(Where(*p), fmt::format("{}.path: expected a path starting with '/', got {}", path,
                                     Describe(p->value)));
      } else if (std::size_t bad = s.find_first_of(" \t\r\n"); bad != std::string::npos) {
        Error(OffsetMark(p->value, bad),
              fmt::format("{}.path: contains white space (percent-encode it, e.g. %20)", path));
      } else {
        request->path = std::move(*t);
      }
    }
  } else {
    Missing(where, path, "path", " (e.g. path: /items/{random:1..1000})");
  }
  if (const Entry* b = m->Find("body")) {
    if (auto t = ReadTemplate(*b, path + ".body", true)) request->body = std::move(*t);
  }
  if (const Entry* h = m->Find("headers")) {
    if (std::optional<Map> headers =
            ReadOpenMap(h->value, Where(*h), path + ".headers", "header names to values")) {
      for (const Entry& header : headers->entries()) {
        const std::string hpath = fmt::format("{}.headers.{}", path, header.key);
        const std::string lower = Lower(header.key);
        const YAML::Mark at = header.key_node.Mark();
        if (!IsToken(header.key)) {
          Error(at, fmt::format("{}.headers: '{}' is not a header name", path, header.key));
        } else if (lower == "content-length" || lower == "transfer-encoding") {
          Error(at, fmt::format("{}: set by the load generator from the body", hpath));
        } else if (lower == "connection") {
          Error(at, fmt::format("{}: set by the load generator; use load.keep_alive", hpath));
        } else if (auto t = ReadTemplate(header, hpath, true)) {
          request->headers.emplace_back(header.key, std::move(*t));
        }
      }
    }
  }
  if (const Entry* w = m->Find("write_key")) {
    if (auto t = ReadTemplate(*w, path + ".write_key", true)) {
      if (t->source().empty()) {
        Error(Where(*w), path + ".write_key: empty (write e.g. \"{key}\")");
      } else {
        request->write_key = std::move(*t);
      }
    }
  }
  if (const Entry* s = m->Find("expect_status")) {
    StatusSet set;
    if (ReadStatuses(*s, path + ".expect_status", &set, nullptr)) request->expect_status = set;
  }
}

// ----------------------------------------------------------------- faults

// "SIGTERM", "pause", "kill_after", "db terminate_sessions", "load stop".
std::string DefaultFaultName(const Fault& f) {
  switch (f.action) {
    case ActionKind::kSend:
      return SignalName(f.signal);
    case ActionKind::kPause:
      return "pause";
    case ActionKind::kKillAfter:
      return "kill_after";
    case ActionKind::kDb:
      return "db " + std::string(ToString(f.db_action));
    case ActionKind::kLoad:
      return f.load_action == LoadAction::kStop ? "load stop" : "load rate";
  }
  return "fault";
}

void Parser::ReadTrigger(const Entry& e, const std::string& path, const std::vector<Fault>& earlier,
                         const std::vector<std::string>& earlier_names, Trigger* trigger) {
  if (e.value.IsScalar()) {
    if (auto d = ReadDuration(e, path, false)) *trigger = AtTime{*d};
    return;
  }
  if (!e.value.IsMap()) {
    Error(Where(e), fmt::format("{}: expected a duration (1.5s) or a trigger mapping such as "
                                "{{after: previous, delay: D}}, {{requests: N}} or {{any: [...]}}, "
                                "got {}",
                                path, Describe(e.value)));
    return;
  }
  std::optional<Map> m = ReadMap(e.value, Where(e), path, kTriggerKeys);
  if (!m) return;
  std::vector<const Entry*> kinds;
  for (const std::string& k : kTriggerKinds) {
    if (const Entry* x = m->Find(k)) kinds.push_back(x);
  }
  if (kinds.empty()) {
    if (e.value.size() == 0) {
      Error(Where(e), fmt::format("{}: empty trigger (write a duration such as 1.5s, or e.g. "
                                  "{{after: previous, delay: D}})",
                                  path));
    } else if (m->Find("delay")) {
      Missing(e.key_node.Mark(), path, "after",
              " (after: previous, or the name of an earlier fault)");
    } else if (m->Find("since")) {
      Missing(e.key_node.Mark(), path, "time", " (e.g. {time: 1s, since: ready})");
    }
    return;
  }
  if (kinds.size() > 1) {
    Error(kinds[1]->key_node.Mark(),
          fmt::format("{}: one trigger kind per mapping, got '{}' and '{}' (combine them with "
                      "all: [...] or any: [...])",
                      path, kinds[0]->key, kinds[1]->key));
    return;
  }
  const Entry& k = *kinds[0];
  const std::string kpath = path + "." + k.key;
  if (k.key != "after" && m->Find("delay")) {
    Error(m->Find("delay")->key_node.Mark(), path + ".delay: goes with 'after' only");
  }
  if (k.key != "time" && m->Find("since")) {
    Error(m->Find("since")->key_node.Mark(), path + ".since: goes with 'time' only");
  }
  if (k.key == "time") {
    std::optional<Duration> d = ReadDuration(k, kpath, false);
    bool since_ready = false;
    if (const Entry* since = m->Find("since")) {
      if (auto v = ReadChoice(*since, path + ".since", kSinceChoices)) since_ready = *v == "ready";
    }
    if (d) *trigger = AtTime{*d, since_ready};
  } else if (k.key == "requests") {
    if (auto n = ReadInt(k, kpath, 1, std::numeric_limits<std::int64_t>::max())) {
      *trigger = AfterRequests{static_cast<std::uint64_t>(*n)};
    }
  } else if (k.key == "inflight") {
    if (auto n = ReadInt(k, kpath, 1, 1000000)) *trigger = AtInflight{static_cast<int>(*n)};
  } else if (k.key == "db_active") {
    if (auto n = ReadInt(k, kpath, 1, 100000)) *trigger = AtDbActive{static_cast<int>(*n)};
  } else if (k.key == "log") {
    if (auto text = ReadText(k, kpath)) {
      try {
        std::regex compiled(*text, std::regex::ECMAScript);
        *trigger = OnLog{*text};
      } catch (const std::regex_error& err) {
        Error(Where(k), fmt::format("{}: not a regular expression ({})", kpath, err.what()));
      }
    }
  } else if (k.key == "between") {
    if (!k.value.IsSequence() || k.value.size() != 2) {
      Error(Where(k), fmt::format("{}: expected [EARLIEST, LATEST], e.g. [1s, 3s], got {}", kpath,
                                  Describe(k.value)));
      return;
    }
    Entry lo{k.key, k.key_node, k.value[0]};
    Entry hi{k.key, k.key_node, k.value[1]};
    std::optional<Duration> a = ReadDuration(lo, kpath + "[0]", false);
    std::optional<Duration> b = ReadDuration(hi, kpath + "[1]", false);
    if (a && b) {
      if (*b < *a) {
        Error(Where(k), fmt::format("{}: the latest ({}) is before the earliest ({})", kpath,
                                    FormatDuration(*b), FormatDuration(*a)));
      } else {
        *trigger = Between{*a, *b};
      }
    }
  } else if (k.key == "all" || k.key == "any") {
    if (!ExpectList(k, kpath)) return;
    if (k.value.size() == 0) {
      Error(Where(k), kpath + ": empty list (give the triggers to combine)");
      return;
    }
    std::vector<Trigger> parts;
    bool ok = true;
    std::size_t i = 0;
    for (const auto& item : k.value) {
      Entry part{k.key, k.key_node, item};
      Trigger t;
      const std::size_t before = errors_.size();
      ReadTrigger(part, fmt::format("{}[{}]", kpath, i++), earlier, earlier_names, &t);
      ok = ok && errors_.size() == before;
      parts.push_back(std::move(t));
    }
    if (!ok) return;
    if (k.key == "all") {
      *trigger = AllOf{std::move(parts)};
    } else {
      *trigger = AnyOf{std::move(parts)};
    }
  } else {  // after
    const Entry* after = &k;
    const Entry* delay = m->Find("delay");
    AfterFault result{0, Duration::zero()};
    bool ok = true;
    if (std::optional<std::string> ref = ReadText(*after, path + ".after")) {
      if (*ref == "previous") {
        if (earlier.empty()) {
          Error(Where(*after), path + ".after: the first fault has no previous fault");
          ok = false;
        } else {
          result.fault = earlier.size() - 1;
        }
      } else {
        auto it = std::find(earlier_names.begin(), earlier_names.end(), *ref);
        if (it != earlier_names.end()) {
          result.fault = static_cast<std::size_t>(it - earlier_names.begin());
        } else {
          std::string message = fmt::format(
              "{}.after: no earlier fault is named '{}' (write previous, or the name "
              "of a fault above this one)",
              path, *ref);
          std::vector<std::string> candidates = earlier_names;
          candidates.push_back("previous");
          if (auto guess = SpellCheck(*ref, candidates)) {
            message = fmt::format("{}.after: no earlier fault is named '{}' (did you mean '{}'?)",
                                  path, *ref, *guess);
          }
          Error(Where(*after), std::move(message));
          ok = false;
        }
      }
    } else {
      ok = false;
    }
    if (delay) {
      if (auto d = ReadDuration(*delay, path + ".delay", false)) {
        result.delay = *d;
      } else {
        ok = false;
      }
    } else {
      Missing(e.key_node.Mark(), path, "delay", " (e.g. delay: 2s)");
      ok = false;
    }
    if (ok) *trigger = result;
  }
}

// The action of a fault: exactly one of send, pause, kill_after, db, load.
void Parser::ReadAction(const Map& m, const YAML::Node& item, const std::string& path,
                        Fault* fault) {
  std::vector<const Entry*> actions;
  for (const std::string& k : kActionKeys) {
    if (const Entry* x = m.Find(k)) actions.push_back(x);
  }
  if (actions.empty()) {
    Missing(item.Mark(), path, "send",
            " (e.g. send: SIGTERM; or pause: D, kill_after: D, db: ..., load: ...)");
    return;
  }
  if (actions.size() > 1) {
    Error(actions[1]->key_node.Mark(),
          fmt::format("{}: one action per fault, got '{}' and '{}' (make two faults, the second "
                      "at: {{after: previous, delay: 0s}})",
                      path, actions[0]->key, actions[1]->key));
    return;
  }
  const Entry& a = *actions[0];
  const std::string apath = path + "." + a.key;
  if (a.key != "send") {
    for (const char* only : {"repeat", "every"}) {
      if (const Entry* x = m.Find(only)) {
        Error(x->key_node.Mark(), fmt::format("{}.{}: goes with 'send' only", path, only));
      }
    }
  }
  if (a.key == "send") {
    fault->action = ActionKind::kSend;
    if (auto sig = ReadSignal(a, apath)) fault->signal = *sig;
    if (const Entry* r = m.Find("repeat")) {
      if (auto n = ReadInt(*r, path + ".repeat", 1, 100)) fault->repeat = static_cast<int>(*n);
    }
    ReadDurationInto(m, "every", path, true, &fault->every);
  } else if (a.key == "pause" || a.key == "kill_after") {
    fault->action = a.key == "pause" ? ActionKind::kPause : ActionKind::kKillAfter;
    fault->signal = a.key == "pause" ? SIGSTOP : SIGTERM;
    if (auto d = ReadDuration(a, apath, true)) fault->duration = *d;
  } else if (a.key == "db") {
    fault->action = ActionKind::kDb;
    if (a.value.IsMap()) {
      std::optional<Map> db = ReadMap(a.value, Where(a), apath, {"block"});
      if (!db) return;
      const Entry* block = db->Find("block");
      if (!block) {
        Missing(a.key_node.Mark(), apath, "block", " (e.g. db: {block: 2s})");
        return;
      }
      fault->db_action = DbAction::kBlock;
      if (auto d = ReadDuration(*block, apath + ".block", true)) fault->duration = *d;
    } else if (auto v = ReadChoice(a, apath, kDbActions)) {
      fault->db_action = *v == "terminate_sessions" ? DbAction::kTerminateSessions
                         : *v == "cancel_queries"   ? DbAction::kCancelQueries
                                                    : DbAction::kRestart;
    }
  } else {  // load
    fault->action = ActionKind::kLoad;
    if (a.value.IsMap()) {
      std::optional<Map> lm = ReadMap(a.value, Where(a), apath, {"rate"});
      if (!lm) return;
      const Entry* r = lm->Find("rate");
      if (!r) {
        Missing(a.key_node.Mark(), apath, "rate", " (e.g. load: {rate: 100/s})");
        return;
      }
      std::string why;
      std::optional<Rate> rate =
          r->value.IsScalar() ? ParseRate(r->value.Scalar(), &why) : std::nullopt;
      if (!rate) {
        Error(Where(*r), apath + ".rate: " + (why.empty() ? "expected a rate such as 100/s" : why));
        return;
      }
      fault->load_action = LoadAction::kRate;
      fault->rate_per_second = rate->per_second;
    } else if (ReadChoice(a, apath, {"stop"})) {
      fault->load_action = LoadAction::kStop;
    }
  }
}

void Parser::ReadFaults(const Entry& e, SignalTarget default_to, std::vector<Fault>* faults) {
  if (!ExpectList(e, "faults")) return;
  if (e.value.size() == 0) {
    Error(Where(e), "faults: empty list (give at least one, e.g. - {at: 1s, send: SIGTERM})");
    return;
  }
  std::vector<std::string> explicit_names;  // for lookups by `after: NAME`, in order
  std::vector<YAML::Mark> name_marks;
  std::size_t i = 0;
  for (const auto& item : e.value) {
    const std::string path = fmt::format("faults[{}]", i++);
    Fault fault;
    fault.to = default_to;
    fault.pos = {item.Mark().line + 1, item.Mark().column + 1};
    std::optional<Map> m = ReadMap(item, item.Mark(), path, kFaultKeys);
    std::string name;
    YAML::Mark name_mark = item.Mark();
    if (m) {
      if (const Entry* n = m->Find("name")) {
        if (auto v = ReadText(*n, path + ".name")) {
          if (v->empty()) {
            Error(Where(*n), path + ".name: empty");
          } else if (*v == "previous") {
            Error(Where(*n), path + ".name: 'previous' is reserved (after: previous)");
          } else {
            name = *v;
            name_mark = Where(*n);
          }
        }
      }
      if (const Entry* at = m->Find("at")) {
        ReadTrigger(*at, path + ".at", *faults, explicit_names, &fault.trigger);
      } else {
        Missing(item.Mark(), path, "at", " (e.g. at: 1.5s)");
      }
      ReadAction(*m, item, path, &fault);
      if (const Entry* t = m->Find("timeout")) {
        if (auto d = ReadDuration(*t, path + ".timeout", true)) fault.timeout = *d;
      }
      if (const Entry* to = m->Find("to")) {
        if (auto v = ReadChoice(*to, path + ".to", kSignalTargets)) {
          fault.to = *v == "group" ? SignalTarget::kGroup : SignalTarget::kProcess;
        }
      }
      if (const Entry* r = m->Find("if_running")) {
        if (auto v = ReadBool(*r, path + ".if_running")) fault.if_running = *v;
      }
      ReadDurationInto(*m, "tolerance", path, true, &fault.tolerance);
    }
    if (!name.empty()) {
      auto it = std::find(explicit_names.begin(), explicit_names.end(), name);
      if (it != explicit_names.end()) {
        const YAML::Mark& first = name_marks[static_cast<std::size_t>(it - explicit_names.begin())];
        Error(name_mark, fmt::format("{}.name: '{}' is already the name of the fault on line {}",
                                     path, name, first.line + 1));
      }
    }
    explicit_names.push_back(name);
    name_marks.push_back(name_mark);
    fault.name = name;
    faults->push_back(std::move(fault));
  }
  // Default names: the signal's name, numbered when it would repeat. Count
  // first, then name, so that naming one does not change the others' count.
  std::vector<std::size_t> same(faults->size(), 0);
  for (std::size_t k = 0; k < faults->size(); ++k) {
    if (!(*faults)[k].name.empty()) continue;
    const std::string base = DefaultFaultName((*faults)[k]);
    for (const Fault& other : *faults) {
      if ((other.name.empty() && DefaultFaultName(other) == base) || other.name == base) {
        ++same[k];
      }
    }
  }
  for (std::size_t k = 0; k < faults->size(); ++k) {
    Fault& f = (*faults)[k];
    if (!f.name.empty()) continue;
    const std::string base = DefaultFaultName(f);
    f.name = same[k] > 1 ? fmt::format("{} #{}", base, k + 1) : base;
  }
}

// ----------------------------------------------------------------- expect

void Parser::ReadExpect(const Entry& e, Expectations* expect) {
  std::optional<Map> m = ReadMap(e.value, Where(e), "expect", kExpectKeys);
  if (!m) return;
  ReadIntInto(*m, "dropped", "expect", 0, std::numeric_limits<int>::max(), &expect->dropped);
  if (const Entry* d = m->Find("dropped_after_signal")) {
    if (auto v = ReadInt(*d, "expect.dropped_after_signal", 0, std::numeric_limits<int>::max())) {
      expect->dropped_after_signal = static_cast<int>(*v);
    }
  }
  if (const Entry* a = m->Find("allow_after_signal")) {
    ReadStatuses(*a, "expect.allow_after_signal", &expect->allow_status_after_signal,
                 &expect->allow_outcomes_after_signal);
  }
  if (const Entry* x = m->Find("exit")) {
    if (std::optional<Map> exit = ReadMap(x->value, Where(*x), "expect.exit", kExitKeys)) {
      const Entry* code = exit->Find("code");
      const Entry* sig = exit->Find("signal");
      if (code && sig) {
        Error(sig->key_node.Mark(),
              "expect.exit: give code or signal, not both (a process "
              "either exits or is killed)");
      } else if (code) {
        ReadExitCodes(*code, &expect->exit);
      } else if (sig) {
        if (auto v = ReadSignal(*sig, "expect.exit.signal")) {
          expect->exit.signaled = true;
          expect->exit.signal = *v;
        }
      }
      ReadDurationInto(*exit, "within", "expect.exit", true, &expect->exit.within);
    }
  }
  if (const Entry* l = m->Find("lame_duck")) {
    if (auto v = ReadDuration(*l, "expect.lame_duck", true)) expect->lame_duck = *v;
    expect->lame_duck_pos = PosOf(l->key_node);
  }
  if (const Entry* t = m->Find("threads")) {
    if (std::optional<Map> threads = ReadMap(t->value, Where(*t), "expect.threads", kThreadKeys)) {
      ThreadExpectation te;
      if (const Entry* g = threads->Find("growth")) {
        if (auto v = ReadInt(*g, "expect.threads.growth", 0, 100000))
          te.growth = static_cast<int>(*v);
        te.growth_pos = PosOf(g->key_node);
      }
      if (const Entry* a = threads->Find("at_exit")) {
        if (a->value.IsScalar() && a->value.Scalar() == "0") {
          Error(Where(*a),
                "expect.threads.at_exit: 0 can never pass (the main thread lives until "
                "the exit); write 1 for \"only the main thread\"");
        } else if (auto v = ReadInt(*a, "expect.threads.at_exit", 1, 100000)) {
          te.at_exit = static_cast<int>(*v);
        }
      }
      if (threads->entries().empty() && t->value.size() == 0) {
        Error(Where(*t), "expect.threads: give growth and/or at_exit");
      }
      expect->threads = te;
    }
  }
  if (const Entry* d = m->Find("db_sessions")) {
    if (std::optional<Map> db = ReadMap(d->value, Where(*d), "expect.db_sessions", kDbKeys)) {
      const std::string p = "expect.db_sessions";
      ReadIntInto(*db, "after_exit", p, 0, 100000, &expect->db_sessions.after_exit);
      ReadIntInto(*db, "orphaned_queries", p, 0, 100000, &expect->db_sessions.orphaned_queries);
      ReadIntInto(*db, "abandoned", p, 0, 100000, &expect->db_sessions.abandoned);
      ReadIntInto(*db, "closed_before_drain", p, 0, 100000,
                  &expect->db_sessions.closed_before_drain);
      if (const Entry* c = db->Find("closed_before_drain")) {
        expect->db_sessions.closed_before_drain_pos = PosOf(c->key_node);
      }
      ReadIntInto(*db, "idle_in_transaction", p, 0, 100000,
                  &expect->db_sessions.idle_in_transaction);
      if (const Entry* x = db->Find("max")) {
        if (auto v = ReadInt(*x, p + ".max", 1, 100000))
          expect->db_sessions.max = static_cast<int>(*v);
      }
      ReadDurationInto(*db, "settle", p, false, &expect->db_sessions.settle);
    }
  }
  if (const Entry* w = m->Find("writes")) {
    if (std::optional<Map> writes = ReadMap(w->value, Where(*w), "expect.writes", kWritesKeys)) {
      WritesExpectation we;
      ReadIntInto(*writes, "lost", "expect.writes", 0, std::numeric_limits<int>::max(), &we.lost);
      bool ok = true;
      if (const Entry* sql = writes->Find("verify_sql")) {
        if (auto t = ReadTemplate(*sql, "expect.writes.verify_sql", false)) {
          if (t->source().find_first_not_of(" \t\r\n") == std::string::npos) {
            Error(Where(*sql), "expect.writes.verify_sql: empty query");
            ok = false;
          }
          we.verify_sql = std::move(*t);
        } else {
          ok = false;
        }
      } else {
        Missing(w->key_node.Mark(), "expect.writes", "verify_sql",
                " (a query returning the keys present, e.g. SELECT key FROM items)");
        ok = false;
      }
      if (ok) expect->writes = std::move(we);
    }
  }
}

// -------------------------------------------------------------- top level

// Where each YAML document of a stream starts (its first node event), read
// through the event API so that nothing is built.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> first;  // of the current document
  void OnDocumentStart(const YAML::Mark&) override { first.reset(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Seen(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Seen(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Seen(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Seen(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Seen(m);
  }
  void OnMapEnd() override {}

 private:
  void Seen(const YAML::Mark& m) {
    if (!first) first = m;
  }
};

ParseResult Parser::Run() {
  ParseResult result;
  const std::string text(text_);
  // Count the documents first, at most two, with the event API rather than
  // YAML::LoadAll: yaml-cpp 0.7's LoadAll loops forever, allocating, on
  // input such as "," (a document the parser cannot consume comes back
  // again and again; jbeder/yaml-cpp#1040, fixed upstream after 0.8; found
  // by harness/fuzz/scenario_fuzz). A document that starts where the one
  // before it started made no progress: that is a syntax error.
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    std::optional<YAML::Mark> previous;
    for (int documents = 0; documents < 2;) {
      if (!parser.HandleNextDocument(starts)) break;
      const YAML::Mark at = starts.first.value_or(YAML::Mark());
      if (previous && at.pos == previous->pos) {
        const std::size_t pos = static_cast<std::size_t>(std::max(at.pos, 0));
        Error(at, pos < text.size() && std::isprint(static_cast<unsigned char>(text[pos]))
                      ? fmt::format("YAML syntax: unexpected '{}'", text[pos])
                      : std::string("YAML syntax: cannot parse from here"));
        result.errors = std::move(errors_);
        return result;
      }
      previous = at;
      if (++documents == 2) {
        Error(at,
              "a scenario file holds one YAML document, this one has at least 2 (remove the '---' "
              "separators)");
        result.errors = std::move(errors_);
        return result;
      }
    }
  } catch (const YAML::Exception& e) {
    Error(e.mark, "YAML syntax: " + e.msg);
    result.errors = std::move(errors_);
    return result;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Error(e.mark, "YAML syntax: " + e.msg);
    result.errors = std::move(errors_);
    return result;
  }
  const YAML::Mark start;  // 1:1
  if (root.IsNull()) {
    Error(start, "empty file (expected a mapping with name, target, faults, …)");
    result.errors = std::move(errors_);
    return result;
  }
  Scenario scenario;
  scenario.file = file_;
  std::optional<Map> m = ReadMap(root, root.Mark(), "", kTopKeys);
  if (!m) {
    result.errors = std::move(errors_);
    return result;
  }
  scenario.name = Stem(file_);
  if (const Entry* n = m->Find("name")) {
    if (auto v = ReadText(*n, "name")) {
      if (!IsValidName(*v)) {
        Error(Where(*n), fmt::format("name: '{}' must start with a letter or digit and hold only "
                                     "letters, digits, '.', '_' and '-' (it names result files "
                                     "and JUnit cases)",
                                     *v));
      }
      scenario.name = *v;
    }
  } else if (!IsValidName(scenario.name)) {
    Missing(start, "", "name", " (the file name does not make a valid name)");
  }
  if (const Entry* d = m->Find("description")) {
    if (auto v = ReadText(*d, "description")) scenario.description = *v;
  }
  if (const Entry* t = m->Find("target")) {
    ReadTarget(*t, &scenario.target);
  } else {
    Missing(start, "", "target", " (the command that starts the server under test)");
  }
  if (const Entry* l = m->Find("load")) {
    LoadSpec load;
    ReadLoad(*l, &load);
    scenario.load = std::move(load);
  }
  if (const Entry* f = m->Find("faults")) {
    ReadFaults(*f, scenario.target.signal_to, &scenario.faults);
  } else {
    Missing(start, "", "faults", " (what shuts the target down, e.g. - {at: 1s, send: SIGTERM})");
  }
  if (const Entry* x = m->Find("expect")) {
    ReadExpect(*x, &scenario.expect);
    // A write check needs writes to check.
    if (scenario.expect.writes) {
      bool any_write = false;
      if (scenario.load) {
        for (const RequestSpec& r : scenario.load->requests) any_write |= r.write_key.has_value();
      }
      if (!any_write) {
        const YAML::Node w = x->value["writes"];
        Error(w.Mark(),
              "expect.writes: no request in load.requests has a write_key, so there "
              "are no acknowledged writes to verify");
      }
    }
  }

  result.errors = std::move(errors_);
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ScenarioError& a, const ScenarioError& b) {
                     return std::tie(a.line, a.col) < std::tie(b.line, b.col);
                   });
  if (result.errors.empty()) result.scenario = std::move(scenario);
  return result;
}

}  // namespace

// ------------------------------------------------------------------ public

ParseResult ParseScenario(std::string_view text, const std::string& filename,
                          const ParseOptions& options) {
  return Parser(filename, text, options).Run();
}

ParseResult ParseScenarioFile(const std::string& path, const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ParseResult result;
    result.errors.push_back({path, 0, 0, fmt::format("cannot read: {}", std::strerror(errno))});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseScenario(text.str(), path, options);
}

std::vector<ScenarioError> ValidateScenarioFiles(const std::vector<std::string>& paths,
                                                 const ParseOptions& options,
                                                 std::vector<ScenarioError>* warnings) {
  std::vector<ScenarioError> errors;
  for (const std::string& path : paths) {
    ParseResult r = ParseScenarioFile(path, options);
    errors.insert(errors.end(), r.errors.begin(), r.errors.end());
    if (warnings && r.scenario) {
      std::vector<ScenarioError> w = ScenarioWarnings(*r.scenario);
      warnings->insert(warnings->end(), w.begin(), w.end());
    }
  }
  return errors;
}

std::optional<TargetOverride> ParseTargetOverride(std::string_view spec,
                                                  const ParseOptions& options, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<TargetOverride> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  const std::size_t eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return fail(fmt::format(
        "--target '{}': expected NAME=COMMAND, e.g. go='./server -port {{port}}'", spec));
  }
  TargetOverride target;
  target.name = std::string(spec.substr(0, eq));
  if (!IsValidName(target.name)) {
    return fail(fmt::format("--target: '{}' is not a valid name (letters, digits, '.', '_', '-')",
                            target.name));
  }
  std::string why;
  std::optional<std::vector<std::string>> words = SplitCommandLine(spec.substr(eq + 1), &why);
  if (!words) return fail(fmt::format("--target {}: {}", target.name, why));
  PlaceholderScope scope;
  scope.binaries = options.binaries;
  for (const std::string& word : *words) {
    std::vector<TemplateError> problems;
    std::optional<Template> t = Template::Compile(word, scope, &problems);
    if (!t) return fail(fmt::format("--target {}: {}", target.name, problems.front().message));
    target.command.push_back(std::move(*t));
  }
  return target;
}

void ApplyTargetOverride(const TargetOverride& target, Scenario* scenario) {
  scenario->target.command = target.command;
  scenario->target.shell = false;
}

std::string_view ToString(ActionKind action) {
  switch (action) {
    case ActionKind::kSend:
      return "send";
    case ActionKind::kPause:
      return "pause";
    case ActionKind::kKillAfter:
      return "kill_after";
    case ActionKind::kDb:
      return "db";
    case ActionKind::kLoad:
      return "load";
  }
  return "?";
}

std::string_view ToString(DbAction action) {
  switch (action) {
    case DbAction::kTerminateSessions:
      return "terminate_sessions";
    case DbAction::kCancelQueries:
      return "cancel_queries";
    case DbAction::kRestart:
      return "restart";
    case DbAction::kBlock:
      return "block";
  }
  return "?";
}

}  // namespace gracecheck
