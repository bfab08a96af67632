// Warnings about a valid scenario whose own shape keeps a check it asks for
// from measuring anything: in every run that check would be skipped ("not
// measurable", checks.h), so asking for it only looks like a guarantee.
// Decided from the file alone, each pointing at the key that asks:
//
// - expect.threads.growth compares idle threads before the load with the
//   fewest after it and before the first fault: it cannot be measured
//   without a load, or when the first fault that signals the target can come
//   before the load ends (a time earlier than load.duration, a request,
//   inflight, db_active or log trigger, which fire while the load runs).
// - expect.lame_duck looks at requests started after the first signal: not
//   measurable without a fault that signals, without a load, or when that
//   signal cannot come before the load ends.
// - expect.db_sessions.closed_before_drain, when given, judges the pool
//   after the first signal: not measurable without a fault that signals.
//
// `gracecheck validate` and `gracecheck run` print them
// (`file:line:col: warning: …`); they do not make a scenario invalid.
//
// Threading: a pure function of a read-only Scenario.
#pragma once

#include <vector>

#include "scenario.h"

namespace gracecheck {

// Each warning's message starts with "warning: ".
std::vector<ScenarioError> ScenarioWarnings(const Scenario& scenario);

}  // namespace gracecheck
