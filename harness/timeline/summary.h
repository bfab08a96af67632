// The Summary: the figures every report shows about one run, derived from
// its Timeline (counts by outcome, latency percentiles, time from the first
// fault to the exit, thread and database-session figures, request rate).
// Summarize() is the only place that computes them, so the console, JSON and
// any later report agree to the nanosecond. Also here: how times are written
// for people in check evidence and reports.
//
// "Before" and "after" the first fault follow RequestRecord::kAfterSignal (the
// request's intended start was at or after the first fault's delivery).
//
// Threading: pure functions over a read-only Timeline; call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "timeline.h"

namespace gracecheck {

// Percentiles (nearest rank) of the latency of ok requests, measured from
// their intended start (RequestRecord::latency()). All kNever when count is 0.
struct LatencySummary {
  int count = 0;
  Nanos p50 = kNever;
  Nanos p90 = kNever;
  Nanos p99 = kNever;
  Nanos max = kNever;
};

// Requests of one phase of the run.
struct PhaseSummary {
  int total = 0;
  std::array<int, kOutcomeCount> outcomes{};  // indexed by Outcome
  int dropped = 0;                            // RequestRecord::dropped(), nothing excused
  LatencySummary latency;
  int count(Outcome o) const { return outcomes[static_cast<int>(o)]; }
};

// Thread counts of the target (ProcSample::threads). kUnknown when no sample
// fits the moment.
struct ThreadFigures {
  int before_load = Timeline::kUnknown;       // Timeline::threads_before_load
  int idle_after_load = Timeline::kUnknown;   // Timeline::threads_idle_after_load
  int peak = Timeline::kUnknown;              // highest in any sample
  int at_fault = Timeline::kUnknown;          // last sample at or before the first fault
  int last_before_exit = Timeline::kUnknown;  // last sample before the exit (or the last one)
};

// Sessions of the run's database at chosen moments: the DbSample taken then
// (by state). The `known_*` flags say whether a sample fits the moment.
struct DbFigures {
  DbSample before_load;       // last sample before the load started
  DbSample peak;              // the first sample with the highest total
  DbSample highest_by_state;  // each state's highest count on its own (t unused)
  DbSample at_fault;          // last sample at or before the first fault
  DbSample last_before_exit;  // last sample at or before the exit (or the last one)
  bool known_before_load = false;
  bool known_peak = false;  // also for highest_by_state
  bool known_at_fault = false;
  bool known_last_before_exit = false;
};

struct Summary {
  PhaseSummary before;  // requests sent before the first fault (all of them if none)
  PhaseSummary after;   // requests sent at or after it
  PhaseSummary all;
  // Requests per second over the load: requests recorded divided by
  // load_end - load_start (0 when the load did not run).
  double requests_per_second = 0;
  Nanos load_duration = kNever;
  Nanos fault_to_exit = kNever;  // exited - first_signal
  ThreadFigures threads;
  DbFigures db;
};

Summary Summarize(const Timeline& tl);

// Whether the target was saturated before the first fault: requests that
// waited kSaturatedWait or more from their intended start to their write
// (the open model queues an arrival while every connection is busy), less
// the time the generator itself stalled, more than 1% of those sent before
// the fault and at least 5. The report says so ("" when not): a shutdown
// judged under overload is not the same verdict.
constexpr Nanos kSaturatedWait = 100'000'000;
std::string SaturationNote(const Timeline& tl);

// Nearest-rank percentiles of `latencies` (sorted in place).
LatencySummary Percentiles(std::vector<Nanos>* latencies);

// A span for people, at a precision that suits its size: "0.05ms", "12.3ms",
// "1.234s"; "-" for kNever.
std::string FormatMillis(Nanos d);
// A moment for people: relative to the first fault ("+12.3ms", "-1.500s")
// when one was delivered, else since the run's epoch ("t=1.234s").
std::string FormatMoment(Nanos t, const Timeline& tl);
// Wall-clock time for people and machines: "2024-05-01T10:00:00.000Z".
std::string FormatUnixMillis(std::int64_t unix_ms);
// Exit status as "exit 0" or "signal SIGTERM".
std::string FormatExitStatus(bool signaled, int code, int signal);

}  // namespace gracecheck
