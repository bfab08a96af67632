#include "scenario_warnings.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <tuple>

namespace gracecheck {

std::vector<ScenarioError> ScenarioWarnings(const Scenario& s) {
  std::vector<ScenarioError> warnings;
  auto warn = [&](const SourcePos& pos, std::string message) {
    warnings.push_back({s.file, pos.line, pos.col, "warning: " + std::move(message)});
  };

  // The first fault that signals the target (Timeline::first_signal), as
  // early as it can come.
  const Fault* first = nullptr;
  EarliestMoment first_at;
  for (const Fault& f : s.faults) {
    if (!Signals(f.action)) continue;
    const EarliestMoment e = EarliestOf(f.trigger, s.faults);
    if (!first || e.at < first_at.at) {
      first = &f;
      first_at = e;
    }
  }
  const Duration load_end = s.load ? s.load->duration : Duration::zero();
  const bool during_load = s.load && first && first_at.at < load_end;
  const std::string first_text =
      first ? fmt::format("the first fault that signals the target ({}, {})", first->name,
                          first_at.why)
            : "";

  const Expectations& e = s.expect;
  if (e.threads && e.threads->growth) {
    const std::string what =
        "expect.threads.growth cannot be measured: it compares idle threads before the load "
        "with the fewest after the load and before the first fault";
    if (!s.load) {
      warn(e.threads->growth_pos, what + ", and the scenario has no load");
    } else if (during_load) {
      warn(e.threads->growth_pos,
           fmt::format("{}, and {} can come before the load ends ({}); ask for "
                       "threads.at_exit instead, or let the fault come after the load",
                       what, first_text, FormatDuration(load_end)));
    }
  }
  if (e.lame_duck) {
    const std::string what =
        "expect.lame_duck cannot be measured: it looks at requests started "
        "after the first signal";
    if (!first) {
      warn(e.lame_duck_pos, what + ", and no fault signals the target");
    } else if (!s.load) {
      warn(e.lame_duck_pos, what + ", and the scenario has no load");
    } else if (first_at.at >= load_end) {
      warn(e.lame_duck_pos, fmt::format("{}, and {} comes when the load ({}) is over", what,
                                        first_text, FormatDuration(load_end)));
    }
  }
  if (e.db_sessions.closed_before_drain_pos.line > 0 && !first) {
    warn(e.db_sessions.closed_before_drain_pos,
         "expect.db_sessions.closed_before_drain cannot be measured: it judges the pool after "
         "the first signal, and no fault signals the target");
  }
  std::sort(warnings.begin(), warnings.end(), [](const ScenarioError& a, const ScenarioError& b) {
    return std::tie(a.line, a.col) < std::tie(b.line, b.col);
  });
  return warnings;
}

}  // namespace gracecheck
