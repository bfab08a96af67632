// The machine a run was made on, as the reports name it so that a replay
// (gracecheck rerun) can say how its machine differs: cores, kernel, and
// the load average when the suite started (a loaded machine changes what a
// timing verdict means). Reads /proc and uname(2); any thread.
#pragma once

#include <string>

namespace gracecheck {

struct MachineInfo {
  unsigned cores = 0;   // online CPUs
  std::string kernel;   // uname -sr: "Linux 6.1.0-18-amd64"
  double load[3] = {};  // 1, 5 and 15 minute load averages; negative if unknown
};

MachineInfo DescribeMachine();

}  // namespace gracecheck
