// A suite's plan: which runs `gracecheck run` makes, in what order, with
// which seed and directory, and what is wrong with the suite before any of
// them starts.
//
// The runs are in report order: scenario, then target (--target, in the
// order given), then repetition. Run i's seed is the base seed + i, so one
// seed replays the whole suite and `--seed S` of a report's run replays it
// alone. Every run has its own directory under the output root, also when
// two scenarios share a name ("NAME-TARGET-REP", then "~2", "~3").
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fd_limit.h"
#include "scenario.h"

namespace gracecheck {

struct PlannedRun {
  const Scenario* scenario = nullptr;  // with its target override applied
  std::string target_name;
  int index = 0;       // in report order
  int repetition = 0;  // from 0
  std::uint64_t seed = 0;
  std::filesystem::path dir;  // the run's target logs
};

struct RunPlan {
  std::vector<std::shared_ptr<const Scenario>> scenarios;  // what the runs point at
  std::vector<PlannedRun> runs;
  int repeat = 1;
};

RunPlan PlanRuns(const std::vector<Scenario>& scenarios,
                 const std::vector<TargetOverride>& overrides, int repeat, std::uint64_t base_seed,
                 const std::filesystem::path& out_root);

// A scenario that restarts the embedded cluster takes every other run's
// sessions down with it: with --jobs it runs alone.
bool RunsAlone(const Scenario& s);

// "sigterm-mid-load against target (seed 7), run 2 of 5"
std::string RunLabel(const PlannedRun& p, int repeat);

// What cannot work against an external server (--pg-url), at its place in
// the file: a db: restart fault (it used to run the whole scenario, then
// fail faults.delivered as if the server were at fault).
std::vector<ScenarioError> ExternalServerProblems(const std::vector<Scenario>& scenarios);

// Why the suite cannot fit under the (raised) fd limit with `jobs` at once,
// each of `copies` runs per scenario; nullopt when it fits. The load's
// sockets are gracecheck's own fds: a suite that does not fit is refused
// before it starts, not counted as drops later.
// Scenarios whose target.pooler cannot start here (no pgbouncer binary):
// said before anything starts, an infrastructure problem (exit 3).
std::vector<ScenarioError> PoolerProblems(const std::vector<Scenario>& scenarios);

std::optional<std::string> SuiteFdShortage(const std::vector<Scenario>& scenarios,
                                           std::size_t copies, int jobs, const FdLimit& limit);

}  // namespace gracecheck
