#include "figures.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string>
#include <vector>

namespace gracecheck {

namespace {

std::string Count(int n) { return n == Timeline::kUnknown ? "-" : std::to_string(n); }

// "5 active, 3 idle"; "" when there is no session.
std::string StatesText(const DbSample& s) {
  std::string text;
  auto add = [&](int n, const char* state) {
    if (n == 0) return;
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", n, state);
  };
  add(s.active, "active");
  add(s.idle, "idle");
  add(s.idle_in_transaction, "idle in transaction");
  add(s.other, "other");
  return text;
}

// "8 (5 active, 3 idle)"; "-" when no sample fits the moment.
std::string SessionsText(const DbSample& s, bool known) {
  if (!known) return "-";
  const std::string states = StatesText(s);
  return states.empty() ? "0" : fmt::format("{} ({})", s.total(), states);
}

// "8 (at most 5 active, 8 idle)": the highest total, and each state's highest
// count (which may come from other samples).
std::string PeakSessionsText(const DbFigures& db) {
  if (!db.known_peak) return "-";
  const std::string states = StatesText(db.highest_by_state);
  return states.empty() ? "0" : fmt::format("{} (at most {})", db.peak.total(), states);
}

}  // namespace

std::string OutcomesText(const PhaseSummary& p) {
  if (p.total == 0) return "none";
  std::string parts;
  for (int i = 0; i < kOutcomeCount; ++i) {
    const int n = p.outcomes[static_cast<std::size_t>(i)];
    if (n == 0) continue;
    if (!parts.empty()) parts += ", ";
    parts += fmt::format("{} {}", n, OutcomeName(static_cast<Outcome>(i)));
  }
  std::string text = fmt::format("{} ({})", p.total, parts);
  if (p.dropped > 0) text += fmt::format(", {} dropped", p.dropped);
  return text;
}

std::string LatencyText(const LatencySummary& l) {
  if (l.count == 0) return "no ok request";
  return fmt::format("p50 {}, p90 {}, p99 {}, max {}", FormatMillis(l.p50), FormatMillis(l.p90),
                     FormatMillis(l.p99), FormatMillis(l.max));
}

std::string SignalToExitText(const RunView& run) {
  const FaultRecord* first = run.FirstDeliveredFault();
  const std::string status = run.exit_status.empty() ? "exit" : run.exit_status;
  if (!first) {
    if (run.exited == kNever) return "no fault delivered; the target was still running";
    return fmt::format("no fault delivered; {} at {}", status, run.Moment(run.exited));
  }
  std::string text = fmt::format("{} delivered at t={} (lag {})", first->name,
                                 FormatMillis(first->delivered), FormatMillis(first->lag()));
  if (run.exited == kNever) return text + "; no exit (killed by gracecheck)";
  return text + fmt::format("; {} after {}", status, FormatMillis(run.summary.fault_to_exit));
}

std::string ThreadsText(const RunView& run) {
  const ThreadFigures& t = run.summary.threads;
  std::string text = fmt::format("before load {}, peak {}, at signal {}, last before exit {}",
                                 Count(t.before_load), Count(t.peak), Count(t.at_fault),
                                 Count(t.last_before_exit));
  if (t.idle_after_load != Timeline::kUnknown) {
    text += fmt::format(", idle after load {}", t.idle_after_load);
  }
  return text;
}

std::string DbSessionsText(const RunView& run) {
  const DbFigures& db = run.summary.db;
  std::string text = fmt::format("before load {}, peak {}, at signal {}, last before exit {}",
                                 SessionsText(db.before_load, db.known_before_load),
                                 PeakSessionsText(db), SessionsText(db.at_fault, db.known_at_fault),
                                 SessionsText(db.last_before_exit, db.known_last_before_exit));
  if (run.exited != kNever && run.db_sessions_gone != kNever) {
    text += fmt::format("; all gone {} after the exit",
                        FormatMillis(run.db_sessions_gone - run.exited));
  } else if (run.exited != kNever && !run.db_samples.empty()) {
    text += "; not all gone after the exit";
  }
  return text;
}

std::string PoolerText(const RunView& run) {
  if (run.pooler.empty()) return "";
  return fmt::format(
      "{}: the db sessions above are the target's connections to it; the server saw at most {} "
      "of the pooler's at once",
      run.pooler, run.pooler_server_sessions_at_once);
}

std::vector<Figure> KeyFigures(const RunView& run) {
  const Summary& s = run.summary;
  std::vector<Figure> figures;
  if (!run.start_error.empty()) return figures;  // nothing ran: nothing to show
  if (s.all.total == 0) {
    figures.push_back({"requests", "none"});
  } else {
    figures.push_back({"requests", fmt::format("before the signal: {}; after: {}; {:.1f}/s",
                                               OutcomesText(s.before), OutcomesText(s.after),
                                               s.requests_per_second)});
    figures.push_back(
        {"latency (ok)", fmt::format("before the signal: {}; after: {}",
                                     LatencyText(s.before.latency), LatencyText(s.after.latency))});
  }
  figures.push_back({"signal→exit", SignalToExitText(run)});
  // What the other faults did, when more than one signal was sent.
  if (run.faults.size() > 1 || (!run.faults.empty() && !run.faults[0].detail.empty())) {
    std::string text;
    for (const FaultRecord& f : run.faults) {
      if (!text.empty()) text += "; ";
      text += f.name + ": ";
      if (f.delivered != kNever) {
        text += fmt::format("at t={}", FormatMillis(f.delivered));
      } else {
        text += f.skipped ? "skipped" : (f.error.empty() ? "not delivered" : f.error);
      }
      if (!f.detail.empty()) text += " (" + f.detail + ")";
    }
    figures.push_back({"faults", text});
  }
  figures.push_back({"threads", ThreadsText(run)});
  figures.push_back({"db sessions", DbSessionsText(run)});
  if (!run.pooler.empty()) figures.push_back({"pooler", PoolerText(run)});
  return figures;
}

std::string RunTitle(const RunView& run) {
  return fmt::format("{} against {}", run.scenario, run.target);
}

std::string ChecksCell(const RunView& run) {
  const int n = static_cast<int>(run.checks.size());
  const int failed = run.FailedChecks();
  const int skipped = run.SkippedChecks();
  if (failed == 0) return StatusCounts(run.checks);
  std::string text = fmt::format("{} of {} failed", failed, n);
  if (skipped > 0) text += fmt::format(", {} skipped", skipped);
  return text;
}

namespace {

// "2 of 3 runs failed", whether or not the suite was interrupted.
std::string Tally(const ReportView& report) {
  const int runs = static_cast<int>(report.runs.size());
  const int errors = report.Count(RunVerdict::kError);
  const int failed = report.Count(RunVerdict::kFail);
  const char* noun = runs == 1 ? "run" : "runs";
  if (errors > 0) {
    const int not_started =
        static_cast<int>(std::count_if(report.runs.begin(), report.runs.end(),
                                       [](const RunView& r) { return !r.start_error.empty(); }));
    const int invalid = errors - not_started;
    std::vector<std::string> parts;
    if (invalid > 0) {
      parts.push_back(fmt::format("{} of {} {} invalid (harness error)", invalid, runs, noun));
    }
    if (not_started > 0) {
      parts.push_back(
          fmt::format("{} of {} {} whose target did not start", not_started, runs, noun));
    }
    if (failed > 0) parts.push_back(fmt::format("{} failed", failed));
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  if (failed > 0) return fmt::format("{} of {} {} failed", failed, runs, noun);
  return fmt::format("{} {} passed", runs, noun);
}

}  // namespace

std::string RunsVerdictText(const ReportView& report) {
  return report.interrupted ? fmt::format("interrupted; {} before it", Tally(report))
                            : Tally(report);
}

std::string ExitText(const RunView& run) {
  if (run.exited == kNever) return "no exit (killed by gracecheck)";
  if (run.summary.fault_to_exit == kNever) return run.exit_status;
  return fmt::format("{} after {}", run.exit_status, FormatMillis(run.summary.fault_to_exit));
}

std::string LatencyCell(const LatencySummary& l, const char* sep) {
  if (l.count == 0) return "–";
  return fmt::format("{1}{0}{2}{0}{3}{0}{4}", sep, FormatMillis(l.p50), FormatMillis(l.p90),
                     FormatMillis(l.p99), FormatMillis(l.max));
}

}  // namespace gracecheck
