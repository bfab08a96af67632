// Reading the JSON report back: every figure survives the round trip, older
// v1 reports still read, and documents that are not reports are refused.
#include "report_view.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "console.h"
#include "html.h"
#include "json.h"
#include "junit.h"
#include "markdown.h"
#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

void ExpectSamePhase(const PhaseSummary& a, const PhaseSummary& b, const char* what) {
  EXPECT_EQ(a.total, b.total) << what;
  EXPECT_EQ(a.dropped, b.dropped) << what;
  EXPECT_EQ(a.outcomes, b.outcomes) << what;
  EXPECT_EQ(a.latency.count, b.latency.count) << what;
  EXPECT_EQ(a.latency.p50, b.latency.p50) << what;
  EXPECT_EQ(a.latency.p90, b.latency.p90) << what;
  EXPECT_EQ(a.latency.p99, b.latency.p99) << what;
  EXPECT_EQ(a.latency.max, b.latency.max) << what;
}

TEST(ReportViewTest, EveryFigureSurvivesTheRoundTripToTheNanosecond) {
  for (const Timeline& tl : {testing::PassingRun(), testing::FailingRun()}) {
    const RunView v = ReadRun(testing::RunJsonOf(tl));
    const Summary s = Summarize(tl);
    SCOPED_TRACE(tl.target_name);
    ExpectSamePhase(v.summary.before, s.before, "before");
    ExpectSamePhase(v.summary.after, s.after, "after");
    ExpectSamePhase(v.summary.all, s.all, "all");
    EXPECT_EQ(v.summary.fault_to_exit, s.fault_to_exit);
    EXPECT_EQ(v.summary.load_duration, s.load_duration);
    EXPECT_DOUBLE_EQ(v.summary.requests_per_second, s.requests_per_second);
    EXPECT_EQ(v.summary.threads.peak, s.threads.peak);
    EXPECT_EQ(v.summary.threads.at_fault, s.threads.at_fault);
    EXPECT_EQ(v.summary.threads.last_before_exit, s.threads.last_before_exit);
    EXPECT_EQ(v.summary.db.peak.total(), s.db.peak.total());
    EXPECT_EQ(v.summary.db.known_at_fault, s.db.known_at_fault);
    EXPECT_EQ(v.first_signal, tl.first_signal);
    EXPECT_EQ(v.exited, tl.exited);
    ASSERT_EQ(v.faults.size(), tl.faults.size());
    EXPECT_EQ(v.faults[0].lag(), tl.faults[0].lag());
    EXPECT_EQ(v.proc_samples.size(), tl.proc_samples.size());
    EXPECT_EQ(v.db_samples.size(), tl.db_samples.size());
    EXPECT_TRUE(v.has_request_series);
    const RequestSeries rs = BucketRequests(tl);
    ASSERT_EQ(v.requests.buckets.size(), rs.buckets.size());
    EXPECT_EQ(v.requests.bucket, rs.bucket);
    for (std::size_t i = 0; i < rs.buckets.size(); ++i) {
      EXPECT_EQ(v.requests.buckets[i].t, rs.buckets[i].t) << i;
      EXPECT_EQ(v.requests.buckets[i].started, rs.buckets[i].started) << i;
      EXPECT_EQ(v.requests.buckets[i].finished, rs.buckets[i].finished) << i;
      EXPECT_EQ(v.requests.buckets[i].in_flight_max, rs.buckets[i].in_flight_max) << i;
    }
  }
}

TEST(ReportViewTest, ChecksComeBackInTheOrderTheyRan) {
  const Timeline tl = testing::FailingRun();
  const std::vector<CheckResult> ran = RunChecks(tl, testing::FixtureExpectations());
  const RunView v = ReadRun(testing::RunJsonOf(tl));
  ASSERT_EQ(v.checks.size(), ran.size());
  for (std::size_t i = 0; i < ran.size(); ++i) {
    EXPECT_EQ(v.checks[i].name, ran[i].name) << "at " << i;
    EXPECT_EQ(v.checks[i].evidence, ran[i].evidence) << ran[i].name;
  }
  EXPECT_EQ(v.FailedChecks(), 7);
  EXPECT_FALSE(v.passed());
  EXPECT_EQ(v.verdict, RunVerdict::kFail);
}

TEST(ReportViewTest, NewMomentsOfTheFixture) {
  const RunView pass = ReadRun(testing::RunJsonOf(testing::PassingRun()));
  EXPECT_EQ(pass.first_refused, 800'200'000) << "the first refused request's outcome";
  EXPECT_EQ(pass.last_response, 780'400'000) << "the slow request answered after the signal";
  EXPECT_EQ(pass.db_pool_closed, 755'000'000) << "first sample after the fault with no session";
  const RunView fail = ReadRun(testing::RunJsonOf(testing::FailingRun()));
  EXPECT_EQ(fail.db_pool_closed, kNever) << "two sessions outlive the target";
}

