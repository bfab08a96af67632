// The checks of the target's process: process.exit, process.orphans,
// process.signal_handled, threads.growth, threads.at_exit (checks.h).
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "checks.h"
#include "checks/evidence.h"
#include "signal_names.h"
#include "subprocess.h"
#include "summary.h"

namespace gracecheck {

namespace {

// "a", "a or b", "a, b or c".
std::string JoinOr(const std::vector<std::string>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += i + 1 == items.size() ? " or " : ", ";
    text += items[i];
  }
  return text;
}

// An exit code process.exit accepts; `signal` is N when the code is 128+N
// for a signal N that was sent (0 for a code the scenario listed).
struct AcceptedExit {
  int code = 0;
  int signal = 0;
};

// A signal a process can catch: after it, exiting 128+N is the convention
// for "I ended because of signal N". SIGKILL and SIGSTOP cannot be caught,
// and SIGCONT (a pause's end) asks nothing to stop.
bool AsksToStop(int signal) { return signal != SIGKILL && signal != SIGSTOP && signal != SIGCONT; }

std::vector<AcceptedExit> AcceptedExits(const Timeline& tl, const ExitExpectation& e) {
  std::vector<AcceptedExit> accepted;
  for (int code : e.codes) accepted.push_back({code, 0});
  if (e.graceful) {
    for (const ProcessEvent& ev : tl.process_events) {
      if (ev.kind != ProcessEvent::Kind::kSignalSent || !AsksToStop(ev.value)) continue;
      const int code = 128 + ev.value;
      if (code > 255) continue;
      auto it = std::find_if(accepted.begin(), accepted.end(),
                             [code](const AcceptedExit& a) { return a.code == code; });
      if (it == accepted.end()) {
        accepted.push_back({code, ev.value});
      } else if (it->signal == 0) {
        it->signal = ev.value;
      }
    }
  }
  std::sort(accepted.begin(), accepted.end(),
            [](const AcceptedExit& a, const AcceptedExit& b) { return a.code < b.code; });
  return accepted;
}

// "exit 0 or 143 (128+SIGTERM)", "exit 0, 1 or 2", "signal SIGKILL".
std::string ExpectedExit(const Timeline& tl, const ExitExpectation& e) {
  if (e.signaled) return FormatExitStatus(true, 0, e.signal);
  std::vector<std::string> items;
  bool from_signal = false;
  for (const AcceptedExit& a : AcceptedExits(tl, e)) {
    from_signal = from_signal || a.signal != 0;
    items.push_back(a.signal != 0 ? fmt::format("{} (128+{})", a.code, SignalName(a.signal))
                                  : std::to_string(a.code));
  }
  std::string text = "exit " + JoinOr(items);
  if (e.graceful && !from_signal) text += " (or 128+N after a signal N; none was sent)";
  return text;
}

// The accepted exit `tl` ended with; nullopt if it did not end in one.
std::optional<AcceptedExit> MatchingExit(const Timeline& tl, const ExitExpectation& e) {
  if (e.signaled) {
    if (tl.exit_signaled && tl.exit_signal == e.signal) return AcceptedExit{};
    return std::nullopt;
  }
  if (tl.exit_signaled) return std::nullopt;  // killed: it never handled the signal
  for (const AcceptedExit& a : AcceptedExits(tl, e)) {
    if (a.code == tl.exit_code) return a;
  }
  return std::nullopt;
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

}  // namespace

CheckResult CheckProcessExit(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  const Duration within = e.exit.within;
  c.expected = fmt::format("{} within {}", ExpectedExit(tl, e.exit), FormatDuration(within));
  const std::optional<AcceptedExit> match = MatchingExit(tl, e.exit);
  std::string status = FormatExitStatus(tl.exit_signaled, tl.exit_code, tl.exit_signal);
  if (match && match->signal != 0) status += fmt::format(" (128+{})", SignalName(match->signal));
  if (tl.first_signal == kNever) {
    if (tl.exited == kNever) {
      c.status = CheckStatus::kFailed;
      c.observed = "still running (no fault was delivered)";
    } else if (!tl.faults.empty()) {
      // Faults were scripted and none went out: the target ended on its own,
      // mid-run, which no graceful server does.
      c.status = CheckStatus::kFailed;
      c.observed = fmt::format("{} at {}, on its own: before its first fault ({}) was delivered",
                               status, FormatMoment(tl.exited, tl), tl.faults.front().name);
    } else {
      c.Judge(match.has_value());
      c.observed =
          fmt::format("{} at {} (no fault was scripted)", status, FormatMoment(tl.exited, tl));
    }
  } else if (tl.exited == kNever) {
    c.status = CheckStatus::kFailed;
    c.observed = fmt::format("no exit within {} (killed by gracecheck)", FormatDuration(within));
  } else {
    const Nanos took = tl.exited - tl.first_signal;
    c.Judge(match.has_value() && took <= within.count());
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

CheckResult CheckProcessSignalHandled(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  c.expected = "the first signal to the target caught by a handler, or blocked for sigwait";
  // (Judged on the main thread's masks: a signal blocked there but not in
  // another thread goes to that one, at its default action; process.exit
  // then sees the process die.)
  // The first signal gracecheck delivered that a process can take (not
  // SIGKILL, SIGSTOP, SIGCONT), as the fault records have it.
  const FaultRecord* first = nullptr;
  for (const FaultRecord& f : tl.faults) {
    if (f.signal != 0 && AsksToStop(f.signal) && f.delivered != kNever &&
        (!first || f.delivered < first->delivered)) {
      first = &f;
    }
  }
  if (!first) {
    c.Skip("no signal a process can take was delivered");
    return c;
  }
  const int sig = first->signal;
  const std::string name = SignalName(sig);
  if (e.exit.signaled && e.exit.signal == sig) {
    c.Skip(fmt::format("the scenario expects the target killed by {}", name));
    return c;
  }
  if (first->to_group) {
    // A wrapper (sh -c) may leave it at its default and its child take it:
    // only the target's own process is read.
    c.Skip(
        fmt::format("{} went to the process group, whose members other than the target are "
                    "not read",
                    name));
    return c;
  }
  const ProcSample* before = nullptr;
  for (const ProcSample& s : tl.proc_samples) {
    if (s.signals_read && s.t < first->delivered) before = &s;
  }
  if (!before) {
    c.Skip(fmt::format("no /proc sample of the target's signal masks before {}", name));
    return c;
  }
  const std::uint64_t bit = std::uint64_t{1} << (sig - 1);
  const std::string when = fmt::format("(the /proc sample {} before it went out)",
                                       FormatMillis(first->delivered - before->t));
  if ((before->sig_caught & bit) != 0) {
    c.Judge(true);
    c.observed = fmt::format("{} caught by a handler {}", name, when);
  } else if ((before->sig_blocked & bit) != 0) {
    c.Judge(true);
    c.observed = fmt::format("{} blocked, for sigwait or signalfd {}", name, when);
  } else if ((before->sig_waited & bit) != 0) {
    c.Judge(true);
    c.observed = fmt::format("{} waited for in sigwait (its main thread was in it) {}", name, when);
  } else if ((before->sig_ignored & bit) != 0) {
    c.Judge(false);
    c.observed = fmt::format("{} ignored: the process does not stop for it {}", name, when);
  } else {
    c.Judge(false);
    c.observed = fmt::format("{} at its default action {}", name, when);
    c.evidence.push_back(fmt::format(
        "no handler for {}: the process dies the moment it arrives, with its requests in flight; "
        "as PID 1 of a container it would ignore it until the SIGKILL",
        name));
  }
  return c;
}

namespace {

// "pid 4242 (python3 prefork.py)", from the tree.
std::string NameProcess(const Timeline& tl, int pid) {
  for (const TreeProcess& p : tl.processes) {
    if (p.pid == pid) return fmt::format("pid {} ({})", pid, p.command);
  }
  return fmt::format("pid {}", pid);
}

}  // namespace

CheckResult CheckProcessOrphans(const Timeline& tl, const Expectations&) {
  CheckResult c;
  c.Judge(tl.orphans.empty());
  c.expected = fmt::format("none left {} after the target exited",
                           FormatDuration(ToDuration(kOrphanSettle)));
  if (c.passed()) {
    c.observed = "none";
  } else {
    c.observed = fmt::format("{} left: pid {}",
                             Plural(static_cast<int>(tl.orphans.size()), "process", "processes"),
                             fmt::join(tl.orphans, ", "));
  }
  std::vector<std::string> lines;
  for (int pid : tl.orphans) {
    std::string line = fmt::format("{} outlived the target", NameProcess(tl, pid));
    Nanos born = kNever;
    for (const TreeProcess& p : tl.processes) {
      if (p.pid == pid) born = p.first_seen;
    }
    for (const ProcessEvent& ev : tl.process_events) {
      if (ev.kind == ProcessEvent::Kind::kOrphanKilled && ev.value == pid) {
        if (tl.exited != kNever) {
          line += fmt::format(" by {}", FormatMillis(ev.t - tl.exited));
        }
        line += fmt::format("; SIGKILLed by gracecheck at {}", FormatMoment(ev.t, tl));
        if (born != kNever)
          line += fmt::format(", {} after it was first seen", FormatMillis(ev.t - born));
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
  const int growth = e.threads && e.threads->growth ? *e.threads->growth : 0;
  c.expected = fmt::format("<= {:+d} idle threads after the load", growth);
  if (tl.threads_before_load == Timeline::kUnknown) {
    c.Skip("no sample before the load");
    return c;
  }
  if (tl.threads_idle_after_load == Timeline::kUnknown) {
    c.Skip(tl.load_start == kNever ? "there was no load" : "the fault came during the load");
    return c;
  }
  const int d = tl.threads_idle_after_load - tl.threads_before_load;
  // Each process alive from the load's start to the end of the idle
  // stretch: a worker that leaks is named, also when another's fall hides
  // it in the sum.
  const Nanos until = tl.first_signal == kNever ? tl.exited : tl.first_signal;
  struct Grown {
    const TreeProcess* p;
    int before;
    int after;
  };
  std::vector<Grown> grown;
  for (const TreeProcess& p : tl.processes) {
    const int before = p.ThreadsAt(tl.load_start);
    const int after = p.LowestThreads(tl.load_end, until);
    if (before >= 0 && after >= 0 && after - before > growth) grown.push_back({&p, before, after});
  }
  std::sort(grown.begin(), grown.end(),
            [](const Grown& a, const Grown& b) { return a.after - a.before > b.after - b.before; });
  c.Judge(d <= growth && grown.empty());
  const bool tree = tl.processes.size() > 1;
  c.observed = fmt::format("{:+d} ({} before the load, {} idle after it{})", d,
                           tl.threads_before_load, tl.threads_idle_after_load,
                           tree ? fmt::format(", over {} processes", tl.processes.size()) : "");
  if (!grown.empty() && d <= growth) {
    c.observed += fmt::format("; {} grew by {:+d}", NameProcess(tl, grown.front().p->pid),
                              grown.front().after - grown.front().before);
  }
  std::vector<std::string> lines;
  for (const Grown& g : grown) {
    lines.push_back(
        fmt::format("{}: {} threads at the load's start, {} at the lowest after it "
                    "({:+d})",
                    NameProcess(tl, g.p->pid), g.before, g.after, g.after - g.before));
  }
  // A process born after the baseline (a worker still starting, a process
  // per request that stayed) adds all its threads to the total: said, since
  // the per-process view cannot judge it.
  for (const TreeProcess& p : tl.processes) {
    if (p.first_seen == kNever || p.first_seen <= tl.load_start) continue;
    const int after = p.LowestThreads(std::max(p.first_seen, tl.load_end), until);
    if (after <= 0) continue;
    lines.push_back(
        fmt::format("{} appeared at {}, after the load began: its {} counted in the "
                    "total",
                    NameProcess(tl, p.pid), FormatMoment(p.first_seen, tl),
                    Plural(after, "thread", "threads")));
  }
  lines.push_back(fmt::format("{} threads in the last sample before the load ({}){}",
                              tl.threads_before_load, FormatMoment(tl.load_start, tl),
                              tree ? ", the target and its descendants" : ""));
  lines.push_back(fmt::format("{} threads at the lowest between the end of the load ({}) and {}",
                              tl.threads_idle_after_load, FormatMoment(tl.load_end, tl),
                              tl.first_signal != kNever ? "the first fault" : "the exit"));
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

CheckResult CheckThreadsAtExit(const Timeline& tl, const Expectations& e) {
  CheckResult c;
  const int limit = e.threads && e.threads->at_exit ? *e.threads->at_exit : 0;
  c.expected = fmt::format("<= {} threads before the exit", limit);
  const ProcSample* last = LastProcSampleBeforeExit(tl);
  if (!last) {
    c.Skip("no /proc sample of the target");
    return c;
  }
  c.Judge(last->threads <= limit);
  const bool tree = tl.processes.size() > 1 && last->threads != last->target_threads;
  const std::string where =
      tree ? fmt::format(" ({} of the target's own)", last->target_threads) : "";
  if (tl.exited != kNever) {
    c.observed = fmt::format("{} threads{} {} before the exit", last->threads, where,
                             FormatMillis(tl.exited - last->t));
  } else {
    c.observed = fmt::format("{} threads{} at {} (the target did not exit)", last->threads, where,
                             FormatMoment(last->t, tl));
  }
  std::vector<std::string> lines;
  for (const TreeProcess& p : tl.processes) {
    if (p.pid == tl.target_pid) continue;
    const int n = p.ThreadsAt(last->t);
    if (n > 0) lines.push_back(fmt::format("{}: {} threads", NameProcess(tl, p.pid), n));
  }
  for (const auto& [name, n] : tl.thread_names_at_exit) {
    lines.push_back(fmt::format("{} × thread '{}'", n, name));
  }
  AddEvidence(&c.evidence, std::move(lines));
  return c;
}

}  // namespace gracecheck
