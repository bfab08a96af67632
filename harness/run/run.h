// One run (RunScenario): one scenario against one target, start to finish. It owns the
// moving parts (run database, target process, load, faults, probes), drives
// them in order and *records* what happened into a Timeline. It never judges:
// that is checks.h.
//
// A run is a Run (run.cc) of five phases, each a method:
//   Prepare          run database; target argv, env, readiness; load options
//   Start            target spawned -> ready -> probes -> load -> faults
//   AwaitExitOrHang  the target exits, or is declared hung and killed
//   Settle           faults and load stopped -> database sessions settle ->
//                    leftovers killed (orphans) -> probes stopped
//   Collect          the parts' records into the Timeline -> writes verified
//                    -> run database dropped
// It reaches the world only through RunParts (run_parts.h): the real ones
// on a PostgresServer, or a test's fakes. Whatever happens (an error, an
// interrupt), destructors stop the load, kill the target's group and drop
// the database.
//
// Threading: RunScenario blocks the calling thread; the parts run on their
// own threads. A target that cannot start or never becomes ready ends the
// run early, its reason in Timeline::start_error (an error run, judged by
// nothing). It throws PostgresError (infrastructure, exit 3), UsageError (a
// scenario value that cannot be filled in, exit 2) or interrupt::Interrupted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "postgres.h"
#include "run_parts.h"
#include "scenario.h"
#include "timeline.h"

namespace gracecheck {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunConfig {
  const Scenario* scenario = nullptr;
  std::string target_name = "target";
  PostgresServer* server = nullptr;
  std::map<std::string, std::string> binaries;  // {refapi} and friends -> path
  std::filesystem::path out_dir;                // target logs go here; must exist
  std::uint64_t seed = 1;
  // Phase lines for people ("ready after 52ms", "SIGTERM sent", ...).
  std::function<void(const std::string&)> progress;
  // Live figures, called about every 100 ms while the load runs.
  std::function<void(const std::string&)> status;
};

// On the real parts (PostgresParts(*config.server)).
Timeline RunScenario(const RunConfig& config);
// On `parts` (config.server unused), one run's.
Timeline RunScenario(const RunConfig& config, RunParts& parts);

}  // namespace gracecheck
