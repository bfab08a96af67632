// A JSON report (gracecheck/report/v1, reports/README.md) read back into
// typed figures for the renderers. Every renderer (console, JUnit, Markdown,
// HTML) takes the JSON report as its only input, so that `gracecheck run`
// (which builds the JSON, then renders it) and `gracecheck report
// RESULT.json` are one code path and show the same figures.
//
// Reports written by older gracecheck versions lack fields added later
// within v1; those read as unknown (kNever, Timeline::kUnknown, an empty
// series, has_request_series false) and the renderers leave them out or
// show "-". A field of an unexpected type reads as unknown too: reading never
// throws on content, only ReadReport on a document that is not a v1 report.
//
// Threading: pure functions of read-only JSON; the views are plain values.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "checks.h"
#include "request_series.h"
#include "summary.h"
#include "timeline.h"

namespace gracecheck {

// Not a report this gracecheck can read (message says why, naming the file
// when there is one).
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WritesView {
  bool verified = false;
  int keys = 0;
  std::vector<std::string> lost;
  std::vector<std::string> unacknowledged_applied;
};

struct RunView {
  std::string scenario;
  std::string scenario_file;  // its path as given to gracecheck; "" in older reports
  std::string target;
  std::uint64_t seed = 0;
  std::string epoch;  // ISO 8601 UTC, "2024-05-01T10:00:00.123Z"
  std::int64_t epoch_unix_ms = 0;
  int target_pid = 0;
  RunVerdict verdict = RunVerdict::kFail;
  std::vector<std::string> harness_errors;  // why the run is invalid (verdict kError)
  std::vector<std::string> warnings;        // what to know that is no verdict
  // Behind a per-run pooler (target.pooler): which, and the most server
  // connections it held at once; "" without one.
  std::string pooler;
  int pooler_server_sessions_at_once = 0;
  std::string start_error;          // why the target never became ready (verdict kError, no checks)
  std::vector<CheckResult> checks;  // in CheckOrder()

  // Moments since the run's epoch; kNever when it did not happen (or the
  // report does not say).
  Nanos spawned = kNever;
  Nanos ready = kNever;
  Nanos load_start = kNever;
  Nanos load_end = kNever;
  Nanos first_signal = kNever;
  Nanos exited = kNever;
  Nanos db_sessions_gone = kNever;
  Nanos first_refused = kNever;    // the first refused connection (listener closed)
  Nanos last_response = kNever;    // the last complete response
  Nanos db_pool_closed = kNever;   // the first sample with no session left, for good
  Nanos db_pool_closing = kNever;  // its first session closed by the target (DbPoolClosingBegan)

  std::string exit_status;  // "exit 0", "signal SIGKILL"; empty when it did not exit
  std::vector<int> orphans;
  std::vector<TreeProcess> processes;  // the target's tree, the target first
  std::vector<FaultRecord> faults;  // `signal` is the number
  Summary summary;                  // harness/timeline/summary.h, as the run computed it
  std::vector<std::pair<std::string, int>> thread_names_at_exit;
  long long sessions_abandoned = Timeline::kUnknown;
  WritesView writes;

  std::vector<ProcSample> proc_samples;
  std::vector<DbSample> db_samples;
  bool has_request_series = false;
  RequestSeries requests;
  std::vector<DbSession> db_sessions;
  std::string target_log_tail;  // redacted by the JSON report

  // A moment for people, as in check evidence: "+12.3ms" / "-1.500s"
  // relative to the first fault, or "t=1.234s" when none was delivered.
  std::string Moment(Nanos t) const;
  // The first fault that was delivered; nullptr when none was.
  const FaultRecord* FirstDeliveredFault() const;
  bool passed() const { return verdict == RunVerdict::kPass; }
  bool error() const { return verdict == RunVerdict::kError; }
  int FailedChecks() const;
  int SkippedChecks() const;
  // The latest moment the report knows of: a moment, a sample, a fault, the
  // end of the last request bucket (the end of the recording, for charts).
  Nanos LastMoment() const;
};

struct ReportView {
  std::string gracecheck_version;
  std::vector<RunView> runs;
  // gracecheck was interrupted (Ctrl-C, SIGTERM): `runs` are those judged
  // before it, the rest never ran. Reads as interrupted in every format.
  bool interrupted = false;

  // The worst verdict of its runs (kPass for none).
  RunVerdict Worst() const;
  // How many runs have verdict `v`.
  int Count(RunVerdict v) const;
};

// Throws ReportError when `report` is not a gracecheck/report/v1 document;
// `origin` (a file name) prefixes the message.
ReportView ReadReport(const nlohmann::json& report, const std::string& origin = "report");
RunView ReadRun(const nlohmann::json& run);

// Reads and parses a JSON report file; throws ReportError naming it when it
// cannot be read, is not JSON, or is not a v1 report.
nlohmann::json LoadReportFile(const std::string& path);

// Milliseconds (as in the JSON) to the Timeline's nanoseconds.
Nanos MsToNanos(double ms);

}  // namespace gracecheck
