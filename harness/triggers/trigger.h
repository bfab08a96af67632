// When a fault fires: its trigger. This header is the table of trigger
// kinds; each lives in its own file beside it, which holds all there is to
// know about it:
//
//   time.cc      1.5s, {time: D, since: load | ready}
//   after.cc     {after: previous | NAME, delay: D}
//   done.cc      {done: previous | NAME}
//   state.cc     {requests: N}, {inflight: K}, {db_active: K}
//   log.cc       {log: REGEX}
//   between.cc   {between: [A, B]}
//   combine.cc   {all: [...]}, {any: [...]}
//
// A kind's members, defined in its file:
//   MetAt(state, &deadline)  when it was met (<= state.now), or kNever; if a
//                            time-based part will be met later, lowers the
//                            deadline to that time (the scheduler sleeps to it)
//   NeedsPolling()           whether it waits on live state (counts, log
//                            lines) that only polling sees, or on time alone
//   Earliest(faults)         the earliest moment after time 0 it can be met,
//                            and why, for scenario warnings
// and its file's parse function has a row in TriggerSyntaxes() (trigger.cc),
// naming its key and the keys that go with it. MetAt, NeedsPolling and
// Earliest are std::visit over Trigger, so a kind that lacks one does not
// compile (it used to never fire, or throw on the scheduler's thread).
//
// Evaluation is a pure function of a TriggerState snapshot, so it is
// unit-tested on synthetic streams; the scheduler (faults.h) only feeds it.
//
// Threading: values; share them read-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "duration.h"
#include "timeline.h"

namespace gracecheck {

class YamlReader;
struct Entry;
class Map;
struct Fault;
struct Trigger;

// A snapshot of what triggers look at.
struct TriggerState {
  Nanos now = 0;
  Nanos time_zero = 0;  // load start, or ready without load
  Nanos ready = 0;
  std::uint64_t completed = 0;  // completed requests
  int inflight = 0;
  int db_active = 0;
  std::vector<Nanos> fault_met;              // per fault: when its trigger was met, or kNever
  std::vector<Nanos> fault_done;             // per fault: when it finished (faults.h), or kNever
  std::map<std::string, Nanos> log_matched;  // pattern -> first matching line's time
};

// The earliest moment after time 0 (the load's start) a trigger can be met,
// and why ("at 2s", "on a log line, …").
struct EarliestMoment {
  Duration at = Duration::zero();
  std::string why;
};

// ---- the kinds, each defined in its file

struct AtTime {              // time.cc
  Duration offset;           // after time 0
  bool since_ready = false;  // count from the target's readiness instead of load start
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct AfterFault {   // after.cc
  std::size_t fault;  // index into Scenario::faults, always an earlier one
  Duration delay;     // after that fault's trigger was met (whether or not it was sent)
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct DoneFault {    // done.cc
  std::size_t fault;  // index into Scenario::faults, always an earlier one
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct AfterRequests {  // state.cc
  std::uint64_t count;  // completed requests, whatever their outcome
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct AtInflight {  // state.cc
  int count;         // at least this many requests in flight at the harness
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct AtDbActive {  // state.cc
  int count;         // at least this many of the run's sessions 'active' in pg_stat_activity
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct OnLog {          // log.cc
  std::string pattern;  // ECMAScript regex, searched in each line of the target's stdout/stderr
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct Between {    // between.cc
  Duration lo, hi;  // a time after time 0 drawn uniformly from [lo, hi] with the run's seed
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct AllOf {                    // combine.cc
  std::vector<Trigger> triggers;  // met when every one is (at the last one's time)
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};
struct AnyOf {                    // combine.cc
  std::vector<Trigger> triggers;  // met when the first one is
  Nanos MetAt(const TriggerState& s, Nanos* next_deadline) const;
  bool NeedsPolling() const;
  EarliestMoment Earliest(const std::vector<Fault>& faults, int depth) const;
};

struct Trigger : std::variant<AtTime, AfterFault, DoneFault, AfterRequests, AtInflight, AtDbActive,
                              OnLog, Between, AllOf, AnyOf> {
  using variant::variant;
  Trigger() : variant(AtTime{Duration::zero()}) {}
};

// ---- the dispatch

// When `trigger` was met (<= state.now), or kNever if not yet. If it is not
// met and a time-based part will become true later, *next_deadline is
// lowered to that time.
Nanos TriggerMetAt(const Trigger& trigger, const TriggerState& state, Nanos* next_deadline);
// True if the trigger depends on live state (requests, inflight, db, log).
bool NeedsPolling(const Trigger& trigger);
// `depth` bounds the walk through chained faults.
EarliestMoment EarliestOf(const Trigger& trigger, const std::vector<Fault>& faults, int depth = 0);
// Replaces every {between: [A, B]} with a time drawn from `rng`, appending
// "between [A, B]: drew D" to *notes.
void DrawRandomTimes(Trigger* trigger, std::mt19937_64* rng, std::vector<std::string>* notes);
// Every {log: REGEX} pattern in the trigger.
void CollectLogPatterns(const Trigger& trigger, std::vector<std::string>* patterns);

// ---- the grammar

// A trigger as written: a duration (1.5s), or a mapping with one kind's key
// and the keys that go with it. nullopt after reporting its problems.
// `earlier_names`: the faults above this one ("" when unnamed), for
// {after: NAME} and {after: previous}.
std::optional<Trigger> ReadTrigger(YamlReader& yaml, const Entry& e, const std::string& path,
                                   const std::vector<std::string>& earlier_names);

// The YAML a parse function reads.
struct TriggerInput {
  YamlReader& yaml;
  const Entry& outer;  // the trigger's own entry (`at: {…}`): where a missing key is reported
  const Entry& entry;  // the kind's key and value: `requests: 100`
  const Map& trigger;  // the whole mapping, for the keys that go with it
  const std::string& path;                        // "faults[1].at"
  const std::vector<std::string>& earlier_names;  // as for ReadTrigger
};

// One parse function per key, each in its kind's file.
std::optional<Trigger> ParseTime(const TriggerInput& input);
std::optional<Trigger> ParseAfter(const TriggerInput& input);
std::optional<Trigger> ParseDone(const TriggerInput& input);
std::optional<Trigger> ParseRequests(const TriggerInput& input);
std::optional<Trigger> ParseInflight(const TriggerInput& input);
std::optional<Trigger> ParseDbActive(const TriggerInput& input);
std::optional<Trigger> ParseLog(const TriggerInput& input);
std::optional<Trigger> ParseBetween(const TriggerInput& input);
std::optional<Trigger> ParseAll(const TriggerInput& input);
std::optional<Trigger> ParseAny(const TriggerInput& input);

// The earlier fault input.entry names (previous, or a name), for after and
// done; nullopt after reporting why not.
std::optional<std::size_t> ReadFaultRef(const TriggerInput& input, const std::string& path);

struct TriggerSyntax {
  std::string key;                     // in the trigger mapping: "after"
  std::vector<std::string> with_keys;  // keys that go with this kind only ("delay")
  std::string missing_hint;            // when only its with_keys are given
  // nullopt after reporting the problems through input.yaml.
  std::optional<Trigger> (*parse)(const TriggerInput& input);
};

// Every kind, in the order the documentation lists them.
const std::vector<TriggerSyntax>& TriggerSyntaxes();

}  // namespace gracecheck
