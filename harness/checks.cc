#include "checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

#include "subprocess.h"
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

// Keeps at most kMaxEvidence lines, the last saying how many were left out.
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

std::string SessionLine(const DbSession& s, const Timeline& tl) {
  std::string line = fmt::format("session pid {} ({}), first seen {}, last seen {}", s.pid,
                                 s.last_state.empty() ? "state unknown" : s.last_state,
                                 FormatMoment(s.first_seen, tl), FormatMoment(s.last_seen, tl));
  if (!s.last_query.empty()) line += ": " + Shorten(s.last_query, 80);
  return line;
}

std::string ExpectedExit(const ExitExpectation& e) {
  return FormatExitStatus(e.signaled, e.code, e.signal);
}

bool ExitMatches(const Timeline& tl, const ExitExpectation& e) {
  if (e.signaled) return tl.exit_signaled && tl.exit_signal == e.signal;
  return !tl.exit_signaled && tl.exit_code == e.code;
}

std::string EventLine(const ProcessEvent& ev, const Timeline& tl) {
  std::string what;
  switch (ev.kind) {
    case ProcessEvent::Kind::kSignalSent:
      what = fmt::format("{} sent", SignalName(ev.value));
      if (!ev.detail.empty()) what += " to the " + ev.detail;
      break;
    case ProcessEvent::Kind::kExited:
      what = fmt::format("exited with code {}", ev.value);
      break;
    case ProcessEvent::Kind::kKilled:
      what = fmt::format("killed by {}", SignalName(ev.value));
      break;
    case ProcessEvent::Kind::kOrphanKilled:
      what = fmt::format("gracecheck SIGKILLed pid {}", ev.value);
      break;
    default:
      what = ProcessEventName(ev.kind);
      break;
  }
  // The detail of a signal is its target; of an exit, the status said above.
  const bool said = ev.kind == ProcessEvent::Kind::kSignalSent ||
                    ev.kind == ProcessEvent::Kind::kExited ||
                    ev.kind == ProcessEvent::Kind::kKilled;
  if (!said && !ev.detail.empty()) what += " (" + ev.detail + ")";
  return FormatMoment(ev.t, tl) + " " + what;
}

// The last sample of a live process before the exit (or the last one when
// the target did not exit); nullptr if none.
const ProcSample* LastProcSampleBeforeExit(const Timeline& tl) {
  const ProcSample* last = nullptr;
  for (const ProcSample& s : tl.proc_samples) {
    if (s.threads <= 0) continue;
    if (tl.exited != kNever && s.t >= tl.exited) continue;
    last = &s;
  }
  return last;
}

std::string DropLine(const RequestRecord& r, const Timeline& tl) {
  std::string line = fmt::format("request {} (kind {}) on connection {} reuse {}: {}, ", r.id,
                                 r.kind, r.connection, r.reuse, OutcomeName(r.outcome));
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
  return line;
}

}  // namespace

