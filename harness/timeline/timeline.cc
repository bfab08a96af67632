#include "timeline.h"

#include <algorithm>

namespace gracecheck {

namespace {
constexpr const char* kOutcomeNames[kOutcomeCount] = {"ok",          "http_error", "refused",
                                                      "idle_closed", "reset",      "eof",
                                                      "truncated",   "timeout",    "client_error"};
}  // namespace

const char* OutcomeName(Outcome o) { return kOutcomeNames[static_cast<int>(o)]; }

const char* ProcessEventName(ProcessEvent::Kind k) {
  switch (k) {
    case ProcessEvent::Kind::kSpawned:
      return "spawned";
    case ProcessEvent::Kind::kReady:
      return "ready";
    case ProcessEvent::Kind::kSignalSent:
      return "signal_sent";
    case ProcessEvent::Kind::kExited:
      return "exited";
    case ProcessEvent::Kind::kKilled:
      return "killed";
    case ProcessEvent::Kind::kOrphanKilled:
      return "orphan_killed";
  }
  return "?";
}

int TreeProcess::ThreadsAt(Nanos t) const {
  if (first_seen == kNever || t < first_seen || (last_seen != kNever && t > last_seen)) return -1;
  int n = -1;
  for (const auto& [at, count] : threads) {
    if (at > t) break;
    n = count;
  }
  return n;
}

int TreeProcess::LowestThreads(Nanos from, Nanos until) const {
  int lowest = ThreadsAt(from);
  if (lowest < 0) return -1;
  if (gone != kNever && until != kNever && gone <= until) return -1;
  for (const auto& [at, count] : threads) {
    if (at > from && (until == kNever || at < until)) lowest = std::min(lowest, count);
  }
  return lowest;
}

Nanos OverlapWith(const std::vector<std::pair<Nanos, Nanos>>& stretches, Nanos from, Nanos to) {
  auto it =
      std::lower_bound(stretches.begin(), stretches.end(), from,
                       [](const std::pair<Nanos, Nanos>& s, Nanos t) { return s.second <= t; });
  Nanos sum = 0;
  for (; it != stretches.end() && it->first < to; ++it) {
    sum += std::max<Nanos>(0, std::min(it->second, to) - std::max(it->first, from));
  }
  return sum;
}

}  // namespace gracecheck
