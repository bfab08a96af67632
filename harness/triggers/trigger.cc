#include "triggers/trigger.h"

#include <fmt/format.h>

#include <algorithm>

#include "yaml_reader.h"

namespace gracecheck {

namespace {

// A Trigger as the std::variant it is, for std::visit.
const Trigger::variant& AsVariant(const Trigger& t) { return t; }

}  // namespace

Nanos TriggerMetAt(const Trigger& trigger, const TriggerState& state, Nanos* next_deadline) {
  return std::visit([&](const auto& t) { return t.MetAt(state, next_deadline); },
                    AsVariant(trigger));
}

bool NeedsPolling(const Trigger& trigger) {
  return std::visit([](const auto& t) { return t.NeedsPolling(); }, AsVariant(trigger));
}

EarliestMoment EarliestOf(const Trigger& trigger, const std::vector<Fault>& faults, int depth) {
  return std::visit([&](const auto& t) { return t.Earliest(faults, depth); }, AsVariant(trigger));
}

void DrawRandomTimes(Trigger* trigger, std::mt19937_64* rng, std::vector<std::string>* notes) {
  if (auto* b = std::get_if<Between>(trigger)) {
    std::uniform_int_distribution<Duration::rep> pick(b->lo.count(), b->hi.count());
    const Duration drawn(pick(*rng));
    notes->push_back(fmt::format("between [{}, {}]: drew {}", FormatDuration(b->lo),
                                 FormatDuration(b->hi), FormatDuration(drawn)));
    *trigger = AtTime{drawn};
  } else if (auto* all = std::get_if<AllOf>(trigger)) {
    for (Trigger& t : all->triggers) DrawRandomTimes(&t, rng, notes);
  } else if (auto* any = std::get_if<AnyOf>(trigger)) {
    for (Trigger& t : any->triggers) DrawRandomTimes(&t, rng, notes);
  }
}

void CollectLogPatterns(const Trigger& trigger, std::vector<std::string>* patterns) {
  if (const auto* log = std::get_if<OnLog>(&trigger)) {
    if (std::find(patterns->begin(), patterns->end(), log->pattern) == patterns->end()) {
      patterns->push_back(log->pattern);
    }
  } else if (const auto* all = std::get_if<AllOf>(&trigger)) {
    for (const Trigger& t : all->triggers) CollectLogPatterns(t, patterns);
  } else if (const auto* any = std::get_if<AnyOf>(&trigger)) {
    for (const Trigger& t : any->triggers) CollectLogPatterns(t, patterns);
  }
}

const std::vector<TriggerSyntax>& TriggerSyntaxes() {
  static const std::vector<TriggerSyntax> table = {
      {"time", {"since"}, " (e.g. {time: 1s, since: ready})", ParseTime},
      {"after", {"delay"}, " (after: previous, or the name of an earlier fault)", ParseAfter},
      {"done", {}, "", ParseDone},
      {"requests", {}, "", ParseRequests},
      {"inflight", {}, "", ParseInflight},
      {"db_active", {}, "", ParseDbActive},
      {"log", {}, "", ParseLog},
      {"between", {}, "", ParseBetween},
      {"all", {}, "", ParseAll},
      {"any", {}, "", ParseAny},
  };
  return table;
}

std::optional<Trigger> ReadTrigger(YamlReader& yaml, const Entry& e, const std::string& path,
                                   const std::vector<std::string>& earlier_names) {
  if (e.value.IsScalar()) {
    std::optional<Duration> d = yaml.ReadDuration(e, path, false);
    if (!d) return std::nullopt;
    return AtTime{*d};
  }
  if (!e.value.IsMap()) {
    yaml.Error(YamlReader::Where(e),
               fmt::format("{}: expected a duration (1.5s) or a trigger mapping such as "
                           "{{after: previous, delay: D}}, {{requests: N}} or {{any: [...]}}, "
                           "got {}",
                           path, YamlReader::Describe(e.value)));
    return std::nullopt;
  }
  static const std::vector<std::string> keys = KindKeys(TriggerSyntaxes());
  std::optional<Map> m = yaml.ReadMap(e.value, YamlReader::Where(e), path, keys);
  if (!m) return std::nullopt;
  const auto kinds = KindsGiven(*m, TriggerSyntaxes());
  if (kinds.empty()) {
    if (e.value.size() == 0) {
      yaml.Error(YamlReader::Where(e),
                 fmt::format("{}: empty trigger (write a duration such as 1.5s, or e.g. "
                             "{{after: previous, delay: D}})",
                             path));
    } else {
      // Only keys that go with a kind: name the kind that is missing.
      for (const TriggerSyntax& t : TriggerSyntaxes()) {
        for (const std::string& with : t.with_keys) {
          if (m->Find(with)) {
            yaml.Missing(e.key_node.Mark(), path, t.key, t.missing_hint);
            return std::nullopt;
          }
        }
      }
    }
    return std::nullopt;
  }
  if (kinds.size() > 1) {
    yaml.Error(kinds[1].first->key_node.Mark(),
               fmt::format("{}: one trigger kind per mapping, got '{}' and '{}' (combine them with "
                           "all: [...] or any: [...])",
                           path, kinds[0].first->key, kinds[1].first->key));
    return std::nullopt;
  }
  const auto [entry, syntax] = kinds[0];
  yaml.OthersKeys(*m, path, syntax, TriggerSyntaxes());
  return syntax->parse({yaml, e, *entry, *m, path, earlier_names});
}

}  // namespace gracecheck
