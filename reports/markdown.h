// The Markdown summary, for a CI job's summary page (e.g. appended to
// $GITHUB_STEP_SUMMARY): a verdict line, one table row per run, then per run
// the verdict of every check, the evidence of each failure, and the key
// figures (requests by outcome before/after the signal, latency, signal to
// exit, threads, database sessions). GitHub-flavoured: tables, <details>.
//
// Threading: a pure rendering of read-only inputs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "report_view.h"

namespace gracecheck {

std::string MarkdownReport(const ReportView& report);
// `report`: a gracecheck/report/v1 document; throws ReportError if it is not.
std::string MarkdownReport(const nlohmann::json& report);

}  // namespace gracecheck
