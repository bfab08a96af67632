// The check of the scenario's own faults: faults.delivered (checks.h).
#include <fmt/format.h>

#include <string>
#include <vector>

#include "checks.h"
#include "checks/evidence.h"
#include "summary.h"

namespace gracecheck {

CheckResult CheckFaultsDelivered(const Timeline& tl, const Expectations&) {
  CheckResult c;
  c.expected = "each delivered within its tolerance, or skipped";
  int delivered = 0, skipped = 0, late = 0, missed = 0;
  Nanos max_lag = 0;
  std::vector<std::string> lines;
  for (const FaultRecord& f : tl.faults) {
    if (f.skipped) {
      ++skipped;
      continue;
    }
    if (f.delivered == kNever) {
      ++missed;
      lines.push_back(fmt::format("{}: not delivered (scheduled {}): {}", f.name,
                                  FormatMoment(f.scheduled, tl),
                                  f.error.empty() ? "no reason recorded" : f.error));
      continue;
    }
    ++delivered;
    const Nanos lag = f.lag();
    if (lag != kNever) max_lag = std::max(max_lag, lag);
    if (lag != kNever && lag > f.tolerance.count()) {
      ++late;
      lines.push_back(
          fmt::format("{}: delivered {} late (tolerance {}): scheduled {}, delivered {}", f.name,
                      FormatMillis(lag), FormatDuration(f.tolerance), FormatMoment(f.scheduled, tl),
                      FormatMoment(f.delivered, tl)));
    }
  }
  c.Judge(late == 0 && missed == 0);
  const int n = static_cast<int>(tl.faults.size());
  if (n == 0) {
    c.observed = "no fault scripted";
  } else {
    c.observed = fmt::format("{} of {} delivered", delivered, n);
    if (delivered > 0) c.observed += fmt::format(" (max lag {})", FormatMillis(max_lag));
    if (skipped > 0) c.observed += fmt::format(", {} skipped (target had exited)", skipped);
    if (late > 0) c.observed += fmt::format(", {} late", late);
    if (missed > 0) c.observed += fmt::format(", {} not delivered", missed);
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

}  // namespace gracecheck
