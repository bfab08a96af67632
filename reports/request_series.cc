#include "request_series.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace gracecheck {

namespace {

constexpr Nanos kMs = 1'000'000;

// floor(a / b) for b > 0, also for negative a.
Nanos FloorDiv(Nanos a, Nanos b) { return a / b - ((a % b != 0) && (a < 0) ? 1 : 0); }

}  // namespace

Nanos ChooseBucketWidth(Nanos span) {
  static constexpr Nanos kSteps[] = {1, 2, 5, 10, 20, 25, 50};
  for (Nanos decade = kMs;; decade *= 10) {
    for (Nanos step : kSteps) {
      const Nanos width = step * decade;
      // Unaligned, [first, last] touches at most span / width + 2 buckets.
      if (span / width + 2 <= kMaxRequestBuckets) return width;
    }
  }
}

RequestSeries BucketRequests(const Timeline& tl) {
  RequestSeries series;
  const std::vector<RequestRecord>& requests = tl.requests;
  Nanos first = kNever;
  Nanos last = kNever;
  for (const RequestRecord& r : requests) {
    if (r.intended == kNever) continue;
    first = first == kNever ? r.intended : std::min(first, r.intended);
    last = std::max(last, std::max(r.intended, r.done));
  }
  if (first == kNever) return series;

  const Nanos anchor = tl.first_signal != kNever ? tl.first_signal : 0;
  series.bucket = ChooseBucketWidth(last - first);
  const Nanos k0 = FloorDiv(first - anchor, series.bucket);
  const Nanos k1 = FloorDiv(last - anchor, series.bucket);
  series.buckets.resize(static_cast<std::size_t>(k1 - k0 + 1));
  for (std::size_t i = 0; i < series.buckets.size(); ++i) {
    series.buckets[i].t = anchor + (k0 + static_cast<Nanos>(i)) * series.bucket;
  }
  auto index = [&](Nanos t) {
    return static_cast<std::size_t>(FloorDiv(t - anchor, series.bucket) - k0);
  };
  for (const RequestRecord& r : requests) {
    if (r.intended == kNever) continue;
    const auto o = static_cast<std::size_t>(r.outcome);
    ++series.buckets[index(r.intended)].started[o];
    if (r.done != kNever) ++series.buckets[index(r.done)].finished[o];
  }

  // Sweep over starts and ends in time order; at equal times an end goes
  // first, so that a connection handing one request over to the next does
  // not count as two in flight. Ends are record indices sorted by time (4
  // bytes a request, not a 16-byte event per start and end: with millions
  // of records this was the peak of a run's memory).
  // Records come in the order they were started, so the starts are the
  // records themselves in order; only when they are not (a Timeline built
  // otherwise) is there an index for them too.
  bool in_order = true;
  Nanos previous = kNever;
  for (const RequestRecord& r : requests) {
    if (r.intended == kNever) continue;
    in_order = in_order && (previous == kNever || previous <= r.intended);
    previous = r.intended;
  }
  std::vector<std::uint32_t> starts;
  if (!in_order) {
    starts.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (requests[i].intended != kNever) starts.push_back(static_cast<std::uint32_t>(i));
    }
    std::stable_sort(starts.begin(), starts.end(), [&](std::uint32_t a, std::uint32_t b) {
      return requests[a].intended < requests[b].intended;
    });
  }
  std::vector<std::uint32_t> ends;
  ends.reserve(static_cast<std::size_t>(std::count_if(
      requests.begin(), requests.end(),
      [](const RequestRecord& r) { return r.intended != kNever && r.done != kNever; })));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].intended != kNever && requests[i].done != kNever) {
      ends.push_back(static_cast<std::uint32_t>(i));
    }
  }
  std::sort(ends.begin(), ends.end(),
            [&](std::uint32_t a, std::uint32_t b) { return requests[a].done < requests[b].done; });
  // The next start: by index when sorted above, else the next record with
  // an intended start.
  std::size_t s = 0;
  auto next_start = [&]() -> Nanos {
    if (!in_order) return s < starts.size() ? requests[starts[s]].intended : kNever;
    while (s < requests.size() && requests[s].intended == kNever) ++s;
    return s < requests.size() ? requests[s].intended : kNever;
  };
  int in_flight = 0;
  std::size_t e = 0;
  for (RequestBucket& b : series.buckets) {
    const Nanos end = b.t + series.bucket;
    int highest = in_flight;
    for (;;) {
      const Nanos ts = next_start();
      const Nanos te = e < ends.size() ? requests[ends[e]].done : kNever;
      const bool start_next = ts != kNever && ts < end && (te == kNever || ts < te);
      const bool end_next = te != kNever && te < end && (ts == kNever || te <= ts);
      if (end_next) {
        --in_flight;
        ++e;
      } else if (start_next) {
        ++in_flight;
        ++s;
      } else {
        break;
      }
      highest = std::max(highest, in_flight);
    }
    b.in_flight_max = highest;
  }
  return series;
}

}  // namespace gracecheck
