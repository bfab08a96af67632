#include "scenario_warnings.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <tuple>

namespace gracecheck {

namespace {

// The earliest moment after time 0 (the load's start) a trigger can be met,
// and why, for the message. Triggers that count requests, in-flight
// requests, active sessions or log lines can be met as soon as the load runs.
struct Earliest {
  Duration at = Duration::zero();
  std::string why;
};

Earliest EarliestOf(const Trigger& trigger, const std::vector<Fault>& faults, int depth = 0) {
  if (const auto* t = std::get_if<AtTime>(&trigger)) {
    return {t->offset, fmt::format("at {}", FormatDuration(t->offset))};
  }
  if (const auto* b = std::get_if<Between>(&trigger)) {
    return {b->lo, fmt::format("between {} and {}", FormatDuration(b->lo), FormatDuration(b->hi))};
  }
  if (const auto* a = std::get_if<AfterFault>(&trigger)) {
    // Faults only follow earlier ones (the parser checks), so this ends.
    if (a->fault >= faults.size() || depth > 64) return {Duration::zero(), "after another fault"};
    const Earliest before = EarliestOf(faults[a->fault].trigger, faults, depth + 1);
    return {before.at + a->delay, fmt::format("{} after {} ({})", FormatDuration(a->delay),
                                              faults[a->fault].name, before.why)};
  }
  if (std::holds_alternative<AfterRequests>(trigger)) {
    return {Duration::zero(), "on a count of requests, while the load runs"};
  }
  if (std::holds_alternative<AtInflight>(trigger)) {
    return {Duration::zero(), "on requests in flight, while the load runs"};
  }
  if (std::holds_alternative<AtDbActive>(trigger)) {
    return {Duration::zero(), "on active database sessions, while the load runs"};
  }
  if (std::holds_alternative<OnLog>(trigger)) {
    return {Duration::zero(), "on a log line, which can come while the load runs"};
  }
  if (const auto* all = std::get_if<AllOf>(&trigger)) {
    Earliest e{Duration::zero(), "when all of its triggers are met"};
    for (const Trigger& t : all->triggers)
      e.at = std::max(e.at, EarliestOf(t, faults, depth + 1).at);
    return e;
  }
  if (const auto* any = std::get_if<AnyOf>(&trigger)) {
    Earliest e{Duration::max(), "when the first of its triggers is met"};
    for (const Trigger& t : any->triggers)
      e.at = std::min(e.at, EarliestOf(t, faults, depth + 1).at);
    if (any->triggers.empty()) e.at = Duration::zero();
    return e;
  }
  return {Duration::zero(), "at once"};
}

}  // namespace

std::vector<ScenarioError> ScenarioWarnings(const Scenario& s) {
  std::vector<ScenarioError> warnings;
  auto warn = [&](const SourcePos& pos, std::string message) {
    warnings.push_back({s.file, pos.line, pos.col, "warning: " + std::move(message)});
  };

  // The first fault that signals the target (Timeline::first_fault), as
  // early as it can come.
  const Fault* first = nullptr;
  Earliest first_at;
  for (const Fault& f : s.faults) {
    if (!Signals(f.action)) continue;
    const Earliest e = EarliestOf(f.trigger, s.faults);
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
