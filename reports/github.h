// GitHub Actions annotations: one workflow command per finding, which the
// Actions runner turns into an annotation on the job and in the pull
// request's checks when printed on a step's stdout
// (`--github-annotations /dev/stdout`):
//   ::error title=gracecheck: SCENARIO against TARGET::CHECK failed: …
// one per failed check and per run that is an error, ::warning when the
// suite was interrupted, ::notice per skipped check (it measured nothing).
// Values are escaped as the runner requires (% CR LF, and : , in
// properties). Without a file and line: the scenario's position is not in
// the report yet.
//
// Threading: a pure rendering of read-only inputs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "report_view.h"

namespace gracecheck {

std::string GithubAnnotations(const ReportView& report);
// `report`: a gracecheck/report/v1 document; throws ReportError if it is not.
std::string GithubAnnotations(const nlohmann::json& report);

}  // namespace gracecheck
