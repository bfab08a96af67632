// One run (RunScenario): one scenario against one target, start to finish. It owns the
// moving parts (run database, target process, load, faults, probes), drives
// them in order and *records* what happened into a Timeline. It never judges:
// that is checks.h.
//
// Order: run database -> target spawned -> ready -> probes -> load -> faults
// -> target exits (or is declared hung) -> database sessions settle ->
// leftovers killed (orphans) -> writes verified -> run database dropped.
// Whatever happens (an error, an interrupt), destructors stop the load, kill
// the target's group and drop the database.
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

Timeline RunScenario(const RunConfig& config);

}  // namespace gracecheck