// A report written before fields were added within v1 (no request series,
// no first_refused / last_response / db_pool_closed).
TEST(ReportViewTest, InitialV1ReportStillReads) {
  const json report = json::parse(testing::ReadTestdata("report_v1_initial.json"));
  const ReportView v = ReadReport(report);
  ASSERT_EQ(v.runs.size(), 2u);
  EXPECT_FALSE(v.runs[0].has_request_series);
  EXPECT_EQ(v.runs[0].first_refused, kNever);
  EXPECT_EQ(v.runs[0].checks.size(), 10u);
  EXPECT_TRUE(v.runs[0].passed());
  EXPECT_FALSE(v.runs[1].passed());
  EXPECT_EQ(v.runs[1].summary.before.total, 11);
}

TEST(ReportViewTest, ReadsTheSameAsTheConsoleGoldenOfTheInitialV1Report) {
  // Console output depends only on fields v1 had from the start; the goldens
  // are those of the day that report was written (before the checks added
  // since, which such a report does not hold).
  const json report = json::parse(testing::ReadTestdata("report_v1_initial.json"));
  EXPECT_EQ(ConsoleReport(report["runs"][0], false),
            testing::ReadTestdata("console_pass_v1_initial.txt"));
  EXPECT_EQ(ConsoleReport(report["runs"][1], false),
            testing::ReadTestdata("console_fail_v1_initial.txt"));
}

TEST(ReportViewTest, MissingFieldsReadAsUnknownInEveryFormat) {
  const json report = {{"schema", kReportSchema}, {"runs", {json::object(), {{"checks", 5}}}}};
  const ReportView v = ReadReport(report);
  ASSERT_EQ(v.runs.size(), 2u);
  EXPECT_EQ(v.runs[0].exited, kNever);
  EXPECT_EQ(v.runs[0].summary.threads.peak, Timeline::kUnknown);
  EXPECT_NO_THROW(ConsoleReport(report["runs"][0], false));
  EXPECT_NO_THROW(JunitReport(report));
  std::string said;
  EXPECT_EQ(testing::Xmllint(
                "--noout --schema " + std::string(GRACECHECK_REPORTS_TESTDATA) + "/junit.xsd",
                JunitReport(report), &said),
            0)
      << said;
  EXPECT_NO_THROW(MarkdownReport(report));
  EXPECT_NO_THROW(HtmlReport(report));
}

