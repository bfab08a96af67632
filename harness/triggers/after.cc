// {after: previous | NAME, delay: D}: D after an earlier fault's trigger was
// met, whether or not that fault was then sent.
#include <fmt/format.h>

#include <algorithm>

#include "scenario.h"
#include "spellcheck.h"
#include "triggers/trigger.h"
#include "yaml_reader.h"

namespace gracecheck {

Nanos AfterFault::MetAt(const TriggerState& s, Nanos* next_deadline) const {
  const Nanos base = fault < s.fault_met.size() ? s.fault_met[fault] : kNever;
  if (base == kNever) return kNever;
  const Nanos t = base + delay.count();
  if (t <= s.now) return t;
  *next_deadline = std::min(*next_deadline, t);
  return kNever;
}

bool AfterFault::NeedsPolling() const { return false; }

EarliestMoment AfterFault::Earliest(const std::vector<Fault>& faults, int depth) const {
  // Faults only follow earlier ones (the parser checks), so this ends.
  if (fault >= faults.size() || depth > 64) return {Duration::zero(), "after another fault"};
  const EarliestMoment before = EarliestOf(faults[fault].trigger, faults, depth + 1);
  return {before.at + delay,
          fmt::format("{} after {} ({})", FormatDuration(delay), faults[fault].name, before.why)};
}

std::optional<std::size_t> ReadFaultRef(const TriggerInput& in, const std::string& path) {
  const std::vector<std::string>& names = in.earlier_names;
  std::optional<std::string> ref = in.yaml.ReadText(in.entry, path);
  if (!ref) return std::nullopt;
  if (*ref == "previous") {
    if (!names.empty()) return names.size() - 1;
    in.yaml.Error(YamlReader::Where(in.entry), path + ": the first fault has no previous fault");
    return std::nullopt;
  }
  if (auto it = std::find(names.begin(), names.end(), *ref); it != names.end()) {
    return static_cast<std::size_t>(it - names.begin());
  }
  std::string message = fmt::format(
      "{}: no earlier fault is named '{}' (write previous, or the name of a fault above this one)",
      path, *ref);
  std::vector<std::string> candidates = {"previous"};
  for (const std::string& n : names) {
    if (!n.empty()) candidates.push_back(n);  // an unnamed fault has no name to suggest
  }
  if (auto guess = SpellCheck(*ref, candidates)) {
    message =
        fmt::format("{}: no earlier fault is named '{}' (did you mean '{}'?)", path, *ref, *guess);
  }
  in.yaml.Error(YamlReader::Where(in.entry), std::move(message));
  return std::nullopt;
}

std::optional<Trigger> ParseAfter(const TriggerInput& in) {
  std::optional<std::size_t> fault = ReadFaultRef(in, in.path + ".after");
  std::optional<Duration> delay;
  if (const Entry* d = in.trigger.Find("delay")) {
    delay = in.yaml.ReadDuration(*d, in.path + ".delay", false);
  } else {
    in.yaml.Missing(in.outer.key_node.Mark(), in.path, "delay", " (e.g. delay: 2s)");
  }
  if (!fault || !delay) return std::nullopt;
  return AfterFault{*fault, *delay};
}

}  // namespace gracecheck