CheckResult CheckRequestsDropped(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "requests.dropped";
  const bool split = e.dropped_after_signal.has_value();
  OutcomeCounts before{}, after{}, excused_outcomes{};
  std::map<int, int> excused_statuses;  // status -> count
  int refused = 0, idle_closed = 0;
  std::vector<const RequestRecord*> drops;
  for (const RequestRecord& r : tl.requests) {
    if (r.outcome == Outcome::kRefused) ++refused;
    if (r.outcome == Outcome::kIdleClosed) ++idle_closed;
    if (!r.dropped()) continue;
    const bool is_after = r.has(RequestRecord::kAfterFault);
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
    c.passed = Sum(before) <= e.dropped && Sum(after) <= *e.dropped_after_signal;
    c.expected = fmt::format("<= {} dropped before the signal, <= {} after", e.dropped,
                             *e.dropped_after_signal);
    c.observed = fmt::format("{} before the signal, {} after", counted(before), counted(after));
  } else {
    OutcomeCounts all{};
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = before[i] + after[i];
    c.passed = Sum(all) <= e.dropped;
    c.expected = fmt::format("<= {} dropped", e.dropped);
    c.observed = counted(all);
  }
  std::vector<std::string> not_drops;
  if (refused > 0) not_drops.push_back(fmt::format("{} refused", refused));
  if (idle_closed > 0)
    not_drops.push_back(fmt::format("{} idle_closed (keep-alive race)", idle_closed));
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
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckWritesLost(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "writes.lost";
  const int allowed = e.writes ? e.writes->lost : 0;
  std::unordered_map<std::uint32_t, const RequestRecord*> by_id;
  for (const RequestRecord& r : tl.requests) by_id[r.id] = &r;
  int acknowledged = 0;
  std::unordered_map<std::string, const RequestRecord*> by_key;
  for (const WriteKey& w : tl.write_keys) {
    auto it = by_id.find(w.request_id);
    const RequestRecord* r = it == by_id.end() ? nullptr : it->second;
    by_key[w.key] = r;
    if (r && r->outcome == Outcome::kOk && r->status >= 200 && r->status < 300) ++acknowledged;
  }
  const int lost = static_cast<int>(tl.lost_writes.size());
  c.passed = tl.writes_verified && lost <= allowed;
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
                      Shorten(key, 60), r->id, r->status, FormatMoment(r->done, tl)));
    } else {
      lines.push_back(
          fmt::format("key '{}': acknowledged, missing from the database", Shorten(key, 60)));
    }
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckProcessExit(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "process.exit";
  const Duration within = e.exit.within;
  c.expected = fmt::format("{} within {}", ExpectedExit(e.exit), FormatDuration(within));
  const std::string status = FormatExitStatus(tl.exit_signaled, tl.exit_code, tl.exit_signal);
  if (tl.first_fault == kNever) {
    if (tl.exited == kNever) {
      c.passed = false;
      c.observed = "still running (no fault was delivered)";
    } else {
      c.passed = ExitMatches(tl, e.exit);
      c.observed =
          fmt::format("{} at {} (no fault was delivered)", status, FormatMoment(tl.exited, tl));
    }
  } else if (tl.exited == kNever) {
    c.passed = false;
    c.observed = fmt::format("no exit within {} (killed by gracecheck)", FormatDuration(within));
  } else {
    const Nanos took = tl.exited - tl.first_fault;
    c.passed = ExitMatches(tl, e.exit) && took <= within.count();
    c.observed = fmt::format("{} after {}", status, FormatMillis(took));
  }
  std::vector<std::string> lines;
  for (const ProcessEvent& ev : tl.process_events) {
    if (ev.kind == ProcessEvent::Kind::kSpawned || ev.kind == ProcessEvent::Kind::kReady) continue;
    lines.push_back(EventLine(ev, tl));
  }
  // The latest events say most about how the process ended.
  if (lines.size() > static_cast<std::size_t>(kMaxEvidence)) {
    lines.erase(lines.begin(), lines.end() - kMaxEvidence);
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckProcessOrphans(const Timeline& tl, const Expectations&) {
  CheckResult c;
  c.name = "process.orphans";
  c.passed = tl.orphans.empty();
  c.expected = "none left after the target exited";
  if (c.passed) {
    c.observed = "none";
  } else {
    c.observed = fmt::format("{} left: pid {}",
                             Plural(static_cast<int>(tl.orphans.size()), "process", "processes"),
                             fmt::join(tl.orphans, ", "));
  }
  std::vector<std::string> lines;
  for (int pid : tl.orphans) {
    std::string line = fmt::format("pid {} outlived the target", pid);
    for (const ProcessEvent& ev : tl.process_events) {
      if (ev.kind == ProcessEvent::Kind::kOrphanKilled && ev.value == pid) {
        line += fmt::format("; SIGKILLed by gracecheck at {}", FormatMoment(ev.t, tl));
        if (!ev.detail.empty()) line += " (" + ev.detail + ")";
        break;
      }
    }
    lines.push_back(std::move(line));
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckThreadsGrowth(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "threads.growth";
  const int growth = e.threads && e.threads->growth ? *e.threads->growth : 0;
  c.expected = fmt::format("<= {:+d} idle threads after the load", growth);
  if (tl.threads_before_load == Timeline::kUnknown) {
    c.passed = true;
    c.observed = "not measurable: no sample before the load";
    return c;
  }
  if (tl.threads_idle_after_load == Timeline::kUnknown) {
    c.passed = true;
    c.observed = tl.load_start == kNever ? "not measurable: there was no load"
                                         : "not measurable: the fault came during the load";
    return c;
  }
  const int d = tl.threads_idle_after_load - tl.threads_before_load;
  c.passed = d <= growth;
  c.observed = fmt::format("{:+d} ({} before the load, {} idle after it)", d,
                           tl.threads_before_load, tl.threads_idle_after_load);
  c.evidence.push_back(fmt::format("{} threads in the last sample before the load ({})",
                                   tl.threads_before_load, FormatMoment(tl.load_start, tl)));
  c.evidence.push_back(
      fmt::format("{} threads at the lowest between the end of the load ({}) and {}",
                  tl.threads_idle_after_load, FormatMoment(tl.load_end, tl),
                  tl.first_fault != kNever ? "the first fault" : "the exit"));
  return c;
}

CheckResult CheckThreadsAtExit(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "threads.at_exit";
  const int limit = e.threads && e.threads->at_exit ? *e.threads->at_exit : 0;
  c.expected = fmt::format("<= {} threads before the exit", limit);
  const ProcSample* last = LastProcSampleBeforeExit(tl);
  if (!last) {
    c.passed = true;
    c.observed = "not measurable: no /proc sample of the target";
    return c;
  }
  c.passed = last->threads <= limit;
  if (tl.exited != kNever) {
    c.observed = fmt::format("{} threads {} before the exit", last->threads,
                             FormatMillis(tl.exited - last->t));
  } else {
    c.observed = fmt::format("{} threads at {} (the target did not exit)", last->threads,
                             FormatMoment(last->t, tl));
  }
  std::vector<std::string> lines;
  for (const auto& [name, n] : tl.thread_names_at_exit) {
    lines.push_back(fmt::format("{} × thread '{}'", n, name));
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckDbSessionsAfterExit(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "db.sessions_after_exit";
  const Nanos settle = e.db_sessions.settle.count();
  c.expected = fmt::format("<= {} sessions {} after the exit", e.db_sessions.after_exit,
                           FormatDuration(e.db_sessions.settle));
  if (tl.exited == kNever) {
    c.passed = true;
    c.observed = "not measurable: the target did not exit (see process.exit)";
    return c;
  }
  if (tl.db_samples.empty()) {
    c.passed = true;
    c.observed = "not measurable: no pg_stat_activity sample";
    return c;
  }
  const Nanos limit = tl.exited + settle;
  const DbSample* at = nullptr;
  for (const DbSample& s : tl.db_samples) {
    if (s.t >= limit) {
      at = &s;
      break;
    }
  }
  // Without a sample at the limit: the probe stopped once the sessions were
  // gone, or (if they were not) its last sample after the exit stands in.
  if (!at && tl.db_sessions_gone == kNever && tl.db_samples.back().t >= tl.exited) {
    at = &tl.db_samples.back();
  }
  if (!at && tl.db_sessions_gone == kNever) {
    c.passed = true;
    c.observed = "not measurable: no pg_stat_activity sample after the exit";
    return c;
  }
  const int count = at ? at->total() : 0;
  c.passed = count <= e.db_sessions.after_exit;
  if (count == 0) {
    c.observed = tl.db_sessions_gone != kNever
                     ? fmt::format("0 sessions; all gone {} after the exit",
                                   FormatMillis(tl.db_sessions_gone - tl.exited))
                     : "0 sessions";
  } else {
    c.observed = fmt::format(
        "{} {} after the exit ({} active, {} idle, {} idle in transaction, "
        "{} other)",
        Plural(count, "session", "sessions"), FormatMillis(at->t - tl.exited), at->active, at->idle,
        at->idle_in_transaction, at->other);
  }
  std::vector<std::string> lines;
  if (count > 0) {
    for (const DbSession& s : tl.db_sessions) {
      if (s.last_seen != kNever && s.last_seen >= at->t) lines.push_back(SessionLine(s, tl));
    }
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckDbAbandoned(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.name = "db.abandoned";
  c.expected = fmt::format("<= {} abandoned", e.db_sessions.abandoned);
  if (tl.sessions_abandoned == Timeline::kUnknown) {
    c.passed = true;
    c.observed = "unknown";
    return c;
  }
  c.passed = tl.sessions_abandoned <= e.db_sessions.abandoned;
  c.observed = fmt::format("{} abandoned (pg_stat_database.sessions_abandoned delta)",
                           tl.sessions_abandoned);
  // Sessions still open in the last sample before the exit ended with the
  // process: the likely abandoned ones.
  if (tl.exited == kNever) return c;
  const DbSample* last = nullptr;
  for (const DbSample& s : tl.db_samples) {
    if (s.t <= tl.exited) last = &s;
  }
  if (!last) return c;
  std::vector<std::string> lines;
  for (const DbSession& s : tl.db_sessions) {
    if (s.last_seen != kNever && s.last_seen >= last->t && s.first_seen <= last->t) {
      lines.push_back("open at the exit: " + SessionLine(s, tl));
    }
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckDbOrphanedQueries(const Timeline& tl, const Expectations& expect) {
  CheckResult c;
  c.name = "db.orphaned_queries";
  const int allowed = expect.db_sessions.orphaned_queries;
  c.expected =
      allowed == 0
          ? fmt::format("none active {} after the exit",
                        FormatDuration(Duration(kOrphanedQuerySettle)))
          : fmt::format("<= {} active {} after the exit", allowed,
                        FormatDuration(Duration(kOrphanedQuerySettle)));
  if (tl.exited == kNever) {
    c.passed = true;
    c.observed = "not measurable: the target did not exit (see process.exit)";
    return c;
  }
  if (tl.db_samples.empty()) {
    c.passed = true;
    c.observed = "not measurable: no pg_stat_activity sample";
    return c;
  }
  const Nanos from = tl.exited + kOrphanedQuerySettle;
  int most = 0;
  Nanos last_active = kNever;
  for (const DbSample& s : tl.db_samples) {
    if (s.t <= from || s.active == 0) continue;
    most = std::max(most, s.active);
    last_active = s.t;
  }
  std::vector<std::string> lines;
  for (const DbSession& s : tl.db_sessions) {
    if (s.last_state == "active" && s.last_seen != kNever && s.last_seen > from) {
      lines.push_back(SessionLine(s, tl));
    }
  }
  const int sessions = std::max(most, static_cast<int>(lines.size()));
  c.passed = sessions <= allowed;
  if (sessions == 0) {
    c.observed = "none active after the exit";
  } else if (last_active != kNever) {
    c.observed =
        fmt::format("{} active up to {} after the exit", Plural(sessions, "session", "sessions"),
                    FormatMillis(last_active - tl.exited));
  } else {
    c.observed = fmt::format("{} active after the exit", Plural(sessions, "session", "sessions"));
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckFaultsDelivered(const Timeline& tl, const Expectations&) {
  CheckResult c;
  c.name = "faults.delivered";
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
  c.passed = late == 0 && missed == 0;
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

std::vector<CheckResult> RunChecks(const Timeline& tl, const Expectations& e) {
  std::vector<CheckResult> results;
  results.push_back(CheckRequestsDropped(tl, e));
  if (e.writes && tl.writes_verified) results.push_back(CheckWritesLost(tl, e));
  results.push_back(CheckProcessExit(tl, e));
  results.push_back(CheckProcessOrphans(tl, e));
  if (e.threads && e.threads->growth) results.push_back(CheckThreadsGrowth(tl, e));
  if (e.threads && e.threads->at_exit) results.push_back(CheckThreadsAtExit(tl, e));
  results.push_back(CheckDbSessionsAfterExit(tl, e));
  results.push_back(CheckDbAbandoned(tl, e));
  results.push_back(CheckDbOrphanedQueries(tl, e));
  results.push_back(CheckFaultsDelivered(tl, e));
  return results;
}

bool AllPassed(const std::vector<CheckResult>& results) {
  return std::all_of(results.begin(), results.end(), [](const CheckResult& c) { return c.passed; });
}

}  // namespace gracecheck
