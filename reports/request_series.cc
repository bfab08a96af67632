#include "request_series.h"

#include <algorithm>
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
  Nanos first = kNever;
  Nanos last = kNever;
  // (time, +1 for a start / -1 for an end)
  std::vector<std::pair<Nanos, int>> events;
  for (const RequestRecord& r : tl.requests) {
    if (r.intended == kNever) continue;
    first = first == kNever ? r.intended : std::min(first, r.intended);
    last = std::max(last, std::max(r.intended, r.done));
    events.emplace_back(r.intended, +1);
    if (r.done != kNever) events.emplace_back(r.done, -1);
  }
  if (first == kNever) return series;

  const Nanos anchor = tl.first_fault != kNever ? tl.first_fault : 0;
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
  for (const RequestRecord& r : tl.requests) {
    if (r.intended == kNever) continue;
    const auto o = static_cast<std::size_t>(r.outcome);
    ++series.buckets[index(r.intended)].started[o];
    if (r.done != kNever) ++series.buckets[index(r.done)].finished[o];
  }

  // Sweep: at equal times an end goes first, so that a connection handing
  // one request over to the next does not count as two in flight.
  std::sort(events.begin(), events.end());
  int in_flight = 0;
  std::size_t e = 0;
  for (RequestBucket& b : series.buckets) {
    const Nanos end = b.t + series.bucket;
    int highest = in_flight;
    for (; e < events.size() && events[e].first < end; ++e) {
      in_flight += events[e].second;
      highest = std::max(highest, in_flight);
    }
    b.in_flight_max = highest;
  }
  return series;
}

}  // namespace gracecheck
