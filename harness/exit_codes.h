// gracecheck's exit codes (DESIGN.md, "CLI and exit codes").
#pragma once

namespace gracecheck {

constexpr int kExitPassed = 0;         // every check passed
constexpr int kExitCheckFailed = 1;    // a check failed
constexpr int kExitUsage = 2;          // usage error or invalid scenario
constexpr int kExitInfrastructure = 3; // database or target could not start
constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM/SIGHUP to gracecheck

}  // namespace gracecheck
