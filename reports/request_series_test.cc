// Requests per bucket: alignment on the first fault, counts by outcome, the
// most in flight, and the bucket width.
#include "request_series.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gracecheck {
namespace {

constexpr Nanos kMs = 1'000'000;

RequestRecord Req(Nanos intended, Nanos done, Outcome outcome = Outcome::kOk) {
  RequestRecord r;
  r.intended = intended;
  r.done = done;
  r.outcome = outcome;
  return r;
}

std::string Describe(const RequestSeries& s) {
  std::string text = "bucket " + std::to_string(s.bucket) + ":";
  for (const RequestBucket& b : s.buckets) {
    int started = 0, finished = 0;
    for (int n : b.started) started += n;
    for (int n : b.finished) finished += n;
    text += " [t=" + std::to_string(b.t) + " s" + std::to_string(started) + " f" +
            std::to_string(finished) + " in" + std::to_string(b.in_flight_max) + "]";
  }
  return text;
}

TEST(RequestSeriesTest, BucketsAlignOnTheFirstFault) {
  Timeline tl;
  tl.first_signal = 503 * kMs;
  tl.requests = {Req(100 * kMs, 102 * kMs), Req(499 * kMs, 700 * kMs),
                 Req(504 * kMs, 505 * kMs, Outcome::kRefused)};
  const RequestSeries s = BucketRequests(tl);
  ASSERT_EQ(s.bucket, 10 * kMs) << Describe(s);  // span 600ms -> 10ms buckets
  for (const RequestBucket& b : s.buckets) {
    EXPECT_EQ((b.t - tl.first_signal) % s.bucket, 0) << "bucket at " << b.t << ": " << Describe(s);
  }
  // The request started 4ms before the fault and the one 1ms after it are
  // in neighbouring buckets, split at the fault.
  const auto at = [&](Nanos t) {
    for (const RequestBucket& b : s.buckets) {
      if (b.t <= t && t < b.t + s.bucket) return b;
    }
    ADD_FAILURE() << "no bucket holds " << t << ": " << Describe(s);
    return RequestBucket{};
  };
  EXPECT_EQ(at(499 * kMs).started[static_cast<int>(Outcome::kOk)], 1) << Describe(s);
  EXPECT_EQ(at(504 * kMs).started[static_cast<int>(Outcome::kRefused)], 1) << Describe(s);
  EXPECT_EQ(at(499 * kMs).t + s.bucket, tl.first_signal) << Describe(s);
  EXPECT_EQ(at(700 * kMs).finished[static_cast<int>(Outcome::kOk)], 1) << Describe(s);
  // Contiguous from the first start to the last outcome.
  EXPECT_LE(s.buckets.front().t, 100 * kMs);
  EXPECT_GT(s.buckets.back().t + s.bucket, 700 * kMs);
  for (std::size_t i = 1; i < s.buckets.size(); ++i) {
    ASSERT_EQ(s.buckets[i].t - s.buckets[i - 1].t, s.bucket) << Describe(s);
  }
}

TEST(RequestSeriesTest, InFlightIsTheMostAtOnce) {
  Timeline tl;
  // Three overlap in 10..20ms; then one hands over to the next at 50ms.
  tl.requests = {Req(10 * kMs, 30 * kMs), Req(12 * kMs, 25 * kMs), Req(14 * kMs, 20 * kMs),
                 Req(40 * kMs, 50 * kMs), Req(50 * kMs, 60 * kMs)};
  const RequestSeries s = BucketRequests(tl);
  ASSERT_EQ(s.bucket, 1 * kMs) << Describe(s);
  int highest = 0;
  for (const RequestBucket& b : s.buckets) {
    highest = std::max(highest, b.in_flight_max);
    if (b.t >= 40 * kMs) {
      EXPECT_EQ(b.in_flight_max, 1)
          << "a handover counts once, at t=" << b.t << ": " << Describe(s);
    }
  }
  EXPECT_EQ(highest, 3) << Describe(s);
}

// Records normally come in start order (the sweep then reads them in
// place); out of order, the series must be the same.
TEST(RequestSeriesTest, RecordsOutOfStartOrderGiveTheSameSeries) {
  Timeline tl;
  tl.requests = {Req(10 * kMs, 30 * kMs), Req(12 * kMs, 25 * kMs), Req(14 * kMs, 20 * kMs),
                 Req(40 * kMs, 50 * kMs), Req(50 * kMs, 60 * kMs), Req(55 * kMs, kNever)};
  const std::string in_order = Describe(BucketRequests(tl));
  std::reverse(tl.requests.begin(), tl.requests.end());
  std::swap(tl.requests[1], tl.requests[4]);
  EXPECT_EQ(Describe(BucketRequests(tl)), in_order);
}

TEST(RequestSeriesTest, UnfinishedRequestStaysInFlight) {
  Timeline tl;
  tl.requests = {Req(0, kNever, Outcome::kTimeout), Req(0, 100 * kMs), Req(300 * kMs, 301 * kMs)};
  const RequestSeries s = BucketRequests(tl);
  ASSERT_FALSE(s.buckets.empty());
  int finished = 0;
  for (const RequestBucket& b : s.buckets) {
    for (int n : b.finished) finished += n;
    if (b.t > 100 * kMs && b.t + s.bucket <= 300 * kMs) {
      EXPECT_EQ(b.in_flight_max, 1) << "at t=" << b.t << ": " << Describe(s);
    }
  }
  EXPECT_EQ(finished, 2) << Describe(s);
  EXPECT_EQ(s.buckets.back().in_flight_max, 2) << Describe(s);
}

TEST(RequestSeriesTest, NoRequestNoBucket) {
  const RequestSeries s = BucketRequests(Timeline{});
  EXPECT_EQ(s.bucket, 0);
  EXPECT_TRUE(s.buckets.empty());
}

TEST(RequestSeriesTest, BucketWidthKeepsTheCountBounded) {
  EXPECT_EQ(ChooseBucketWidth(0), 1 * kMs);
  EXPECT_EQ(ChooseBucketWidth(1000 * kMs), 10 * kMs);
  EXPECT_EQ(ChooseBucketWidth(4500 * kMs), 50 * kMs);
  EXPECT_EQ(ChooseBucketWidth(40'000 * kMs), 500 * kMs);
  for (Nanos span : {kMs, 7 * kMs, 999 * kMs, 12'345 * kMs, 3'600'000 * kMs}) {
    EXPECT_LE(span / ChooseBucketWidth(span) + 2, kMaxRequestBuckets) << span;
  }
}

}  // namespace
}  // namespace gracecheck
