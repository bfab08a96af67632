// The harness's own file-descriptor budget. Every load connection is a
// socket of gracecheck's, so a scenario with 2000 connections cannot run
// under the usual soft limit of 1024: without this, the generator's own
// socket() calls failed with EMFILE and were counted as the server's drops.
// At start gracecheck raises its soft limit to the hard one; a suite that
// still does not fit is refused before anything starts (exit 3).
//
// Threading: RaiseFdLimit changes the process's limit; call it once, from
// main, before any thread starts. The rest are pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario.h"

namespace gracecheck {

struct FdLimit {
  long long soft = 0;  // -1: unlimited
  long long hard = 0;
};

// Sets the soft RLIMIT_NOFILE to the hard one and returns the limits now in
// force (targets and the cluster inherit the raised limit, as they would
// from a user who ran `ulimit -n` to the hard limit).
FdLimit RaiseFdLimit();

// What one run holds besides its load connections: the cluster's and the
// probes' connections, the io_context's fds, the target's log files and
// pidfd, /proc files being read, and room to spare (measured at 21 for a
// run with no load, docs/DESIGN.md), plus the target's threads' schedstat
// files CpuWaitProbe keeps open (at most kCpuWaitFiles, 64).
constexpr int kFdsPerRun = 128;
// What gracecheck holds before any run: stdio, the watchdog pipe, the
// cluster's lock and log, the interrupt thread.
constexpr int kFdsBase = 32;

// The fds a run of `scenario` needs.
int FdsNeeded(const Scenario& scenario);

// The fds needed when `jobs` runs go at once: the `jobs` largest of `needs`
// (one per planned run), plus kFdsBase.
long long FdsNeededAtOnce(std::vector<int> needs, int jobs);

// Why the runs cannot go under `limit`, as one line (what they need, the
// limit, how to raise it); nullopt when they fit.
std::optional<std::string> FdShortage(long long needed, int connections, const FdLimit& limit);

}  // namespace gracecheck