TEST(ReportViewTest, RefusesWhatIsNotAV1Report) {
  auto message = [](const json& j) {
    try {
      ReadReport(j, "r.json");
    } catch (const ReportError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(json::object()),
            "r.json: not a gracecheck report (no \"schema\": \"gracecheck/report/v1\")");
  EXPECT_EQ(message({{"schema", "gracecheck/report/v2"}, {"runs", json::array()}}),
            "r.json: the report's schema is gracecheck/report/v2; this gracecheck reads "
            "gracecheck/report/v1");
  EXPECT_EQ(message({{"schema", kReportSchema}, {"runs", 1}}), "r.json: \"runs\" is not a list");
  EXPECT_EQ(message(json::array()),
            "r.json: not a gracecheck report (no \"schema\": \"gracecheck/report/v1\")");
}

TEST(ReportViewTest, LoadReportFileNamesTheFile) {
  try {
    LoadReportFile("/nonexistent/r.json");
    FAIL() << "no error for a missing file";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/r.json"), std::string::npos) << e.what();
  }
  const std::string path = ::testing::TempDir() + "gracecheck-not-json.json";
  std::ofstream(path) << "{\"schema\": ";
  try {
    LoadReportFile(path);
    ADD_FAILURE() << "no error for a truncated file";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(ReportViewTest, StatusAndVerdictReadBack) {
  const ReportView v = ReadReport(testing::InvalidRunReport());
  ASSERT_EQ(v.runs.size(), 2u);
  EXPECT_EQ(v.runs[0].verdict, RunVerdict::kPass);
  EXPECT_EQ(v.runs[1].verdict, RunVerdict::kError);
  EXPECT_TRUE(v.runs[1].error());
  EXPECT_FALSE(v.runs[1].passed());
  EXPECT_EQ(v.runs[1].harness_errors.size(), 2u);
  EXPECT_EQ(v.runs[1].SkippedChecks(), 1);
  EXPECT_EQ(v.Worst(), RunVerdict::kError);
  EXPECT_EQ(v.Count(RunVerdict::kError), 1);
  const RunView fail = ReadRun(testing::RunJsonOf(testing::FailingRun()));
  EXPECT_EQ(fail.SkippedChecks(), 1);
  EXPECT_EQ(fail.FailedChecks(), 7);
}

// Reports written before "status" and "harness_errors": status comes from
// "passed", and harness errors alone make an error even if "verdict" says
// otherwise (a hand-edited report).
TEST(ReportViewTest, StatusDerivedFromPassedInOlderReports) {
  json run = testing::RunJsonOf(testing::FailingRun());
  for (auto& [name, c] : run["checks"].items()) c.erase("status");
  run.erase("harness_errors");
  const RunView v = ReadRun(run);
  // Without status, the skipped threads.growth ("passed": false) reads as
  // failed: all the old key can say.
  EXPECT_EQ(v.FailedChecks(), 8);
  EXPECT_EQ(v.SkippedChecks(), 0) << "no status: passed false reads as failed";
  EXPECT_EQ(v.verdict, RunVerdict::kFail);
  json odd = testing::RunJsonOf(testing::PassingRun());
  odd["harness_errors"] = {"the /proc probe died"};
  EXPECT_EQ(ReadRun(odd).verdict, RunVerdict::kError);
  odd = testing::RunJsonOf(testing::PassingRun());
  odd["verdict"] = "maybe";
  EXPECT_EQ(ReadRun(odd).verdict, RunVerdict::kFail) << "an unknown verdict is no pass";
}

TEST(ReportViewTest, InitialV1ReportHasNoSkippedOrError) {
  const ReportView v = ReadReport(json::parse(testing::ReadTestdata("report_v1_initial.json")));
  EXPECT_EQ(v.Worst(), RunVerdict::kFail);
  EXPECT_EQ(v.runs[0].SkippedChecks(), 0);
  EXPECT_EQ(v.runs[0].verdict, RunVerdict::kPass);
}

// The target's tree and the run's warnings come back, the commands
// redacted, and every format shows the warnings.
TEST(ReportViewTest, TheProcessTreeAndTheWarningsSurviveAndShow) {
  Timeline tl = testing::PassingRun();
  TreeProcess master;
  master.pid = 4242;
  master.ppid = 1;
  master.command = "sh entrypoint.sh";
  master.first_seen = 10'000'000;
  master.last_seen = 900'000'000;
  master.gone = 901'000'000;
  master.threads = {{10'000'000, 1}};
  TreeProcess server = master;
  server.pid = 4243;
  server.ppid = 4242;
  server.command = "refapi --db postgresql://gc_x:hunter2@127.0.0.1:5432/gc_x";
  server.threads = {{10'000'000, 131}, {500'000'000, 4}};
  tl.processes = {master, server};
  tl.warnings = {"the target, pid 4242 (sh entrypoint.sh), does not hold the socket"};
  const json j = testing::RunJsonOf(tl);
  // (The probe redacts a command line as it reads it; the report does too.)
  EXPECT_EQ(j.dump().find("hunter2"), std::string::npos) << "a password in a command line";
  const RunView v = ReadRun(j);
  ASSERT_EQ(v.processes.size(), 2u);
  EXPECT_EQ(v.processes[1].pid, 4243);
  EXPECT_EQ(v.processes[1].ppid, 4242);
  EXPECT_EQ(v.processes[1].command, "refapi --db postgresql://gc_x:***@127.0.0.1:5432/gc_x");
  EXPECT_EQ(v.processes[1].threads, server.threads);
  EXPECT_EQ(v.processes[0].gone, master.gone);
  EXPECT_EQ(v.warnings, tl.warnings);
  EXPECT_NE(ConsoleReport(j, false).find("  warning: the target, pid 4242"), std::string::npos);
  EXPECT_NE(MarkdownReport(ReportJsonOfRuns({j})).find("**warning:** the target, pid 4242"),
            std::string::npos);
  EXPECT_NE(HtmlReport(ReportJsonOfRuns({j})).find("<b>warning:</b> the target, pid 4242"),
            std::string::npos);
  EXPECT_NE(HtmlReport(ReportJsonOfRuns({j})).find("<title>pid 4243: refapi --db"),
            std::string::npos)
      << "each process of the tree has its line in the chart";
}

// Behind a per-run pooler every report says so beside the db sessions:
// they are the target's connections to the pooler, not the server's.
TEST(ReportViewTest, APooledRunSaysItsSessionsAreTheTargetsConnectionsToThePooler) {
  Timeline tl = testing::PassingRun();
  tl.pooler.emplace();
  tl.pooler->describe = "PgBouncer 1.18.0, session mode, on 127.0.0.1:4123";
  DbSample server;
  server.idle = 16;
  tl.pooler->server_samples = {server};
  const json j = testing::RunJsonOf(tl);
  const RunView v = ReadRun(j);
  EXPECT_EQ(v.pooler, tl.pooler->describe);
  EXPECT_EQ(v.pooler_server_sessions_at_once, 16);
  const std::string line =
      "PgBouncer 1.18.0, session mode, on 127.0.0.1:4123: the db sessions above are the "
      "target's connections to it; the server saw at most 16 of the pooler's at once";
  EXPECT_NE(ConsoleReport(j, false).find("  pooler        " + line), std::string::npos)
      << ConsoleReport(j, false);
  EXPECT_NE(MarkdownReport(ReportJsonOfRuns({j})).find(line), std::string::npos);
  EXPECT_NE(HtmlReport(ReportJsonOfRuns({j})).find("the db sessions above are the target"),
            std::string::npos);
  EXPECT_EQ(ConsoleReport(testing::RunJsonOf(testing::PassingRun()), false).find("  pooler "),
            std::string::npos);
}

}  // namespace
}  // namespace gracecheck
