// The JUnit XML report, for CI systems that show test results (Jenkins,
// GitLab, GitHub test-report actions): one <testsuite> per run (scenario,
// target), one <testcase> per check (classname = scenario, name = the check's
// stable name), a <failure> with what the check expected, observed and its
// evidence, a <skipped message="…"/> for a check that could not measure; an
// invalid run (the harness failed itself) gets one more testcase, named
// "harness", with an <error type="harness"> listing why; the run's key
// figures (figures.h) in <system-out>, the target's last output lines in
// <system-err>, the seed and start time as properties.
//
// The output is valid against reports/testdata/junit.xsd (Apache Ant's JUnit
// format, the one Jenkins reads; see the schema's comments), which a test
// checks with xmllint. Checks take no time of their own: each testcase's
// time is 0, a suite's time is its run's recording time.
//
// Threading: a pure rendering of read-only inputs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "report_view.h"

namespace gracecheck {

std::string JunitReport(const ReportView& report);
// `report`: a gracecheck/report/v1 document; throws ReportError if it is not.
std::string JunitReport(const nlohmann::json& report);

}  // namespace gracecheck
