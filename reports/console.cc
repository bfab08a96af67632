#include "console.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "summary.h"

namespace gracecheck {

namespace {

// ANSI styles; empty strings when color is off.
struct Style {
  explicit Style(bool color)
      : green(color ? "\033[32m" : ""),
        red(color ? "\033[31m" : ""),
        bold(color ? "\033[1m" : ""),
        dim(color ? "\033[2m" : ""),
        reset(color ? "\033[0m" : "") {}
  const char* green;
  const char* red;
  const char* bold;
  const char* dim;
  const char* reset;
};

// "101 (25 ok, 75 refused, 1 idle_closed)"; "none".
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

std::string SignalToExitText(const Timeline& tl, const Summary& s) {
  const FaultRecord* first = nullptr;
  for (const FaultRecord& f : tl.faults) {
    if (f.delivered != kNever) {
      first = &f;
      break;
    }
  }
  const std::string status = FormatExitStatus(tl.exit_signaled, tl.exit_code, tl.exit_signal);
  if (!first) {
    if (tl.exited == kNever) return "no fault delivered; the target was still running";
    return fmt::format("no fault delivered; {} at {}", status, FormatMoment(tl.exited, tl));
  }
  std::string text = fmt::format("{} delivered at t={} (lag {})", first->name,
                                 FormatMillis(first->delivered), FormatMillis(first->lag()));
  if (tl.exited == kNever) return text + "; no exit (killed by gracecheck)";
  return text + fmt::format("; {} after {}", status, FormatMillis(s.fault_to_exit));
}

}  // namespace

std::string ConsoleReport(const Timeline& tl, const std::vector<CheckResult>& checks, bool color) {
  const Style st(color);
  const Summary s = Summarize(tl);
  std::string out;
  auto it = std::back_inserter(out);

  fmt::format_to(it, "{}{}{} against {}{}{} (seed {}, started {}, pid {})\n", st.bold, tl.scenario,
                 st.reset, st.bold, tl.target_name, st.reset, tl.seed,
                 FormatUnixMillis(tl.epoch_unix_ms), tl.target_pid);

  std::size_t width = 0;
  for (const CheckResult& c : checks) width = std::max(width, c.name.size());
  int failed = 0;
  std::string failed_names;
  for (const CheckResult& c : checks) {
    fmt::format_to(it, "  {}{}{} {:<{}}  {}  {}(expected {}){}\n", c.passed ? st.green : st.red,
                   c.passed ? "✓" : "✗", st.reset, c.name, width, c.observed, st.dim, c.expected,
                   st.reset);
    if (c.passed) continue;
    ++failed;
    failed_names += (failed_names.empty() ? "" : ", ") + c.name;
    for (const std::string& line : c.evidence) fmt::format_to(it, "      {}\n", line);
  }

  auto label = [&](const char* name) { fmt::format_to(it, "  {:<13} ", name); };
  if (tl.requests.empty()) {
    label("requests");
    fmt::format_to(it, "none\n");
  } else {
    label("requests");
    fmt::format_to(it, "before the signal: {}; after: {}; {:.1f}/s\n", OutcomesText(s.before),
                   OutcomesText(s.after), s.requests_per_second);
    label("latency (ok)");
    fmt::format_to(it, "before the signal: {}; after: {}\n", LatencyText(s.before.latency),
                   LatencyText(s.after.latency));
  }
  label("signal→exit");
  fmt::format_to(it, "{}\n", SignalToExitText(tl, s));
  label("threads");
  fmt::format_to(it, "before load {}, peak {}, at signal {}, last before exit {}",
                 Count(s.threads.before_load), Count(s.threads.peak), Count(s.threads.at_fault),
                 Count(s.threads.last_before_exit));
  if (s.threads.idle_after_load != Timeline::kUnknown) {
    fmt::format_to(it, ", idle after load {}", s.threads.idle_after_load);
  }
  fmt::format_to(it, "\n");
  label("db sessions");
  fmt::format_to(it, "before load {}, peak {}, at signal {}, last before exit {}",
                 SessionsText(s.db.before_load, s.db.known_before_load), PeakSessionsText(s.db),
                 SessionsText(s.db.at_fault, s.db.known_at_fault),
                 SessionsText(s.db.last_before_exit, s.db.known_last_before_exit));
  if (tl.exited != kNever && tl.db_sessions_gone != kNever) {
    fmt::format_to(it, "; all gone {} after the exit",
                   FormatMillis(tl.db_sessions_gone - tl.exited));
  } else if (tl.exited != kNever && !tl.db_samples.empty()) {
    fmt::format_to(it, "; not all gone after the exit");
  }
  fmt::format_to(it, "\n");

  const int n = static_cast<int>(checks.size());
  if (failed == 0) {
    fmt::format_to(it, "{}{}PASS{}: {} {} passed\n", st.bold, st.green, st.reset, n,
                   n == 1 ? "check" : "checks");
  } else {
    fmt::format_to(it, "{}{}FAIL{}: {} of {} {} failed ({})\n", st.bold, st.red, st.reset, failed,
                   n, n == 1 ? "check" : "checks", failed_names);
  }
  return out;
}

void PrintConsoleReport(FILE* out, const Timeline& tl, const std::vector<CheckResult>& checks,
                        bool color) {
  const std::string text = ConsoleReport(tl, checks, color);
  std::fwrite(text.data(), 1, text.size(), out);
}

}  // namespace gracecheck
