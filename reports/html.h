// The HTML report: one self-contained file (inline CSS and SVG; no script,
// no font, nothing fetched from the network) for a person to open after a
// run. At the top, the verdict of every run and each failed check with its
// evidence; then per run a timeline chart (timeline_chart.h), every check,
// the requests by outcome before and after the signal and the other key
// figures, and the target's last output lines. When several runs are shown,
// their charts share one time axis aligned on each run's first fault, and
// the same y scales.
//
// Threading: a pure rendering of read-only inputs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "report_view.h"

namespace gracecheck {

std::string HtmlReport(const ReportView& report);
// `report`: a gracecheck/report/v1 document; throws ReportError if it is not.
std::string HtmlReport(const nlohmann::json& report);

}  // namespace gracecheck
