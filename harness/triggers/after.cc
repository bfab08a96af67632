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

std::optional<Trigger> ParseAfter(const TriggerInput& in) {
  const std::vector<std::string>& names = in.earlier_names;
  AfterFault result{0, Duration::zero()};
  bool ok = true;
  if (std::optional<std::string> ref = in.yaml.ReadText(in.entry, in.path + ".after")) {
    if (*ref == "previous") {
      if (names.empty()) {
        in.yaml.Error(YamlReader::Where(in.entry),
                      in.path + ".after: the first fault has no previous fault");
        ok = false;
      } else {
        result.fault = names.size() - 1;
      }
    } else if (auto it = std::find(names.begin(), names.end(), *ref); it != names.end()) {
      result.fault = static_cast<std::size_t>(it - names.begin());
    } else {
      std::string message = fmt::format(
          "{}.after: no earlier fault is named '{}' (write previous, or the name "
          "of a fault above this one)",
          in.path, *ref);
      std::vector<std::string> candidates = names;
      candidates.push_back("previous");
      if (auto guess = SpellCheck(*ref, candidates)) {
        message = fmt::format("{}.after: no earlier fault is named '{}' (did you mean '{}'?)",
                              in.path, *ref, *guess);
      }
      in.yaml.Error(YamlReader::Where(in.entry), std::move(message));
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const Entry* delay = in.trigger.Find("delay")) {
    if (auto d = in.yaml.ReadDuration(*delay, in.path + ".delay", false)) {
      result.delay = *d;
    } else {
      ok = false;
    }
  } else {
    in.yaml.Missing(in.outer.key_node.Mark(), in.path, "delay", " (e.g. delay: 2s)");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return result;
}

}  // namespace gracecheck
