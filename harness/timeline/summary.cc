#include "summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>

#include "signal_names.h"
#include "subprocess.h"

namespace gracecheck {

namespace {

void Add(const RequestRecord& r, PhaseSummary* phase) {
  ++phase->total;
  ++phase->outcomes[static_cast<int>(r.outcome)];
  if (r.dropped()) ++phase->dropped;
}

bool HasOkLatency(const RequestRecord& r) {
  return r.outcome == Outcome::kOk && r.latency() != kNever && r.intended != kNever;
}

// Nearest-rank percentiles of the latency of the ok requests `pick` keeps,
// sorted by index (4 bytes a request in *idx, reused between phases) rather
// than by copying latencies: with millions of records, this is what keeps
// the peak memory at the records themselves plus 4 bytes each.
template <class Pick>
LatencySummary OkLatencies(const std::vector<RequestRecord>& requests,
                           std::vector<std::uint32_t>* idx, Pick pick) {
  idx->clear();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (HasOkLatency(requests[i]) && pick(requests[i])) {
      idx->push_back(static_cast<std::uint32_t>(i));
    }
  }
  LatencySummary l;
  if (idx->empty()) return l;
  auto less = [&](std::uint32_t a, std::uint32_t b) {
    return requests[a].latency() < requests[b].latency();
  };
  const std::size_t n = idx->size();
  auto rank = [&](double p) {
    // Nearest rank: the smallest value with at least p of the values at or below it.
    const auto k = std::clamp<std::size_t>(
                       static_cast<std::size_t>(std::ceil(p * static_cast<double>(n))), 1, n) -
                   1;
    std::nth_element(idx->begin(), idx->begin() + static_cast<std::ptrdiff_t>(k), idx->end(), less);
    return requests[(*idx)[k]].latency();
  };
  l.count = static_cast<int>(n);
  l.p50 = rank(0.50);
  l.p90 = rank(0.90);
  l.p99 = rank(0.99);
  l.max = requests[*std::max_element(idx->begin(), idx->end(), less)].latency();
  return l;
}

ThreadFigures Threads(const Timeline& tl) {
  ThreadFigures f;
  f.before_load = tl.threads_before_load;
  f.idle_after_load = tl.threads_idle_after_load;
  for (const ProcSample& s : tl.proc_samples) {
    // A sample of a process that is gone (or a zombie) shows no thread.
    if (s.threads <= 0) continue;
    f.peak = std::max(f.peak, s.threads);
    if (tl.first_signal != kNever && s.t <= tl.first_signal) f.at_fault = s.threads;
    if (tl.exited == kNever || s.t < tl.exited) f.last_before_exit = s.threads;
  }
  return f;
}

DbFigures Db(const Timeline& tl) {
  DbFigures f;
  for (const DbSample& s : tl.db_samples) {
    if (tl.load_start != kNever && s.t < tl.load_start) {
      f.before_load = s;
      f.known_before_load = true;
    }
    if (tl.first_signal != kNever && s.t <= tl.first_signal) {
      f.at_fault = s;
      f.known_at_fault = true;
    }
    if (tl.exited == kNever || s.t <= tl.exited) {
      f.last_before_exit = s;
      f.known_last_before_exit = true;
    }
    if (!f.known_peak || s.total() > f.peak.total()) f.peak = s;
    DbSample& h = f.highest_by_state;
    h.active = std::max(h.active, s.active);
    h.idle = std::max(h.idle, s.idle);
    h.idle_in_transaction = std::max(h.idle_in_transaction, s.idle_in_transaction);
    h.other = std::max(h.other, s.other);
    f.known_peak = true;
  }
  return f;
}

}  // namespace

