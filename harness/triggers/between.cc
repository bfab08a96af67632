// {between: [A, B]}: a moment drawn uniformly from [A, B] after time 0 with
// the run's seed, so that a seed replays it (DrawRandomTimes, trigger.cc,
// turns it into a time before the run starts and notes what it drew).
#include <fmt/format.h>

#include "triggers/trigger.h"
#include "yaml_reader.h"

namespace gracecheck {

Nanos Between::MetAt(const TriggerState& s, Nanos* next_deadline) const {
  // Undrawn (DrawRandomTimes not applied): the earliest moment.
  return AtTime{lo}.MetAt(s, next_deadline);
}

bool Between::NeedsPolling() const { return false; }

EarliestMoment Between::Earliest(const std::vector<Fault>&, int) const {
  return {lo, fmt::format("between {} and {}", FormatDuration(lo), FormatDuration(hi))};
}

std::optional<Trigger> ParseBetween(const TriggerInput& in) {
  const Entry& k = in.entry;
  const std::string path = in.path + ".between";
  if (!k.value.IsSequence() || k.value.size() != 2) {
    in.yaml.Error(YamlReader::Where(k),
                  fmt::format("{}: expected [EARLIEST, LATEST], e.g. [1s, 3s], got {}", path,
                              YamlReader::Describe(k.value)));
    return std::nullopt;
  }
  Entry lo{k.key, k.key_node, k.value[0]};
  Entry hi{k.key, k.key_node, k.value[1]};
  std::optional<Duration> a = in.yaml.ReadDuration(lo, path + "[0]", false);
  std::optional<Duration> b = in.yaml.ReadDuration(hi, path + "[1]", false);
  if (!a || !b) return std::nullopt;
  if (*b < *a) {
    in.yaml.Error(YamlReader::Where(k),
                  fmt::format("{}: the latest ({}) is before the earliest ({})", path,
                              FormatDuration(*b), FormatDuration(*a)));
    return std::nullopt;
  }
  return Between{*a, *b};
}

}  // namespace gracecheck
