// The console report: one run, judged, for a person at a terminal or in a CI
// log. A header (scenario, target, seed, start time), every check with a
// ✓/✗, what it expected and observed, the evidence of each failure, then the
// run in figures (requests by outcome and latency before and after the
// signal, time from signal to exit, threads and database sessions at chosen
// moments) and a PASS/FAIL verdict line. Every figure comes from Summarize()
// (harness/summary.h).
//
// Threading: a pure rendering of read-only inputs; writes only to `out`.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "checks.h"
#include "timeline.h"

namespace gracecheck {

// `color`: ANSI colors (the CLI passes false when NO_COLOR is set or the
// output is not a TTY).
void PrintConsoleReport(FILE* out, const Timeline& tl, const std::vector<CheckResult>& checks,
                        bool color);

// The same report as a string.
std::string ConsoleReport(const Timeline& tl, const std::vector<CheckResult>& checks, bool color);

}  // namespace gracecheck
