#include "run_plan.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

namespace gracecheck {
namespace {

Scenario Parse(const std::string& yaml, const std::string& file = "s.yaml") {
  ParseResult r = ParseScenario(yaml, file);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  return *r.scenario;
}

constexpr const char* kPlain = R"(
name: same
target:
  command: ["{refapi}", "{port}"]
faults:
  - at: 1s
    send: SIGTERM
)";

constexpr const char* kRestart = R"(
name: restarts
target:
  command: ["{refapi}", "{port}"]
faults:
  - at: 1s
    send: SIGTERM
  - at: 2s
    db: restart
)";

TEST(RunPlanTest, RunsAreInScenarioTargetRepetitionOrderWithConsecutiveSeeds) {
  const std::vector<Scenario> scenarios = {Parse(kPlain), Parse(kRestart)};
  std::vector<TargetOverride> targets;
  for (const char* spec : {"a=server-a {port}", "b=server-b {port}"}) {
    std::optional<TargetOverride> t = ParseTargetOverride(spec);
    ASSERT_TRUE(t) << spec;
    targets.push_back(*t);
  }
  const RunPlan plan = PlanRuns(scenarios, targets, 2, 100, "/out");
  ASSERT_EQ(plan.runs.size(), 8U);
  const std::vector<std::string> want = {"same a 1",     "same a 2",     "same b 1",
                                         "same b 2",     "restarts a 1", "restarts a 2",
                                         "restarts b 1", "restarts b 2"};
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const PlannedRun& p = plan.runs[i];
    EXPECT_EQ(fmt::format("{} {} {}", p.scenario->name, p.target_name, p.repetition + 1), want[i]);
    EXPECT_EQ(p.index, static_cast<int>(i));
    EXPECT_EQ(p.seed, 100 + i);
  }
  // Each target's command replaced the scenario's, on a copy of it.
  EXPECT_EQ(plan.runs[0].scenario->target.command[0].source(), "server-a");
  EXPECT_EQ(plan.runs[2].scenario->target.command[0].source(), "server-b");
  EXPECT_EQ(scenarios[0].target.command[0].source(), "{refapi}");
}

TEST(RunPlanTest, EveryRunHasItsOwnDirectoryAlsoWhenTwoScenariosShareAName) {
  const std::vector<Scenario> scenarios = {Parse(kPlain, "a.yaml"), Parse(kPlain, "b.yaml")};
  const RunPlan plan = PlanRuns(scenarios, {}, 2, 1, "/out");
  std::set<std::string> dirs;
  for (const PlannedRun& p : plan.runs) dirs.insert(p.dir.string());
  EXPECT_EQ(dirs, (std::set<std::string>{"/out/same-target-1", "/out/same-target-2",
                                         "/out/same-target-1~2", "/out/same-target-2~2"}));
}

TEST(RunPlanTest, OnlyARestartOfTheClusterRunsAlone) {
  EXPECT_FALSE(RunsAlone(Parse(kPlain)));
  EXPECT_TRUE(RunsAlone(Parse(kRestart)));
}

TEST(RunPlanTest, ARestartAgainstAnExternalServerIsAnErrorAtItsPlace) {
  const std::vector<ScenarioError> errors =
      ExternalServerProblems({Parse(kPlain), Parse(kRestart, "r.yaml")});
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].file, "r.yaml");
  EXPECT_EQ(errors[0].line, 8);
  EXPECT_NE(errors[0].message.find("faults[1]: db: restart"), std::string::npos)
      << errors[0].message;
}

TEST(RunPlanTest, TheLabelNamesTheRepetitionOnlyWhenThereAreSeveral) {
  const RunPlan plan = PlanRuns({Parse(kPlain)}, {}, 3, 7, "/out");
  EXPECT_EQ(RunLabel(plan.runs[1], 3), "same against target (seed 8), run 2 of 3");
  EXPECT_EQ(RunLabel(plan.runs[0], 1), "same against target (seed 7)");
}

}  // namespace
}  // namespace gracecheck
