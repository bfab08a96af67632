// {all: [T, …]} is met when every one of its triggers is, at the last one's
// time; {any: [T, …]} when the first one is. Each part is any trigger,
// combinations included.
#include <fmt/format.h>

#include <algorithm>

#include "triggers/trigger.h"
#include "yaml_reader.h"

namespace gracecheck {

namespace {

std::optional<std::vector<Trigger>> ReadParts(const TriggerInput& in) {
  const Entry& k = in.entry;
  const std::string path = in.path + "." + k.key;
  if (!in.yaml.ExpectList(k, path)) return std::nullopt;
  if (k.value.size() == 0) {
    in.yaml.Error(YamlReader::Where(k), path + ": empty list (give the triggers to combine)");
    return std::nullopt;
  }
  std::vector<Trigger> parts;
  bool ok = true;
  std::size_t i = 0;
  for (const auto& item : k.value) {
    Entry part{k.key, k.key_node, item};
    std::optional<Trigger> t =
        ReadTrigger(in.yaml, part, fmt::format("{}[{}]", path, i++), in.earlier_names);
    ok = ok && t;
    if (t) parts.push_back(std::move(*t));
  }
  if (!ok) return std::nullopt;
  return parts;
}

bool AnyNeedsPolling(const std::vector<Trigger>& parts) {
  return std::any_of(parts.begin(), parts.end(), [](const Trigger& t) { return NeedsPolling(t); });
}

}  // namespace

Nanos AllOf::MetAt(const TriggerState& s, Nanos* next_deadline) const {
  Nanos latest = 0;
  bool every = true;
  for (const Trigger& t : triggers) {
    const Nanos met = TriggerMetAt(t, s, next_deadline);
    if (met == kNever)
      every = false;
    else
      latest = std::max(latest, met);
  }
  return every ? latest : kNever;
}

bool AllOf::NeedsPolling() const { return AnyNeedsPolling(triggers); }

EarliestMoment AllOf::Earliest(const std::vector<Fault>& faults, int depth) const {
  EarliestMoment e{Duration::zero(), "when all of its triggers are met"};
  for (const Trigger& t : triggers) e.at = std::max(e.at, EarliestOf(t, faults, depth + 1).at);
  return e;
}

std::optional<Trigger> ParseAll(const TriggerInput& in) {
  std::optional<std::vector<Trigger>> parts = ReadParts(in);
  if (!parts) return std::nullopt;
  return AllOf{std::move(*parts)};
}

Nanos AnyOf::MetAt(const TriggerState& s, Nanos* next_deadline) const {
  Nanos earliest = kNever;
  for (const Trigger& t : triggers) {
    const Nanos met = TriggerMetAt(t, s, next_deadline);
    if (met != kNever && (earliest == kNever || met < earliest)) earliest = met;
  }
  return earliest;
}

bool AnyOf::NeedsPolling() const { return AnyNeedsPolling(triggers); }

EarliestMoment AnyOf::Earliest(const std::vector<Fault>& faults, int depth) const {
  EarliestMoment e{Duration::max(), "when the first of its triggers is met"};
  for (const Trigger& t : triggers) e.at = std::min(e.at, EarliestOf(t, faults, depth + 1).at);
  if (triggers.empty()) e.at = Duration::zero();
  return e;
}

std::optional<Trigger> ParseAny(const TriggerInput& in) {
  std::optional<std::vector<Trigger>> parts = ReadParts(in);
  if (!parts) return std::nullopt;
  return AnyOf{std::move(*parts)};
}

}  // namespace gracecheck
