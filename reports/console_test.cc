// The console report against golden files (rendered from the JSON report,
// the same as before the renderers read JSON), and its color switch.
#include "console.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "json.h"
#include "report_fixture.h"

namespace gracecheck {
namespace {

// The console renders a run of the JSON report, as `gracecheck run` does.
std::string Render(const Timeline& tl, bool color) {
  return ConsoleReport(testing::RunJsonOf(tl), color);
}

TEST(ConsoleReportTest, PassingRunMatchesGolden) {
  testing::ExpectGolden("console_pass.txt", Render(testing::PassingRun(), false));
}

TEST(ConsoleReportTest, FailingRunMatchesGolden) {
  testing::ExpectGolden("console_fail.txt", Render(testing::FailingRun(), false));
}

TEST(ConsoleReportTest, VerdictLineIsLast) {
  const std::string pass = Render(testing::PassingRun(), false);
  EXPECT_NE(pass.find("\nPASS: "), std::string::npos) << pass;
  const std::string fail = Render(testing::FailingRun(), false);
  EXPECT_NE(fail.find("\nFAIL: "), std::string::npos) << fail;
  EXPECT_EQ(fail.back(), '\n') << fail;
}

TEST(ConsoleReportTest, ColorOnlyWhenAsked) {
  const std::string plain = Render(testing::FailingRun(), false);
  EXPECT_EQ(plain.find('\033'), std::string::npos) << "escape codes without color:\n" << plain;
  const std::string colored = Render(testing::FailingRun(), true);
  EXPECT_NE(colored.find("\033[31m✗\033[0m"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\033[32m✓\033[0m"), std::string::npos) << colored;
}

TEST(ConsoleReportTest, NoSecretFromTheTargetLog) {
  const std::string text = Render(testing::FailingRun(), false);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
}

TEST(ConsoleReportTest, PrintWritesTheReport) {
  const nlohmann::json run = testing::RunJsonOf(testing::PassingRun());
  char* buffer = nullptr;
  std::size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr) << "open_memstream failed";
  PrintConsoleReport(out, run, false);
  std::fclose(out);
  const std::string printed(buffer, size);
  std::free(buffer);
  EXPECT_EQ(printed, ConsoleReport(run, false));
}

TEST(ConsoleReportTest, RunWithoutLoadOrFault) {
  Timeline tl;
  tl.scenario = "idle";
  tl.target_name = "t";
  const std::string text = ConsoleReport(
      AsReadBack(ReportJson({{&tl, RunChecks(tl, Expectations{})}}))["runs"][0], false);
  EXPECT_NE(text.find("requests      none"), std::string::npos) << text;
  EXPECT_NE(text.find("no fault delivered; the target was still running"), std::string::npos)
      << text;
  EXPECT_NE(text.find("FAIL: "), std::string::npos) << text;
}

TEST(ConsoleReportTest, SkippedCheckHasADashNotATick) {
  const std::string text = Render(testing::PassingRun(), false);
  EXPECT_NE(text.find("  – threads.growth          not measurable: the fault came during the load"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("✓ threads.growth"), std::string::npos) << text;
  EXPECT_NE(text.find("\nPASS: 12 passed, 1 skipped (threads.growth)\n"), std::string::npos)
      << text;
  const std::string colored = Render(testing::PassingRun(), true);
  EXPECT_NE(colored.find("\033[33m–\033[0m"), std::string::npos) << colored;
}

TEST(ConsoleReportTest, ATargetThatDidNotStartIsAnErrorWithItsReason) {
  const std::string text = Render(testing::NotStartedRun(), false);
  EXPECT_NE(text.find("\nERROR: the target did not start, so nothing was judged: the target "
                      "exited before it was ready (exit 7)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("PASS"), std::string::npos) << text;
  EXPECT_EQ(text.find("signal→exit"), std::string::npos) << "no figures of a run that never ran";
}

TEST(ConsoleReportTest, InvalidRunSaysErrorWithItsReasonsNeverPass) {
  const std::string text = Render(testing::InvalidRun(), false);
  EXPECT_NE(text.find("\nERROR: invalid run: the harness failed, so its checks (12 passed, 1 "
                      "skipped) prove nothing:\n"
                      "  - the database monitor connection was lost at +52.0ms: terminating "
                      "connection due to administrator command; reconnected after 10.3ms\n"
                      "  - the /proc probe died at +80.0ms"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("PASS"), std::string::npos) << text;
  const std::string colored = Render(testing::InvalidRun(), true);
  EXPECT_EQ(colored.find("\033[32mPASS"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\033[1m\033[31mERROR\033[0m"), std::string::npos) << colored;
}

// The line that ends a suite: every verdict counted, the skipped checks,
// the wall time and where the reports went; interrupted said first.
TEST(SuiteTallyTest, CountsEveryVerdictAndSaysWhereTheReportsAre) {
  ReportView report;
  RunView pass, fail, error;
  pass.verdict = RunVerdict::kPass;
  CheckResult skipped;
  skipped.status = CheckStatus::kSkipped;
  pass.checks = {skipped, skipped};
  fail.verdict = RunVerdict::kFail;
  error.verdict = RunVerdict::kError;
  report.runs = {pass, pass, fail, error};
  EXPECT_EQ(SuiteTally(report, std::chrono::milliseconds(12345), "out/"),
            "gracecheck: 4 runs in 12.3s: 2 passed, 1 failed, 1 error; 4 checks skipped; "
            "reports in out/");
  report.interrupted = true;
  report.runs = {fail};
  EXPECT_EQ(SuiteTally(report, std::chrono::seconds(125), ""),
            "gracecheck: interrupted after 1 run in 2m05.0s: 0 passed, 1 failed, 0 errors; 0 "
            "checks skipped; no report files (--out DIR keeps them)");
}

}  // namespace
}  // namespace gracecheck
