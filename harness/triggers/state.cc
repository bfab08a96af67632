// Triggers on the run's live state, polled by the scheduler:
//   {requests: N}   N requests completed, whatever their outcome
//   {inflight: K}   at least K requests in flight at the harness
//   {db_active: K}  at least K of the run's sessions 'active' in pg_stat_activity
// Each is met when a poll first sees it, so it is as precise as the poll.
#include <limits>

#include "triggers/trigger.h"
#include "yaml_reader.h"

namespace gracecheck {

namespace {

// What a count can be met for: the moment it is seen, or never.
Nanos WhenSeen(bool reached, const TriggerState& s) { return reached ? s.now : kNever; }

}  // namespace

Nanos AfterRequests::MetAt(const TriggerState& s, Nanos*) const {
  return WhenSeen(s.completed >= count, s);
}
bool AfterRequests::NeedsPolling() const { return true; }
EarliestMoment AfterRequests::Earliest(const std::vector<Fault>&, int) const {
  return {Duration::zero(), "on a count of requests, while the load runs"};
}
std::optional<Trigger> ParseRequests(const TriggerInput& in) {
  auto n =
      in.yaml.ReadInt(in.entry, in.path + ".requests", 1, std::numeric_limits<std::int64_t>::max());
  if (!n) return std::nullopt;
  return AfterRequests{static_cast<std::uint64_t>(*n)};
}

Nanos AtInflight::MetAt(const TriggerState& s, Nanos*) const {
  return WhenSeen(s.inflight >= count, s);
}
bool AtInflight::NeedsPolling() const { return true; }
EarliestMoment AtInflight::Earliest(const std::vector<Fault>&, int) const {
  return {Duration::zero(), "on requests in flight, while the load runs"};
}
std::optional<Trigger> ParseInflight(const TriggerInput& in) {
  auto n = in.yaml.ReadInt(in.entry, in.path + ".inflight", 1, 1000000);
  if (!n) return std::nullopt;
  return AtInflight{static_cast<int>(*n)};
}

Nanos AtDbActive::MetAt(const TriggerState& s, Nanos*) const {
  return WhenSeen(s.db_active >= count, s);
}
bool AtDbActive::NeedsPolling() const { return true; }
EarliestMoment AtDbActive::Earliest(const std::vector<Fault>&, int) const {
  return {Duration::zero(), "on active database sessions, while the load runs"};
}
std::optional<Trigger> ParseDbActive(const TriggerInput& in) {
  auto n = in.yaml.ReadInt(in.entry, in.path + ".db_active", 1, 100000);
  if (!n) return std::nullopt;
  return AtDbActive{static_cast<int>(*n)};
}

}  // namespace gracecheck
