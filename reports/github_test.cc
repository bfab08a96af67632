// GitHub Actions annotations: one command per finding, escaped as the
// runner parses them.
#include "github.h"

#include <gtest/gtest.h>

#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

// Every line is a workflow command: "::level title=…::message", no raw
// newline inside (the runner reads one command per line).
void ExpectWellFormed(const std::string& text) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "the last line is not ended";
    const std::string line = text.substr(start, end - start);
    EXPECT_TRUE(line.rfind("::error ", 0) == 0 || line.rfind("::warning title=", 0) == 0 ||
                line.rfind("::notice title=", 0) == 0)
        << line;
    const std::size_t title_end = line.find("::", 2);
    ASSERT_NE(title_end, std::string::npos) << line;
    const std::size_t title_at = line.find("title=");
    ASSERT_LT(title_at, title_end) << line;
    const std::string title = line.substr(title_at + 6, title_end - title_at - 6);
    EXPECT_EQ(title.find_first_of(":,"), std::string::npos) << "unescaped in a property: " << title;
    start = end + 1;
  }
}

TEST(GithubAnnotationsTest, OneErrorPerFailedCheckAndANoticePerSkippedOne) {
  const std::string text = GithubAnnotations(testing::FixtureReport());
  ExpectWellFormed(text);
  EXPECT_NE(text.find("::error title=gracecheck%3A sigterm-mid-load against refapi-bug-drop::"
                      "requests.dropped failed: expected <= 0 dropped; observed 3 dropped"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("%0A  "), std::string::npos) << "evidence, on escaped new lines:\n" << text;
  EXPECT_NE(text.find("::notice title=gracecheck%3A sigterm-mid-load against refapi::"
                      "threads.growth skipped: not measurable: the fault came during the load"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("faults.delivered"), std::string::npos) << "a passed check is no finding";
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << "a password from the target's log";
}

// A failed check points at its expectation's line in the scenario file,
// so that GitHub shows it there.
TEST(GithubAnnotationsTest, AFailedCheckPointsAtItsScenarioLine) {
  json report = testing::FixtureReport();
  report["runs"][1]["scenario_file"] = "scenarios/sigterm-mid-load.yaml";
  report["runs"][1]["checks"]["requests.dropped"]["at"] = {{"line", 31}, {"col", 3}};
  const std::string text = GithubAnnotations(report);
  ExpectWellFormed(text);
  EXPECT_NE(text.find("::error file=scenarios/sigterm-mid-load.yaml,line=31,col=3,title="
                      "gracecheck%3A sigterm-mid-load against refapi-bug-drop::requests.dropped "
                      "failed"),
            std::string::npos)
      << text;
}

TEST(GithubAnnotationsTest, ErrorRunsAndAnInterruptedSuiteSaySo) {
  std::string text = GithubAnnotations(testing::NotStartedReport());
  ExpectWellFormed(text);
  EXPECT_NE(text.find("::error title=gracecheck%3A "), std::string::npos) << text;
  EXPECT_NE(text.find("::the target did not start, so nothing was judged: "), std::string::npos)
      << text;

  json report = testing::FixtureReport();
  report["interrupted"] = true;
  text = GithubAnnotations(report);
  EXPECT_EQ(text.rfind("::warning title=gracecheck::the suite was interrupted: 2 runs judged "
                       "before it, the rest never ran\n",
                       0),
            0u)
      << text;
}

TEST(GithubAnnotationsTest, TargetTextCannotEndACommand) {
  json report = testing::FixtureReport();
  report["runs"][1]["checks"]["requests.dropped"]["observed"] = "50% lost\r\n::error::forged";
  const std::string text = GithubAnnotations(report);
  ExpectWellFormed(text);
  EXPECT_NE(text.find("observed 50%25 lost%0D%0A::error::forged"), std::string::npos) << text;
}

}  // namespace
}  // namespace gracecheck
