// gracecheck's exit codes (DESIGN.md, "CLI and exit codes").
#pragma once

namespace gracecheck {

// A command of several runs exits with the worst of them: 3 over 1 over 0.
constexpr int kExitPassed = 0;          // every check passed or was skipped
constexpr int kExitCheckFailed = 1;     // a check failed
constexpr int kExitUsage = 2;           // usage error or invalid scenario
constexpr int kExitInfrastructure = 3;  // database or target could not start, or the harness
                                        // failed during a run (an invalid run, verdict "error")
constexpr int kExitInterrupted = 130;   // SIGINT/SIGTERM/SIGHUP to gracecheck

// The same, as the man page says them.
struct ExitCodeMeaning {
  int code;
  const char* meaning;
};
inline constexpr ExitCodeMeaning kExitCodeMeanings[] = {
    {kExitPassed, "every check passed (or was skipped: not measurable)"},
    {kExitCheckFailed, "a check failed"},
    {kExitUsage, "usage error or invalid scenario (file:line:col: message)"},
    {kExitInfrastructure,
     "the database or a target could not start (that run is an error, the others still run and "
     "every report is written), or the harness failed during a run (an invalid run, verdict "
     "error)"},
    {kExitInterrupted, "interrupted (SIGINT, SIGTERM or SIGHUP to gracecheck)"},
};

}  // namespace gracecheck
