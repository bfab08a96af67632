#include "yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <sstream>
#include <tuple>

#include "signal_names.h"
#include "spellcheck.h"

namespace gracecheck {

namespace {

// YAML 1.1 booleans, as PyYAML reads them, so that the parser and the JSON
// Schema check agree.
const std::vector<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes",
                                        "YES",  "on",   "On",   "ON"};
const std::vector<std::string> kFalse = {"false", "False", "FALSE", "no", "No",
                                         "NO",    "off",   "Off",   "OFF"};

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

}  // namespace

std::string FileError::ToString() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, col, message);
}

SourcePos PosOf(const YAML::Node& node) { return {node.Mark().line + 1, node.Mark().column + 1}; }

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::optional<YAML::Node> YamlReader::LoadDocument(std::string_view empty_hint) {
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
        return std::nullopt;
      }
      previous = at;
      if (++documents == 2) {
        Error(at,
              "a scenario file holds one YAML document, this one has at least 2 (remove the '---' "
              "separators)");
        return std::nullopt;
      }
    }
  } catch (const YAML::Exception& e) {
    Error(e.mark, "YAML syntax: " + e.msg);
    return std::nullopt;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Error(e.mark, "YAML syntax: " + e.msg);
    return std::nullopt;
  }
  if (root.IsNull()) {
    Error(YAML::Mark(), fmt::format("empty file ({})", empty_hint));
    return std::nullopt;
  }
  return root;
}

void YamlReader::Error(const YAML::Mark& mark, std::string message) {
  FileError e;
  e.file = file_;
  e.line = mark.line >= 0 ? mark.line + 1 : 0;
  e.col = mark.line >= 0 ? mark.column + 1 : 0;
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

YAML::Mark YamlReader::Where(const Entry& e) {
  return e.value.IsNull() || e.value.Mark().line < 0 ? e.key_node.Mark() : e.value.Mark();
}

std::string YamlReader::Describe(const YAML::Node& node) {
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

YAML::Mark YamlReader::OffsetMark(const YAML::Node& scalar, std::size_t offset) const {
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

std::vector<FileError> YamlReader::TakeErrors() {
  std::vector<FileError> errors = std::move(errors_);
  errors_.clear();
  std::stable_sort(errors.begin(), errors.end(), [](const FileError& a, const FileError& b) {
    return std::tie(a.line, a.col) < std::tie(b.line, b.col);
  });
  return errors;
}

void YamlReader::ReadIntInto(const Map& m, std::string_view key, const std::string& path,
                             std::int64_t min, std::int64_t max, int* out) {
  if (const Entry* e = m.Find(key)) {
    if (auto v = ReadInt(*e, path + "." + std::string(key), min, max)) *out = static_cast<int>(*v);
  }
}

void YamlReader::ReadDurationInto(const Map& m, std::string_view key, const std::string& path,
                                  bool positive, Duration* out) {
  if (const Entry* e = m.Find(key)) {
    if (auto v = ReadDuration(*e, path + "." + std::string(key), positive)) *out = *v;
  }
}

bool YamlReader::Duplicate(const Map& map, const YAML::Node& key, const std::string& in) {
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

std::optional<Map> YamlReader::ReadOpenMap(const YAML::Node& node, const YAML::Mark& where,
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

std::optional<Map> YamlReader::ReadMap(const YAML::Node& node, const YAML::Mark& where,
                                       const std::string& path,
                                       const std::vector<std::string>& known,
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

bool YamlReader::ExpectList(const Entry& e, const std::string& path) {
  if (e.value.IsSequence()) return true;
  Error(Where(e), fmt::format("{}: expected a list, got {}", path, Describe(e.value)));
  return false;
}

void YamlReader::Missing(const YAML::Mark& where, const std::string& path, std::string_view key,
                         std::string_view hint) {
  Error(where, fmt::format("{}: missing required key '{}'{}", path.empty() ? "scenario" : path, key,
                           hint));
}

std::optional<std::string> YamlReader::ReadText(const YAML::Node& node, const YAML::Mark& where,
                                                const std::string& path) {
  if (!node.IsScalar()) {
    Error(where, fmt::format("{}: expected text, got {}", path, Describe(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::int64_t> YamlReader::ReadInt(const YAML::Node& node, const YAML::Mark& where,
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

std::optional<bool> YamlReader::ReadBool(const Entry& e, const std::string& path) {
  if (e.value.IsScalar() && e.value.Tag() == "?") {
    if (Contains(kTrue, e.value.Scalar())) return true;
    if (Contains(kFalse, e.value.Scalar())) return false;
  }
  Error(Where(e), fmt::format("{}: expected true or false, got {}", path, Describe(e.value)));
  return std::nullopt;
}

std::optional<Duration> YamlReader::ReadDuration(const Entry& e, const std::string& path,
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

std::optional<std::string> YamlReader::ReadChoice(const Entry& e, const std::string& path,
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

std::optional<int> YamlReader::ReadSignal(const Entry& e, const std::string& path) {
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

}  // namespace gracecheck
