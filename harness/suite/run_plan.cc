#include "run_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "pgbouncer.h"

namespace gracecheck {

RunPlan PlanRuns(const std::vector<Scenario>& scenarios,
                 const std::vector<TargetOverride>& overrides, int repeat, std::uint64_t base_seed,
                 const std::filesystem::path& out_root) {
  RunPlan plan;
  plan.repeat = repeat;
  std::map<std::string, int> dir_uses;
  const std::size_t n_targets = overrides.empty() ? 1 : overrides.size();
  for (const Scenario& original : scenarios) {
    for (std::size_t t = 0; t < n_targets; ++t) {
      auto scenario = std::make_shared<Scenario>(original);
      std::string target_name = "target";
      if (!overrides.empty()) {
        ApplyTargetOverride(overrides[t], scenario.get());
        target_name = overrides[t].name;
      }
      plan.scenarios.push_back(scenario);
      for (int r = 0; r < repeat; ++r) {
        PlannedRun p;
        p.scenario = scenario.get();
        p.target_name = target_name;
        p.index = static_cast<int>(plan.runs.size());
        p.repetition = r;
        p.seed = base_seed + static_cast<std::uint64_t>(p.index);
        const std::string dir = fmt::format("{}-{}-{}", scenario->name, target_name, r + 1);
        const int uses = ++dir_uses[dir];
        p.dir = out_root / (uses == 1 ? dir : fmt::format("{}~{}", dir, uses));
        plan.runs.push_back(std::move(p));
      }
    }
  }
  return plan;
}

bool RunsAlone(const Scenario& s) {
  return std::any_of(s.faults.begin(), s.faults.end(),
                     [](const Fault& f) { return std::holds_alternative<DbRestart>(f.action); });
}

std::string RunLabel(const PlannedRun& p, int repeat) {
  return fmt::format("{} against {} (seed {}){}", p.scenario->name, p.target_name, p.seed,
                     repeat > 1 ? fmt::format(", run {} of {}", p.repetition + 1, repeat) : "");
}

std::vector<ScenarioError> ExternalServerProblems(const std::vector<Scenario>& scenarios) {
  std::vector<ScenarioError> errors;
  for (const Scenario& s : scenarios) {
    for (std::size_t i = 0; i < s.faults.size(); ++i) {
      const Fault& f = s.faults[i];
      if (!std::holds_alternative<DbRestart>(f.action)) continue;
      errors.push_back({s.file, f.pos.line, f.pos.col,
                        fmt::format("faults[{}]: db: restart restarts the embedded cluster; "
                                    "with --pg-url gracecheck does not restart your server "
                                    "(run this scenario without --pg-url)",
                                    i)});
    }
  }
  return errors;
}

std::vector<ScenarioError> PoolerProblems(const std::vector<Scenario>& scenarios) {
  std::vector<ScenarioError> errors;
  bool looked = false;
  std::optional<std::string> bin;
  for (const Scenario& s : scenarios) {
    if (!s.target.pooler) continue;
    if (!looked) bin = FindPgBouncer();
    looked = true;
    if (bin) continue;
    errors.push_back({s.file, s.target.pooler->pos.line, s.target.pooler->pos.col,
                      "target.pooler: " + PgBouncerMissing()});
  }
  return errors;
}

std::optional<std::string> SuiteFdShortage(const std::vector<Scenario>& scenarios,
                                           std::size_t copies, int jobs, const FdLimit& limit) {
  std::vector<int> needs;
  int connections = 0;
  for (const Scenario& s : scenarios) {
    needs.insert(needs.end(), copies, FdsNeeded(s));
    if (s.load) connections = std::max(connections, s.load->connections);
  }
  return FdShortage(FdsNeededAtOnce(needs, jobs), connections, limit);
}

}  // namespace gracecheck
