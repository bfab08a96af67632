// The Markdown summary: golden file, a verdict per check, key figures, and
// that text from the target cannot break its tables.
#include "markdown.h"

#include <gtest/gtest.h>

#include "json.h"
#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

TEST(MarkdownReportTest, MatchesGolden) {
  testing::ExpectGolden("report.md", MarkdownReport(testing::FixtureReport()));
}

TEST(MarkdownReportTest, VerdictPerCheckAndKeyFigures) {
  const std::string md = MarkdownReport(testing::FixtureReport());
  EXPECT_EQ(md.rfind("## ❌ gracecheck: 1 of 2 runs failed\n", 0), 0u) << md.substr(0, 200);
  EXPECT_NE(md.find("| ❌ | `requests.dropped` | 3 dropped (1 http_error, 1 reset, 1 eof); not "
                    "drops: 3 refused | &lt;= 0 dropped |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| ✅ | `faults.delivered` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| refused | 0 | 4 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **dropped** | **1** | **2** |"), std::string::npos) << md;
  EXPECT_NE(md.find("- **signal → exit:** SIGTERM delivered at t=600.1ms"), std::string::npos)
      << md;
  EXPECT_NE(md.find("- **threads:**"), std::string::npos) << md;
  EXPECT_NE(md.find("- **DB sessions:**"), std::string::npos) << md;
  EXPECT_EQ(md.find("hunter2"), std::string::npos) << "a password from the target's log";
}

TEST(MarkdownReportTest, TargetTextCannotBreakTheTables) {
  json report = testing::FixtureReport();
  report["runs"][1]["checks"]["requests.dropped"]["observed"] = "a | b\nc <img src=x>";
  report["runs"][1]["checks"]["requests.dropped"]["evidence"][0] = "``` fence";
  const std::string md = MarkdownReport(report);
  EXPECT_NE(md.find("a \\| b<br>c &lt;img src=x&gt;"), std::string::npos) << md;
  EXPECT_NE(md.find("````text\n``` fence"), std::string::npos) << "a longer fence:\n" << md;
}

TEST(MarkdownReportTest, AllPassed) {
  json report = testing::FixtureReport();
  report["runs"].erase(1);
  const std::string md = MarkdownReport(report);
  EXPECT_EQ(md.rfind("## ✅ gracecheck: 1 run passed\n", 0), 0u) << md.substr(0, 200);
}

TEST(MarkdownReportTest, SkippedCheckIsShownApartFromAPass) {
  const std::string md = MarkdownReport(testing::FixtureReport());
  EXPECT_NE(md.find("| ➖ | `threads.growth` | not measurable: the fault came during the load |"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("| ✅ | `threads.growth` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ✅ pass | 12 passed, 1 skipped |"), std::string::npos) << md;
}

TEST(MarkdownReportTest, ATargetThatDidNotStartIsAnErrorWithItsReason) {
  const std::string md = MarkdownReport(testing::NotStartedReport());
  EXPECT_NE(md.find("**⚠️ ERROR: the target did not start**, so nothing was judged: the target "
                    "exited before it was ready (exit 7)"),
            std::string::npos)
      << md;
}

TEST(MarkdownReportTest, InvalidRunIsAnErrorWithItsReasons) {
  const std::string md = MarkdownReport(testing::InvalidRunReport());
  EXPECT_EQ(md.rfind("## ⚠️ gracecheck: 1 of 2 runs invalid (harness error)\n", 0), 0u)
      << md.substr(0, 200);
  EXPECT_NE(md.find("| ⚠️ error | 12 passed, 1 skipped |"), std::string::npos) << md;
  EXPECT_NE(md.find("### ⚠️ sigterm-mid-load against refapi-invalid"), std::string::npos) << md;
  EXPECT_NE(md.find("**⚠️ ERROR: invalid run.**"), std::string::npos) << md;
  EXPECT_NE(md.find("- the /proc probe died at +80.0ms: &lt;cannot read /proc/31337/status&gt;"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("### ✅ sigterm-mid-load against refapi-invalid"), std::string::npos) << md;
}

}  // namespace
}  // namespace gracecheck