LatencySummary Percentiles(std::vector<Nanos>* latencies) {
  LatencySummary l;
  if (latencies->empty()) return l;
  std::sort(latencies->begin(), latencies->end());
  const std::size_t n = latencies->size();
  auto rank = [&](double p) {
    // Nearest rank: the smallest value with at least p of the values at or below it.
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
    return (*latencies)[std::clamp<std::size_t>(k, 1, n) - 1];
  };
  l.count = static_cast<int>(n);
  l.p50 = rank(0.50);
  l.p90 = rank(0.90);
  l.p99 = rank(0.99);
  l.max = latencies->back();
  return l;
}

Summary Summarize(const Timeline& tl) {
  Summary s;
  for (const RequestRecord& r : tl.requests) {
    Add(r, r.has(RequestRecord::kAfterSignal) ? &s.after : &s.before);
    Add(r, &s.all);
  }
  std::vector<std::uint32_t> idx;
  idx.reserve(static_cast<std::size_t>(s.all.outcomes[static_cast<int>(Outcome::kOk)]));
  s.before.latency = OkLatencies(tl.requests, &idx, [](const RequestRecord& r) {
    return !r.has(RequestRecord::kAfterSignal);
  });
  s.after.latency = OkLatencies(
      tl.requests, &idx, [](const RequestRecord& r) { return r.has(RequestRecord::kAfterSignal); });
  s.all.latency = OkLatencies(tl.requests, &idx, [](const RequestRecord&) { return true; });
  if (tl.load_start != kNever && tl.load_end != kNever && tl.load_end > tl.load_start) {
    s.load_duration = tl.load_end - tl.load_start;
    s.requests_per_second =
        static_cast<double>(tl.requests.size()) / (static_cast<double>(s.load_duration) / 1e9);
  }
  if (tl.first_signal != kNever && tl.exited != kNever)
    s.fault_to_exit = tl.exited - tl.first_signal;
  s.threads = Threads(tl);
  s.db = Db(tl);
  return s;
}

std::string FormatMillis(Nanos d) {
  if (d == kNever) return "-";
  const double ms = static_cast<double>(d) / 1e6;
  const double a = std::fabs(ms);
  if (a < 1) return fmt::format("{:.3f}ms", ms);
  if (a < 10) return fmt::format("{:.2f}ms", ms);
  if (a < 1000) return fmt::format("{:.1f}ms", ms);
  return fmt::format("{:.3f}s", ms / 1000);
}

std::string FormatMoment(Nanos t, const Timeline& tl) {
  if (t == kNever) return "never";
  if (tl.first_signal == kNever) return "t=" + FormatMillis(t);
  const Nanos d = t - tl.first_signal;
  return (d < 0 ? "-" : "+") + FormatMillis(std::llabs(d));
}

std::string FormatUnixMillis(std::int64_t unix_ms) {
  const std::int64_t ms = ((unix_ms % 1000) + 1000) % 1000;
  const std::time_t seconds = static_cast<std::time_t>((unix_ms - ms) / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
}

std::string FormatExitStatus(bool signaled, int code, int signal) {
  return signaled ? "signal " + SignalName(signal) : fmt::format("exit {}", code);
}

std::string SaturationNote(const Timeline& tl) {
  int before = 0;
  int queued = 0;
  Nanos longest = 0;
  for (const RequestRecord& r : tl.requests) {
    if (r.has(RequestRecord::kAfterSignal) || r.intended == kNever || r.written == kNever) continue;
    ++before;
    const Nanos wait =
        r.written - r.intended - OverlapWith(tl.generator_stalls, r.intended, r.written);
    if (wait >= kSaturatedWait) {
      ++queued;
      longest = std::max(longest, wait);
    }
  }
  if (queued < 5 || queued * 100 <= before) return "";
  return fmt::format(
      "the target was saturated before the signal: {} of {} requests waited {} or more between "
      "their intended start and their write (every connection busy: arrivals queue), the longest "
      "{}; the shutdown was judged under overload, and latency and drops reflect it",
      queued, before, FormatMillis(kSaturatedWait), FormatMillis(longest));
}

}  // namespace gracecheck
