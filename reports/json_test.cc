// The JSON report against a golden file, its schema marker, its file output
// and secret redaction.
#include "json.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

struct Fixture {
  Timeline pass = testing::PassingRun();
  Timeline fail = testing::FailingRun();
  std::vector<RunReport> Reports() const {
    return {{&pass, RunChecks(pass, testing::FixtureExpectations())},
            {&fail, RunChecks(fail, testing::FixtureExpectations())}};
  }
};

TEST(JsonReportTest, MatchesGolden) {
  Fixture f;
  json j = ReportJson(f.Reports());
  j["gracecheck_version"] = "(version)";  // the golden file outlives releases
  testing::ExpectGolden("report.json", j.dump(2) + "\n");
}

TEST(JsonReportTest, ParsesAndNamesItsSchema) {
  Fixture f;
  const std::string text = ReportJson(f.Reports()).dump();
  const json j = json::parse(text);
  EXPECT_EQ(j.at("schema"), "gracecheck/report/v1") << text.substr(0, 200);
  ASSERT_EQ(j.at("runs").size(), 2u);
  EXPECT_EQ(j["runs"][0]["verdict"], "pass") << j["runs"][0]["checks"].dump(2);
  EXPECT_EQ(j["runs"][1]["verdict"], "fail") << j["runs"][1]["checks"].dump(2);
  const json& dropped = j["runs"][1]["checks"]["requests.dropped"];
  EXPECT_EQ(dropped["passed"], false) << dropped.dump(2);
  EXPECT_EQ(dropped["expected"], "<= 0 dropped") << dropped.dump(2);
  EXPECT_EQ(dropped["evidence"].size(), 3u) << dropped.dump(2);
  // A check the scenario does not ask for is not in the report.
  EXPECT_FALSE(j["runs"][1]["checks"].contains("db.max_sessions"))
      << j["runs"][1]["checks"].dump(2);
}

TEST(JsonReportTest, TimesAreMillisecondsSinceEpochAndNullWhenNever) {
  Fixture f;
  const json run = RunJson(f.Reports()[0]);
  EXPECT_DOUBLE_EQ(run["moments_ms"]["first_fault"].get<double>(), 600.15)
      << run["moments_ms"].dump();
  EXPECT_DOUBLE_EQ(run["faults"][0]["lag_ms"].get<double>(), 0.15) << run["faults"].dump();
  EXPECT_DOUBLE_EQ(run["faults"][0]["tolerance_ms"].get<double>(), 100) << run["faults"].dump();
  Timeline hung = testing::FailingRun();
  hung.exited = kNever;
  const json h = RunJson({&hung, {}});
  EXPECT_TRUE(h["moments_ms"]["exited"].is_null()) << h["moments_ms"].dump();
  EXPECT_TRUE(h["exit"]["status"].is_null()) << h["exit"].dump();
  EXPECT_EQ(h["exit"]["exited"], false) << h["exit"].dump();
}

TEST(JsonReportTest, SeriesAreCompactRowsWithNamedColumns) {
  Fixture f;
  const json run = RunJson(f.Reports()[0]);
  const json& proc = run["series"]["proc_samples"];
  EXPECT_EQ(proc["columns"],
            json({"t_ms", "threads", "fds", "rss_kb", "children", "target_threads"}))
      << proc.dump();
  ASSERT_EQ(proc["rows"].size(), f.pass.proc_samples.size()) << proc.dump();
  EXPECT_EQ(proc["rows"][0], json({50.0, 6, 16, 8000, 0, 0})) << proc.dump();
  const json& db = run["series"]["db_samples"];
  EXPECT_EQ(db["columns"], json({"t_ms", "active", "idle", "idle_in_transaction", "other"}))
      << db.dump();
  EXPECT_EQ(db["rows"].size(), f.pass.db_samples.size()) << db.dump();
}

TEST(JsonReportTest, NeverShowsAPassword) {
  Fixture f;
  const std::string text = ReportJson(f.Reports()).dump();
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << "the target's log leaked into the report";
  EXPECT_NE(text.find("postgres://run_42:***@127.0.0.1:5433/run_42"), std::string::npos)
      << "the log tail should remain, redacted";
}

TEST(RedactSecretsTest, UrlsAndConnectionStrings) {
  EXPECT_EQ(RedactSecrets("postgresql://u:p%40ss@h:5432/db?x=1"),
            "postgresql://u:***@h:5432/db?x=1");
  EXPECT_EQ(RedactSecrets("host=h user=u password=s3cret dbname=d"),
            "host=h user=u password=*** dbname=d");
  EXPECT_EQ(RedactSecrets("PASSWORD = 'a b'"), "PASSWORD = ***");
  EXPECT_EQ(RedactSecrets("http://127.0.0.1:8080/items"), "http://127.0.0.1:8080/items");
  EXPECT_EQ(RedactSecrets("postgres://u@h/db"), "postgres://u@h/db");
}

TEST(WriteJsonReportTest, WritesAParsableFile) {
  Fixture f;
  const std::string path = ::testing::TempDir() + "gracecheck-report-test.json";
  WriteJsonReport(path, f.Reports());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path.c_str());
  const json j = json::parse(text.str(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text.str().substr(0, 300);
  EXPECT_EQ(j["schema"], kReportSchema);
  EXPECT_EQ(j["runs"].size(), 2u);
}

TEST(WriteJsonReportTest, UnwritablePathThrowsNamingIt) {
  Fixture f;
  try {
    WriteJsonReport("/nonexistent-dir/report.json", f.Reports());
    FAIL() << "no exception for an unwritable path";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/report.json"), std::string::npos)
        << e.what();
  }
}

TEST(JsonReportTest, EachCheckHasAStatusAndPassedOnlyForAPass) {
  Fixture f;
  const json j = AsReadBack(ReportJson(f.Reports()));
  const json& growth = j["runs"][0]["checks"]["threads.growth"];
  EXPECT_EQ(growth["status"], "skipped") << growth.dump(2);
  EXPECT_EQ(growth["passed"], false) << "a skipped check is no pass: " << growth.dump(2);
  EXPECT_EQ(growth["observed"], "not measurable: the fault came during the load") << growth.dump(2);
  EXPECT_EQ(j["runs"][0]["checks"]["process.exit"]["status"], "passed");
  EXPECT_EQ(j["runs"][0]["checks"]["process.exit"]["passed"], true);
  EXPECT_EQ(j["runs"][1]["checks"]["requests.dropped"]["status"], "failed");
  EXPECT_EQ(j["runs"][0]["verdict"], "pass") << "a skipped check never fails a run";
  EXPECT_EQ(j["runs"][0]["harness_errors"], json::array());
}

// testdata/report_error.json: a saved report with an invalid run, which
// report_command_test.sh renders (`gracecheck report` exits 3 on it).
TEST(JsonReportTest, InvalidRunReportMatchesGolden) {
  testing::ExpectGolden("report_error.json", testing::InvalidRunReport().dump(2) + "\n");
}

TEST(JsonReportTest, HarnessErrorMakesTheRunAnError) {
  const json j = testing::InvalidRunReport();
  const json& run = j["runs"][1];
  EXPECT_EQ(run["verdict"], "error") << run["harness_errors"].dump(2);
  ASSERT_EQ(run["harness_errors"].size(), 2u) << run["harness_errors"].dump(2);
  EXPECT_EQ(run["harness_errors"][0].get<std::string>().rfind(
                "the database monitor connection was lost at +52.0ms", 0),
            0u)
      << run["harness_errors"].dump(2);
  EXPECT_EQ(j["runs"][0]["verdict"], "pass");
}

}  // namespace
}  // namespace gracecheck
