// The checks of what the clients saw: requests.dropped, requests.lame_duck,
// writes.lost (checks.h).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "checks.h"
#include "checks/evidence.h"
#include "summary.h"

namespace gracecheck {

namespace {

using OutcomeCounts = std::array<int, kOutcomeCount>;

// "2 eof, 1 reset", in the order of the Outcome enum; "" when all are 0.
std::string CountsText(const OutcomeCounts& counts) {
  std::string text;
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (counts[static_cast<std::size_t>(i)] == 0) continue;
    if (!text.empty()) text += ", ";
    text += fmt::format("{} {}", counts[static_cast<std::size_t>(i)],
                        OutcomeName(static_cast<Outcome>(i)));
  }
  return text;
}

int Sum(const OutcomeCounts& counts) {
  int n = 0;
  for (int c : counts) n += c;
  return n;
}

std::string DropLine(const RequestRecord& r, const Timeline& tl) {
  std::string line =
      fmt::format("request {} ({}) on connection {} reuse {}: {}, ", RequestId(tl, r),
                  KindOf(r, tl), r.connection, r.reuse, OutcomeName(r.outcome));
  line += r.status != 0 ? fmt::format("status {}", r.status) : "no status";
  if (r.written != kNever) {
    line +=
        fmt::format("; written {}, done {}", FormatMoment(r.written, tl), FormatMoment(r.done, tl));
    if (r.done != kNever) {
      const bool closed = r.outcome == Outcome::kEof || r.outcome == Outcome::kReset ||
                          r.outcome == Outcome::kTruncated;
      line += fmt::format(", write-to-{} {}", closed ? "close" : "done",
                          FormatMillis(r.done - r.written));
    }
  } else {
    line += fmt::format("; not written, done {}", FormatMoment(r.done, tl));
  }
  if (r.has(RequestRecord::kPrevConnectionClose)) line += " [previous response: Connection: close]";
  if (r.has(RequestRecord::kWriteFailed)) line += " [write failed]";
  if (r.has(RequestRecord::kClosedBeforeWrite))
    line += " [sent on a new connection: the reused one was closed]";
  if (r.has(RequestRecord::kNeverAcked)) line += " [the server's TCP never acknowledged it]";
  if (r.has(RequestRecord::kByReset) && r.outcome == Outcome::kIdleClosed) line += " [by a reset]";
  if (auto it = tl.server_cpu_waits.find(RequestId(tl, r)); it != tl.server_cpu_waits.end()) {
    line +=
        fmt::format(" [the target's threads waited {} for a CPU meanwhile: left out of the window]",
                    FormatMillis(it->second));
  }
  return line;
}

}  // namespace

