#include "compare.h"

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

RunView FakeRun(const std::string& target, bool dropped_failed, int dropped, Nanos to_exit) {
  RunView r;
  r.scenario = "sigterm-mid-load";
  r.target = target;
  r.verdict = dropped_failed ? RunVerdict::kFail : RunVerdict::kPass;
  CheckResult c;
  c.name = "requests.dropped";
  c.Judge(!dropped_failed);
  c.observed = dropped_failed ? "3 dropped (3 eof)" : "0 dropped";
  if (dropped_failed) c.evidence = {"request 7 on connection 2 reuse 1: eof"};
  r.checks.push_back(c);
  r.summary.all.dropped = dropped;
  r.summary.all.total = 100;
  r.summary.fault_to_exit = to_exit;
  return r;
}

const CompareTable::Row* Find(const CompareTable& t, const std::string& label) {
  for (const auto& row : t.rows) {
    if (row.label == label) return &row;
  }
  return nullptr;
}

TEST(CompareTableTest, ColumnsAreTargetsAndRowsCountRunsAndMedians) {
  ReportView report;
  report.runs = {FakeRun("good", false, 0, 300'000'000), FakeRun("buggy", true, 3, 10'000'000),
                 FakeRun("good", false, 0, 320'000'000), FakeRun("buggy", false, 0, 12'000'000),
                 FakeRun("good", false, 0, 310'000'000), FakeRun("buggy", true, 5, 11'000'000)};
  CompareTable t = BuildCompareTable(report);
  ASSERT_EQ(t.targets, (std::vector<std::string>{"good", "buggy"}));
  const auto* verdict = Find(t, "all checks passed");
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->cells, (std::vector<std::string>{"3/3 runs", "1/3 runs"}));
  const auto* dropped = Find(t, "requests.dropped");
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->cells, (std::vector<std::string>{"✓ 3/3", "✗ failed in 2 of 3 runs"}));
  EXPECT_FALSE(dropped->failed[0]);
  EXPECT_TRUE(dropped->failed[1]);
  EXPECT_EQ(dropped->evidence[1], "3 dropped (3 eof) — request 7 on connection 2 reuse 1: eof");
  EXPECT_EQ(Find(t, "dropped (median)")->cells, (std::vector<std::string>{"0", "3"}));
  EXPECT_EQ(Find(t, "signal → exit (median)")->cells[0], FormatMillis(310'000'000));
  EXPECT_EQ(Find(t, "process.exit"), nullptr) << "a check no run has is not a row";
}

TEST(CompareTableTest, RendersAsTextMarkdownAndJson) {
  ReportView report;
  report.runs = {FakeRun("a", false, 0, 1'000'000), FakeRun("b|c", true, 3, 2'000'000)};
  CompareTable t = BuildCompareTable(report);
  const std::string text = CompareText(t);
  EXPECT_NE(text.find("requests.dropped"), std::string::npos) << text;
  EXPECT_NE(text.find("b|c: 3 dropped (3 eof)"), std::string::npos) << text;
  const std::string md = CompareMarkdown(t);
  EXPECT_NE(md.find("| | a | b\\|c |"), std::string::npos) << "pipes escaped:\n" << md;
  EXPECT_NE(md.find("| `requests.dropped` | ✓ 1/1 | ✗ failed in 1 of 1 runs<br>3 dropped"),
            std::string::npos)
      << md;
  nlohmann::json j = CompareJson(t);
  EXPECT_EQ(j["targets"][1], "b|c");
  bool found = false;
  for (const auto& row : j["rows"]) {
    if (row["row"] == "requests.dropped") {
      found = true;
      EXPECT_TRUE(row["targets"]["b|c"]["failed"].get<bool>());
      EXPECT_FALSE(row["targets"]["a"]["failed"].get<bool>());
    }
  }
  EXPECT_TRUE(found) << j.dump(2);
}

TEST(CompareTableTest, SkippedChecksAreCountedApartFromPasses) {
  ReportView report;
  report.runs = {FakeRun("a", false, 0, 1'000'000), FakeRun("a", false, 0, 1'000'000),
                 FakeRun("b", false, 0, 1'000'000)};
  report.runs[1].checks[0].Skip("no signal was delivered");
  report.runs[2].checks[0].Skip("no signal was delivered");
  const CompareTable t = BuildCompareTable(report);
  const auto* dropped = Find(t, "requests.dropped");
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->cells,
            (std::vector<std::string>{"✓ 1/2, 1 skipped", "– skipped in 1 of 1 runs"}));
  EXPECT_FALSE(dropped->failed[1]) << "skipped is no failure";
}

}  // namespace
}  // namespace gracecheck
