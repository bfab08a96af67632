// 1.5s, or {time: D, since: load | ready}: D after time 0 (the load's
// start), or after the target became ready.
#include <fmt/format.h>

#include "triggers/trigger.h"
#include "yaml_reader.h"

namespace gracecheck {

Nanos AtTime::MetAt(const TriggerState& s, Nanos* next_deadline) const {
  const Nanos t = (since_ready ? s.ready : s.time_zero) + offset.count();
  if (t <= s.now) return t;
  *next_deadline = std::min(*next_deadline, t);
  return kNever;
}

bool AtTime::NeedsPolling() const { return false; }

EarliestMoment AtTime::Earliest(const std::vector<Fault>&, int) const {
  return {offset, fmt::format("at {}", FormatDuration(offset))};
}

std::optional<Trigger> ParseTime(const TriggerInput& in) {
  std::optional<Duration> d = in.yaml.ReadDuration(in.entry, in.path + ".time", false);
  bool since_ready = false;
  if (const Entry* since = in.trigger.Find("since")) {
    std::optional<std::string> v =
        in.yaml.ReadChoice(*since, in.path + ".since", {"load", "ready"});
    if (!v) return std::nullopt;
    since_ready = *v == "ready";
  }
  if (!d) return std::nullopt;
  return AtTime{*d, since_ready};
}

}  // namespace gracecheck