CheckResult CheckRequestsDropped(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  const bool split = e.dropped_after_signal.has_value();
  OutcomeCounts before{}, after{}, excused_outcomes{};
  std::map<int, int> excused_statuses;  // status -> count
  int refused = 0, idle_closed = 0;
  std::vector<const RequestRecord*> drops, waited;  // waited: excused by the target's CPU wait
  for (const RequestRecord& r : tl.requests) {
    if (r.has(RequestRecord::kServerCpuWait) && !r.dropped()) waited.push_back(&r);
    if (r.outcome == Outcome::kRefused) ++refused;
    if (r.outcome == Outcome::kIdleClosed) ++idle_closed;
    if (!r.dropped()) continue;
    const bool is_after = r.has(RequestRecord::kAfterSignal);
    if (is_after && r.outcome == Outcome::kHttpError && r.status > 0 &&
        e.allow_status_after_signal.Contains(r.status)) {
      ++excused_statuses[r.status];
      continue;
    }
    if (is_after &&
        std::find(e.allow_outcomes_after_signal.begin(), e.allow_outcomes_after_signal.end(),
                  OutcomeName(r.outcome)) != e.allow_outcomes_after_signal.end()) {
      ++excused_outcomes[static_cast<std::size_t>(r.outcome)];
      continue;
    }
    ++(is_after ? after : before)[static_cast<std::size_t>(r.outcome)];
    drops.push_back(&r);
  }

  auto counted = [](const OutcomeCounts& counts) {
    const int n = Sum(counts);
    return n == 0 ? fmt::format("{} dropped", n)
                  : fmt::format("{} dropped ({})", n, CountsText(counts));
  };
  if (split) {
    c.Judge(Sum(before) <= e.dropped && Sum(after) <= *e.dropped_after_signal);
    c.expected = fmt::format("<= {} dropped before the signal, <= {} after", e.dropped,
                             *e.dropped_after_signal);
    c.observed = fmt::format("{} before the signal, {} after", counted(before), counted(after));
  } else {
    OutcomeCounts all{};
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = before[i] + after[i];
    c.Judge(Sum(all) <= e.dropped);
    c.expected = fmt::format("<= {} dropped", e.dropped);
    c.observed = counted(all);
  }
  std::vector<std::string> not_drops;
  if (refused > 0) not_drops.push_back(fmt::format("{} refused", refused));
  if (idle_closed > 0)
    not_drops.push_back(fmt::format("{} idle_closed (keep-alive race)", idle_closed));
  if (!waited.empty()) {
    not_drops.push_back(fmt::format("{} of them only once the target's wait for a CPU was left out",
                                    waited.size()));
  }
  for (const auto& [status, n] : excused_statuses) {
    not_drops.push_back(fmt::format("{} with status {} after the signal", n, status));
  }
  if (const int n = Sum(excused_outcomes); n > 0) {
    not_drops.push_back(fmt::format("{} after the signal", CountsText(excused_outcomes)));
  }
  if (!not_drops.empty())
    c.observed += "; not drops: " + fmt::format("{}", fmt::join(not_drops, ", "));

  std::vector<std::string> lines;
  for (const RequestRecord* r : drops) lines.push_back(DropLine(*r, tl));
  // What the target's CPU wait excused is shown, as the drops are.
  for (const RequestRecord* r : waited) lines.push_back("not a drop: " + DropLine(*r, tl));
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckRequestsLameDuck(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  const Duration lame_duck = e.lame_duck.value_or(Duration::zero());
  c.expected =
      fmt::format("no connection refused within {} of the signal", FormatDuration(lame_duck));
  if (SkipUnmeasurable(&c, tl, {Needs::kSignal})) return c;
  const Nanos until = tl.first_signal + lame_duck.count();
  int started = 0;
  Nanos first_refused = kNever;
  std::vector<const RequestRecord*> refused;
  for (const RequestRecord& r : tl.requests) {
    if (r.intended >= tl.first_signal && r.intended < until) ++started;
    if (r.outcome != Outcome::kRefused || r.done == kNever || r.done < tl.first_signal) continue;
    if (first_refused == kNever || r.done < first_refused) first_refused = r.done;
    // A refusal the client saw before `until` happened at the server before it.
    if (r.done < until) refused.push_back(&r);
  }
  const std::string first = first_refused == kNever
                                ? "none refused at all"
                                : fmt::format("the first refused {} after the signal",
                                              FormatMillis(first_refused - tl.first_signal));
  // A target that exits within the period accepts nothing for the rest of
  // it, whether or not a request happened to try (the load stops with it).
  const bool exited_early = tl.exited != kNever && tl.exited < until;
  const std::string exit_note = exited_early
                                    ? fmt::format("; it exited {} after the signal",
                                                  FormatMillis(tl.exited - tl.first_signal))
                                    : "";
  if (!refused.empty()) {
    c.status = CheckStatus::kFailed;
    c.observed = fmt::format("{} refused within {} ({}; {} requests started in it){}",
                             Plural(static_cast<int>(refused.size()), "connection", "connections"),
                             FormatDuration(lame_duck), first, started, exit_note);
  } else if (exited_early) {
    c.status = CheckStatus::kFailed;
    c.observed = fmt::format("it exited {} after the signal, within the {} it must keep serving",
                             FormatMillis(tl.exited - tl.first_signal), FormatDuration(lame_duck));
  } else if (started == 0) {
    c.Skip(fmt::format("no request started within {} of the signal ({})", FormatDuration(lame_duck),
                       first));
    return c;
  } else {
    c.status = CheckStatus::kPassed;
    c.observed = fmt::format("none refused within {} ({} requests started in it; {})",
                             FormatDuration(lame_duck), started, first);
  }
  std::sort(refused.begin(), refused.end(),
            [](const RequestRecord* a, const RequestRecord* b) { return a->done < b->done; });
  std::vector<std::string> lines;
  for (const RequestRecord* r : refused) {
    lines.push_back(fmt::format("request {} ({}): connection refused at {}", RequestId(tl, *r),
                                KindOf(*r, tl), FormatMoment(r->done, tl)));
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckWritesLost(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  const int allowed = e.writes ? e.writes->lost : 0;
  if (!tl.writes_verified) {
    c.expected = fmt::format("<= {} lost", allowed);
    c.Skip("the writes were not verified (expect.writes.verify_sql failed)");
    return c;
  }
  int acknowledged = 0;
  std::unordered_map<std::string, const RequestRecord*> by_key;
  for (const WriteKey& w : tl.write_keys) {
    const RequestRecord* r = RequestOf(tl, w);
    by_key[w.key] = r;
    if (r && r->outcome == Outcome::kOk && r->status >= 200 && r->status < 300) ++acknowledged;
  }
  const int lost = static_cast<int>(tl.lost_writes.size());
  c.Judge(tl.writes_verified && lost <= allowed);
  c.expected = fmt::format("<= {} lost", allowed);
  if (!tl.writes_verified) {
    c.observed = "not verified";
  } else {
    c.observed = fmt::format(
        "{} lost of {} acknowledged; {} applied without acknowledgement "
        "(not a failure)",
        lost, acknowledged, tl.unacknowledged_applied.size());
  }
  std::vector<std::string> lines;
  for (const std::string& key : tl.lost_writes) {
    auto it = by_key.find(key);
    const RequestRecord* r = it == by_key.end() ? nullptr : it->second;
    if (r) {
      lines.push_back(
          fmt::format("key '{}' (request {}): acknowledged with status {} at {}, "
                      "missing from the database",
                      Shorten(key, 60), RequestId(tl, *r), r->status, FormatMoment(r->done, tl)));
    } else {
      lines.push_back(
          fmt::format("key '{}': acknowledged, missing from the database", Shorten(key, 60)));
    }
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

}  // namespace gracecheck
