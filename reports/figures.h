// The key figures of a run, as text for people: requests by outcome before
// and after the signal, latency, signal to exit, threads and database
// sessions at chosen moments. Written once here and shown by the console,
// the JUnit report (system-out), the Markdown summary and the HTML report,
// so that they all say the same.
//
// Threading: pure functions of a read-only RunView.
#pragma once

#include <string>
#include <vector>

#include "report_view.h"

namespace gracecheck {

struct Figure {
  std::string label;  // "requests", "latency (ok)", "signal→exit", "threads", "db sessions"
  std::string text;
};

std::vector<Figure> KeyFigures(const RunView& run);

// "101 (25 ok, 75 refused, 1 idle_closed), 1 dropped"; "none".
std::string OutcomesText(const PhaseSummary& p);
// "p50 3.00ms, p90 4.00ms, p99 4.00ms, max 4.00ms"; "no ok request".
std::string LatencyText(const LatencySummary& l);
// "SIGTERM delivered at t=600.1ms (lag 0.150ms); exit 0 after 189.8ms".
std::string SignalToExitText(const RunView& run);
// For a table cell: "exit 0 after 189.8ms"; "no exit (killed by gracecheck)".
std::string ExitText(const RunView& run);
// For a table cell: p50, p90, p99, max joined by `sep`; "–" when none.
std::string LatencyCell(const LatencySummary& l, const char* sep);
// "before load 6, peak 14, at signal 14, last before exit 2".
std::string ThreadsText(const RunView& run);
// "before load 0, peak 5 (at most 2 active, 4 idle), ...; all gone 65.0ms after the exit".
std::string DbSessionsText(const RunView& run);
// Behind a per-run pooler, which one and what the db sessions then are; ""
// without one.
std::string PoolerText(const RunView& run);

// For a table cell: the run's checks, "12 passed", "10 passed, 2 skipped",
// "7 of 14 failed", "1 of 12 failed, 2 skipped".
std::string ChecksCell(const RunView& run);
// The report's headline: "3 runs passed", "1 of 3 runs failed", "1 of 3 runs
// invalid (harness error), 1 failed".
std::string RunsVerdictText(const ReportView& report);

// "sigterm-mid-load against refapi".
std::string RunTitle(const RunView& run);

}  // namespace gracecheck
