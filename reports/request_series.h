// Requests per time bucket, for charts: how many requests started and how
// many finished in each bucket (by outcome), and the most that were in flight
// at once. The JSON report carries these series (series.requests_*), so that
// a chart can be drawn from the report alone, without the request records.
//
// Buckets are aligned on the first fault's delivery (or on the run's epoch
// when no fault was delivered), so that "before" and "after the signal" never
// share a bucket. A request starts at its intended start (RequestRecord::
// latency() counts from there too) and finishes when its outcome is known; it
// is in flight in between. A request with no outcome time stays in flight.
//
// Threading: pure functions of a read-only Timeline; call from any thread.
#pragma once

#include <array>
#include <vector>

#include "timeline.h"

namespace gracecheck {

struct RequestBucket {
  Nanos t = 0;                                // start of the bucket, since the run's epoch
  std::array<int, kOutcomeCount> started{};   // indexed by Outcome
  std::array<int, kOutcomeCount> finished{};  // indexed by Outcome
  int in_flight_max = 0;                      // most requests in flight at any moment of it
};

struct RequestSeries {
  Nanos bucket = 0;                    // width of every bucket; 0 when there is no request
  std::vector<RequestBucket> buckets;  // contiguous and ascending, from the first start
                                       // to the last outcome
};

// At most this many buckets per run (a chart ~1200 px wide keeps >= 9 px each).
constexpr int kMaxRequestBuckets = 120;

RequestSeries BucketRequests(const Timeline& tl);

// The narrowest of 1, 2, 5, 10, 20, 25, 50, 100 ... ms with which `span`
// touches at most kMaxRequestBuckets buckets, however they are aligned.
Nanos ChooseBucketWidth(Nanos span);

}  // namespace gracecheck
