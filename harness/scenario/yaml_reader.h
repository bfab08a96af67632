// A typed reader of YAML files that reports, not throws: every problem is a
// `file:line:col: message` (FileError), with a did-you-mean guess where a
// name was misspelled, and reading goes on so that one pass finds them all.
//
// It knows YAML and the value types gracecheck's files share (text, whole
// numbers, booleans as YAML 1.1 spells them, durations, signals, choices
// from a list, mappings with known keys) and nothing of any grammar: the
// scenario's grammar is scenario.cc, and a fault action's grammar its file
// under faults/. A grammar derives from YamlReader, or is handed one.
//
// LoadDocument works around yaml-cpp 0.7's LoadAll, which loops forever on
// input such as "," (jbeder/yaml-cpp#1040, fixed upstream after 0.8): it
// counts documents with the event API first. Drop the workaround (and its
// DocumentStarts) once the oldest yaml-cpp supported is 0.8.0 or later;
// harness/fuzz/scenario_fuzz finds it again if it comes back.
//
// Threading: a reader is used by one thread; readers share nothing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duration.h"
#include "file_error.h"
#include "integer.h"

namespace gracecheck {

// A mapping's entry: the key node (for its position) and the value.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

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

SourcePos PosOf(const YAML::Node& node);
// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);
bool Contains(const std::vector<std::string>& list, std::string_view s);

// Grammars with one of several kinds per mapping (a fault's action, a
// trigger kind) keep a table of rows, each with its `key` and the
// `with_keys` that go with it alone. These read any such table.
//
// Every row's key followed by its with_keys, in table order.
template <class Row>
std::vector<std::string> KindKeys(const std::vector<Row>& table) {
  std::vector<std::string> keys;
  for (const Row& row : table) {
    keys.push_back(row.key);
    keys.insert(keys.end(), row.with_keys.begin(), row.with_keys.end());
  }
  return keys;
}
// The rows whose key `m` holds, with its entry, in table order.
template <class Row>
std::vector<std::pair<const Entry*, const Row*>> KindsGiven(const Map& m,
                                                            const std::vector<Row>& table) {
  std::vector<std::pair<const Entry*, const Row*>> given;
  for (const Row& row : table) {
    if (const Entry* e = m.Find(row.key)) given.push_back({e, &row});
  }
  return given;
}

class YamlReader {
 public:
  YamlReader(std::string file, std::string_view text) : file_(std::move(file)), text_(text) {}

  // The file's one document, or nullopt with an error (syntax, no or two
  // documents; `empty_hint` says what an empty file should have held).
  std::optional<YAML::Node> LoadDocument(std::string_view empty_hint);

  // ---- reporting
  void Error(const YAML::Mark& mark, std::string message);
  // Where a value is: a missing value ("key:" and nothing) has no useful
  // position of its own, so point at its key.
  static YAML::Mark Where(const Entry& e);
  // "a mapping", "a list", "'x'", "the string \"x\"", "nothing".
  static std::string Describe(const YAML::Node& node);
  // The position of byte `offset` of a scalar's value, when the value appears
  // verbatim in the file (one line, no escapes); else the scalar's start.
  YAML::Mark OffsetMark(const YAML::Node& scalar, std::size_t offset) const;
  std::size_t error_count() const { return errors_.size(); }
  // Every problem so far, sorted by position.
  std::vector<FileError> TakeErrors();
  const std::string& file() const { return file_; }

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
  // One of `choices`, with a guess when it is none of them.
  std::optional<std::string> ReadChoice(const Entry& e, const std::string& path,
                                        const std::vector<std::string>& choices);
  // A signal by name (SIGTERM, TERM) or number (1 to 64).
  std::optional<int> ReadSignal(const Entry& e, const std::string& path);
  // Optional fields, read into their members when present.
  void ReadIntInto(const Map& m, std::string_view key, const std::string& path, std::int64_t min,
                   std::int64_t max, int* out);
  void ReadDurationInto(const Map& m, std::string_view key, const std::string& path, bool positive,
                        Duration* out);
  // Reports each key of `m` that goes with a row of `table` other than
  // `chosen`: "PATH.KEY: goes with 'OTHER' only".
  template <class Row>
  void OthersKeys(const Map& m, const std::string& path, const Row* chosen,
                  const std::vector<Row>& table) {
    for (const Row& other : table) {
      if (&other == chosen) continue;
      for (const std::string& with : other.with_keys) {
        if (const Entry* x = m.Find(with)) {
          Error(x->key_node.Mark(), path + "." + with + ": goes with '" + other.key + "' only");
        }
      }
    }
  }

 protected:
  std::string file_;
  std::string_view text_;
  std::vector<FileError> errors_;

 private:
  // Reports a key that repeats an earlier one; true if it does.
  bool Duplicate(const Map& map, const YAML::Node& key, const std::string& in);
};

}  // namespace gracecheck
