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
#include "sha256.h"
#include "spellcheck.h"
#include "yaml_reader.h"

namespace gracecheck {

// ------------------------------------------------------------ small values

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
const std::vector<std::string> kTargetKeys = {"command", "shell",     "env",
                                              "ready",   "signal_to", "pooler"};
const std::vector<std::string> kPoolerKeys = {"kind", "mode", "pool_size"};
const std::vector<std::string> kPoolerKinds = {"pgbouncer"};
const std::vector<std::string> kPoolModes = {"session", "transaction"};
const std::vector<std::string> kReadyKeys = {"http_get", "timeout", "interval"};
const std::vector<std::string> kLoadKeys = {"model",      "rate",    "connections", "duration",
                                            "keep_alive", "timeout", "requests"};
const std::vector<std::string> kRequestKeys = {"weight",  "method",    "path",         "body",
                                               "headers", "write_key", "expect_status"};
// A fault's keys: its own, and its actions' (send, repeat, …) from
// ActionSyntaxes(), in the order messages list them.
const std::vector<std::string>& FaultKeys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = {"name", "at", "timeout"};
    const std::vector<std::string> actions = KindKeys(ActionSyntaxes());
    k.insert(k.end(), actions.begin(), actions.end());
    k.insert(k.end(), {"to", "if_running", "tolerance"});
    return k;
  }();
  return keys;
}
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

class Parser : public YamlReader {
 public:
  Parser(std::string file, std::string_view text, const ParseOptions& options)
      : YamlReader(std::move(file), text), options_(options) {}

  ParseResult Run();

 private:
  std::optional<Template> ReadTemplate(const YAML::Node& node, const YAML::Mark& where,
                                       const std::string& path, bool per_request);
  std::optional<Template> ReadTemplate(const Entry& e, const std::string& path, bool per_request) {
    return ReadTemplate(e.value, Where(e), path, per_request);
  }
  // expect.exit.code: a code (0..255), `graceful`, or a list of them.
  void ReadExitCodes(const Entry& e, ExitExpectation* exit);
  // A status (404), a class ("5xx") or a list of them into *set; outcome
  // names too when `outcomes` is given.
  bool ReadStatuses(const Entry& e, const std::string& path, StatusSet* set,
                    std::vector<std::string>* outcomes);

  // ---- sections
  void ReadTarget(const Entry& e, TargetSpec* target);
  void ReadLoad(const Entry& e, LoadSpec* load);
  void ReadRequest(const YAML::Node& node, const std::string& path, RequestSpec* request);
  void ReadFaults(const Entry& e, SignalTarget default_to, std::vector<Fault>* faults);
  void ReadAction(const Map& m, const YAML::Node& item, const std::string& path, Fault* fault);
  void ReadExpect(const Entry& e, Expectations* expect);

  const ParseOptions& options_;
};

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
  const std::string what =
      outcomes ? "a status (503), a class (5xx) or an outcome (" + JoinNames(kOutcomes) + ")"
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
  if (const Entry* p = m->Find("pooler")) {
    // `pooler: pgbouncer`, or a mapping with its kind and settings.
    PoolerSpec pooler;
    pooler.pos = {p->key_node.Mark().line + 1, p->key_node.Mark().column + 1};
    bool ok = true;
    if (p->value.IsScalar()) {
      ok = ReadChoice(*p, "target.pooler", kPoolerKinds).has_value();
    } else if (std::optional<Map> pm = ReadMap(p->value, Where(*p), "target.pooler", kPoolerKeys)) {
      if (const Entry* k = pm->Find("kind")) {
        ok = ReadChoice(*k, "target.pooler.kind", kPoolerKinds).has_value();
      } else {
        Missing(p->key_node.Mark(), "target.pooler", "kind", " (kind: pgbouncer)");
        ok = false;
      }
      if (const Entry* mode = pm->Find("mode")) {
        if (auto v = ReadChoice(*mode, "target.pooler.mode", kPoolModes)) pooler.mode = *v;
      }
      ReadIntInto(*pm, "pool_size", "target.pooler", 1, 1000, &pooler.pool_size);
    } else {
      ok = false;
    }
    if (ok) target->pooler = pooler;
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

// The action of a fault: exactly one of the keys of ActionSyntaxes(), read
// by its own file under faults/.
void Parser::ReadAction(const Map& m, const YAML::Node& item, const std::string& path,
                        Fault* fault) {
  const auto actions = KindsGiven(m, ActionSyntaxes());
  if (actions.empty()) {
    Missing(item.Mark(), path, "send",
            " (e.g. send: SIGTERM; or pause: D, kill_after: D, db: ..., load: ...)");
    return;
  }
  if (actions.size() > 1) {
    Error(actions[1].first->key_node.Mark(),
          fmt::format("{}: one action per fault, got '{}' and '{}' (make two faults, the second "
                      "at: {{after: previous, delay: 0s}})",
                      path, actions[0].first->key, actions[1].first->key));
    return;
  }
  const auto [entry, syntax] = actions[0];
  OthersKeys(m, path, syntax, ActionSyntaxes());
  if (std::optional<FaultAction> action = syntax->parse({*this, *entry, m, path})) {
    fault->action = std::move(*action);
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
    std::optional<Map> m = ReadMap(item, item.Mark(), path, FaultKeys());
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
        if (auto t = ReadTrigger(*this, *at, path + ".at", explicit_names)) {
          fault.trigger = std::move(*t);
        }
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
    const std::string base = DefaultNameOf((*faults)[k].action);
    for (const Fault& other : *faults) {
      if ((other.name.empty() && DefaultNameOf(other.action) == base) || other.name == base) {
        ++same[k];
      }
    }
  }
  for (std::size_t k = 0; k < faults->size(); ++k) {
    Fault& f = (*faults)[k];
    if (!f.name.empty()) continue;
    const std::string base = DefaultNameOf(f.action);
    f.name = same[k] > 1 ? fmt::format("{} #{}", base, k + 1) : base;
  }
}

// ----------------------------------------------------------------- expect

void Parser::ReadExpect(const Entry& e, Expectations* expect) {
  expect->positions["expect"] = PosOf(e.key_node);
  std::optional<Map> m = ReadMap(e.value, Where(e), "expect", kExpectKeys);
  if (!m) return;
  // Every key and the keys of its mapping, for the checks' positions.
  for (const Entry& k : m->entries()) {
    const std::string path = "expect." + k.key;
    expect->positions[path] = PosOf(k.key_node);
    if (!k.value.IsMap()) continue;
    for (const auto& sub : k.value) {
      expect->positions[path + "." + sub.first.Scalar()] = PosOf(sub.first);
    }
  }
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

ParseResult Parser::Run() {
  ParseResult result;
  const YAML::Mark start;  // 1:1
  std::optional<YAML::Node> root = LoadDocument("expected a mapping with name, target, faults, …");
  if (!root) {
    result.errors = TakeErrors();
    return result;
  }
  Scenario scenario;
  scenario.file = file_;
  std::optional<Map> m = ReadMap(*root, root->Mark(), "", kTopKeys);
  if (!m) {
    result.errors = TakeErrors();
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
    scenario.expect.positions["faults"] = PosOf(f->key_node);
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

  result.errors = TakeErrors();
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
  ParseResult r = ParseScenario(text.str(), path, options);
  if (r.scenario) r.scenario->sha256 = Sha256Hex(text.str());
  return r;
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

}  // namespace gracecheck
