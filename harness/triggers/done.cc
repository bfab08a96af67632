// {done: previous | NAME}: once an earlier fault has finished, whatever its
// outcome: its action and every follow-up of it (a pause's SIGCONT, a
// kill_after's SIGKILL decision, a block's release, an http_get's answer)
// done, or the fault given up (its trigger timed out, its target gone).
// Kubernetes sends SIGTERM when the preStop hook returns: that is
// {done: prestop}. Unlike {after: …}, which counts from when the earlier
// fault's trigger was met.
#include "scenario.h"
#include "triggers/trigger.h"

namespace gracecheck {

Nanos DoneFault::MetAt(const TriggerState& s, Nanos*) const {
  const Nanos done = fault < s.fault_done.size() ? s.fault_done[fault] : kNever;
  return done == kNever ? kNever : std::min(done, s.now);
}

// The scheduler wakes itself when a fault finishes: no polling needed.
bool DoneFault::NeedsPolling() const { return false; }

EarliestMoment DoneFault::Earliest(const std::vector<Fault>& faults, int depth) const {
  if (fault >= faults.size() || depth > 64) return {Duration::zero(), "when another fault is done"};
  const EarliestMoment before = EarliestOf(faults[fault].trigger, faults, depth + 1);
  return {before.at, "when " + faults[fault].name + " is done (" + before.why + ")"};
}

std::optional<Trigger> ParseDone(const TriggerInput& in) {
  std::optional<std::size_t> fault = ReadFaultRef(in, in.path + ".done");
  if (!fault) return std::nullopt;
  return DoneFault{*fault};
}

}  // namespace gracecheck
