// The console report: one run, judged, for a person at a terminal or in a CI
// log. A header (scenario, target, seed, start time), every check with a
// ✓/✗, what it expected and observed, the evidence of each failure, then the
// run in figures (figures.h: requests by outcome and latency before and after
// the signal, time from signal to exit, threads and database sessions at
// chosen moments) and a PASS/FAIL verdict line.
//
// Like every renderer it reads the JSON report (report_view.h): `gracecheck
// run` prints each run's JSON as it finishes, `gracecheck report --console`
// prints a saved report's runs.
//
// Threading: a pure rendering of read-only inputs; writes only to `out`.
#pragma once

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "report_view.h"

namespace gracecheck {

// `color`: ANSI colors (the CLI passes false when NO_COLOR is set or the
// output is not a TTY).
std::string ConsoleReport(const RunView& run, bool color);
// `run`: one element of the JSON report's "runs".
std::string ConsoleReport(const nlohmann::json& run, bool color);
void PrintConsoleReport(FILE* out, const nlohmann::json& run, bool color);

// The one line that ends a suite: how many runs passed, failed and were
// errors, how many checks were skipped, the wall time, and where the
// reports are (`where`: a directory or the files written; empty: none), e.g.
// "gracecheck: 4 runs in 12.3s: 2 passed, 1 failed, 1 error; 3 checks
// skipped; reports in out/". An interrupted suite says so first.
std::string SuiteTally(const ReportView& report, std::chrono::nanoseconds wall,
                       const std::string& where);

}  // namespace gracecheck
