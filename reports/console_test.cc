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

}  // namespace
}  // namespace gracecheck
