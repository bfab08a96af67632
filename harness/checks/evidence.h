// What every check's evidence is made of: the few formatting helpers that
// checks of more than one family share (checks/requests.cc,
// checks/process.cc, checks/db.cc, checks/faults.cc). Internal to the checks.
//
// Threading: pure functions; call from any thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "checks.h"
#include "timeline.h"

namespace gracecheck {

// Appends `lines` to `evidence`, keeping at most kMaxEvidence lines in all,
// the last saying how many were left out.
void AddEvidence(std::vector<std::string>* evidence, std::vector<std::string> lines);

// "1 session", "3 sessions".
std::string Plural(int n, const char* one, const char* many);

// `text` on one line, cut to `max` characters with "…".
std::string Shorten(const std::string& text, std::size_t max);

// What a check needs to measure anything, and that more than one check
// needs: each is said one way when it is missing.
enum class Needs {
  kExit,         // the target exited: "the target did not exit (see process.exit)"
  kDbSamples,    // a pg_stat_activity sample: "no pg_stat_activity sample"
  kSignal,       // a delivered signal (Timeline::first_signal): "no signal was delivered"
  kOwnSessions,  // the sessions seen are the target's (Timeline::sessions_unmeasurable)
};
// Skips `c` with the reason of the first of `needs` that `tl` lacks; false
// (and `c` untouched) when it has them all.
bool SkipUnmeasurable(CheckResult* c, const Timeline& tl, std::initializer_list<Needs> needs);

// "GET /slow?ms=300" for a request of that kind, as the scenario wrote it.
std::string KindOf(const RequestRecord& r, const Timeline& tl);

}  // namespace gracecheck
