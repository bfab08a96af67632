#include "checks/evidence.h"

#include <fmt/format.h>

#include <algorithm>

#include "checks.h"

namespace gracecheck {

void AddEvidence(std::vector<std::string>* evidence, std::vector<std::string> lines) {
  const std::size_t room = static_cast<std::size_t>(kMaxEvidence) -
                           std::min<std::size_t>(evidence->size(), kMaxEvidence);
  if (lines.size() > room) {
    const std::size_t keep = room == 0 ? 0 : room - 1;
    const std::size_t left_out = lines.size() - keep;
    lines.resize(keep);
    if (room > 0) lines.push_back(fmt::format("… and {} more", left_out));
  }
  for (std::string& l : lines) evidence->push_back(std::move(l));
}

std::string Plural(int n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string Shorten(const std::string& text, std::size_t max) {
  std::string one_line;
  for (char c : text) one_line += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (one_line.size() <= max) return one_line;
  return one_line.substr(0, max) + "…";
}

std::string KindOf(const RequestRecord& r, const Timeline& tl) {
  return r.kind < tl.request_kinds.size() ? tl.request_kinds[r.kind]
                                          : fmt::format("kind {}", r.kind);
}

bool SkipUnmeasurable(CheckResult* c, const Timeline& tl, std::initializer_list<Needs> needs) {
  for (const Needs need : needs) {
    switch (need) {
      case Needs::kExit:
        if (tl.exited != kNever) continue;
        c->Skip("the target did not exit (see process.exit)");
        return true;
      case Needs::kDbSamples:
        if (!tl.db_samples.empty()) continue;
        c->Skip("no pg_stat_activity sample");
        return true;
      case Needs::kSignal:
        if (tl.first_signal != kNever) continue;
        c->Skip("no signal was delivered");
        return true;
      case Needs::kOwnSessions:
        if (tl.sessions_unmeasurable.empty()) continue;
        c->Skip(tl.sessions_unmeasurable);
        return true;
    }
  }
  return false;
}

}  // namespace gracecheck
