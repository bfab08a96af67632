// The JSON report: every run of one gracecheck invocation, judged, for
// machines (CI dashboards, `gracecheck report RESULT.json --html F`, diffing
// two implementations). The format, "gracecheck/report/v1", is documented in
// reports/README.md; fields are only ever added within v1.
//
// Times are milliseconds (double) since the run's epoch (Timeline's clock),
// null for a moment that did not happen. The report holds no secrets: the
// Timeline holds none, and the target's log tail is passed through
// RedactSecrets() in case the target printed its database URL.
//
// Threading: pure functions of read-only inputs; WriteJsonReport writes one
// file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checks.h"
#include "redact.h"  // RedactSecrets, used by the other formats too
#include "timeline.h"

namespace gracecheck {

// One judged run. `timeline` must outlive the report.
struct RunReport {
  const Timeline* timeline = nullptr;
  std::vector<CheckResult> checks;
};

constexpr const char* kReportSchema = "gracecheck/report/v1";

// {"schema": "gracecheck/report/v1", "gracecheck_version": ..., "runs": [...]}.
nlohmann::json ReportJson(const std::vector<RunReport>& runs);
// One element of "runs".
nlohmann::json RunJson(const RunReport& run);
// The report around elements of "runs" made earlier (one RunJson per run, as
// `gracecheck run` goes).
nlohmann::json ReportJsonOfRuns(nlohmann::json runs);

// The report as written to a file: indented, invalid UTF-8 replaced.
std::string JsonReportText(const nlohmann::json& report);
// The report (or any part of it) as a reader gets it back from the file:
// invalid UTF-8 replaced, numbers as they print. `gracecheck run` renders
// this, so that it shows exactly what `gracecheck report RESULT.json` would.
nlohmann::json AsReadBack(const nlohmann::json& report);

// Write JsonReportText to `path`; throw std::runtime_error naming the path
// when they cannot.
void WriteJsonReport(const std::string& path, const nlohmann::json& report);
void WriteJsonReport(const std::string& path, const std::vector<RunReport>& runs);

}  // namespace gracecheck
