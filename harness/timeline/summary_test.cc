// Summarize() and the time formats on small synthetic timelines.
#include "summary.h"

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

constexpr Nanos kMs = 1'000'000;

RequestRecord Ok(Nanos intended, Nanos latency, bool after_fault) {
  RequestRecord r;
  r.intended = intended;
  r.written = intended;
  r.done = intended + latency;
  r.status = 200;
  if (after_fault) r.flags |= RequestRecord::kAfterSignal;
  return r;
}

TEST(PercentilesTest, NearestRank) {
  std::vector<Nanos> v;
  for (Nanos i = 100; i >= 1; --i) v.push_back(i);
  const LatencySummary l = Percentiles(&v);
  EXPECT_EQ(l.count, 100);
  EXPECT_EQ(l.p50, 50) << "p50 of 1..100";
  EXPECT_EQ(l.p90, 90) << "p90 of 1..100";
  EXPECT_EQ(l.p99, 99) << "p99 of 1..100";
  EXPECT_EQ(l.max, 100) << "max of 1..100";
}

TEST(PercentilesTest, EmptyIsNever) {
  std::vector<Nanos> v;
  const LatencySummary l = Percentiles(&v);
  EXPECT_EQ(l.count, 0);
  EXPECT_EQ(l.p50, kNever) << "p50 of nothing was " << l.p50;
  EXPECT_EQ(l.max, kNever) << "max of nothing was " << l.max;
}

TEST(PercentilesTest, SingleValue) {
  std::vector<Nanos> v = {7};
  const LatencySummary l = Percentiles(&v);
  EXPECT_EQ(l.p50, 7);
  EXPECT_EQ(l.p99, 7);
}

TEST(SummarizeTest, SplitsByFirstFaultAndMeasuresOkLatencyFromIntendedStart) {
  Timeline tl;
  tl.load_start = 0;
  tl.load_end = 2000 * kMs;
  tl.first_signal = 1000 * kMs;
  tl.exited = 1250 * kMs;
  tl.requests.push_back(Ok(0, 2 * kMs, false));
  tl.requests.push_back(Ok(10 * kMs, 4 * kMs, false));
  RequestRecord late_start = Ok(20 * kMs, 3 * kMs, false);
  late_start.written = 25 * kMs;  // a queued arrival: latency counts from intended
  late_start.done = 30 * kMs;
  tl.requests.push_back(late_start);
  tl.requests.push_back(Ok(1000 * kMs, 50 * kMs, true));
  RequestRecord eof = Ok(1010 * kMs, 1 * kMs, true);
  eof.outcome = Outcome::kEof;
  eof.status = 0;
  tl.requests.push_back(eof);
  RequestRecord refused = Ok(1300 * kMs, 1 * kMs, true);
  refused.outcome = Outcome::kRefused;
  refused.status = 0;
  tl.requests.push_back(refused);

  const Summary s = Summarize(tl);
  EXPECT_EQ(s.before.total, 3);
  EXPECT_EQ(s.before.count(Outcome::kOk), 3);
  EXPECT_EQ(s.before.dropped, 0);
  EXPECT_EQ(s.before.latency.count, 3);
  EXPECT_EQ(s.before.latency.p50, 4 * kMs) << "p50 before was " << s.before.latency.p50;
  EXPECT_EQ(s.before.latency.max, 10 * kMs) << "max before was " << s.before.latency.max;
  EXPECT_EQ(s.after.total, 3);
  EXPECT_EQ(s.after.count(Outcome::kOk), 1);
  EXPECT_EQ(s.after.count(Outcome::kEof), 1);
  EXPECT_EQ(s.after.count(Outcome::kRefused), 1);
  EXPECT_EQ(s.after.dropped, 1) << "eof is a drop, refused is not";
  EXPECT_EQ(s.after.latency.count, 1) << "only ok requests have a latency";
  EXPECT_EQ(s.all.total, 6);
  EXPECT_EQ(s.fault_to_exit, 250 * kMs) << "fault to exit was " << s.fault_to_exit;
  EXPECT_DOUBLE_EQ(s.requests_per_second, 3.0);
}

TEST(SummarizeTest, ThreadAndDbFigures) {
  Timeline tl;
  tl.load_start = 100 * kMs;
  tl.first_signal = 500 * kMs;
  tl.exited = 800 * kMs;
  tl.threads_before_load = 5;
  const int threads[] = {5, 20, 30, 25, 2, 0};
  const Nanos times[] = {50 * kMs, 200 * kMs, 400 * kMs, 500 * kMs, 700 * kMs, 800 * kMs};
  for (int i = 0; i < 6; ++i) {
    ProcSample p;
    p.t = times[i];
    p.threads = threads[i];
    tl.proc_samples.push_back(p);
    DbSample d;
    d.t = times[i];
    d.active = i == 2 ? 4 : i == 3 ? 1 : 0;
    d.idle = i == 3 ? 6 : i == 4 ? 2 : 0;
    tl.db_samples.push_back(d);
  }
  const Summary s = Summarize(tl);
  EXPECT_EQ(s.threads.before_load, 5);
  EXPECT_EQ(s.threads.peak, 30);
  EXPECT_EQ(s.threads.at_fault, 25);
  EXPECT_EQ(s.threads.last_before_exit, 2) << "the sample at the exit shows no thread";
  ASSERT_TRUE(s.db.known_peak);
  EXPECT_EQ(s.db.peak.total(), 7);
  EXPECT_EQ(s.db.peak.t, 500 * kMs);
  EXPECT_EQ(s.db.highest_by_state.active, 4);
  EXPECT_EQ(s.db.highest_by_state.idle, 6);
  ASSERT_TRUE(s.db.known_before_load);
  EXPECT_EQ(s.db.before_load.total(), 0);
  ASSERT_TRUE(s.db.known_at_fault);
  EXPECT_EQ(s.db.at_fault.t, 500 * kMs);
  ASSERT_TRUE(s.db.known_last_before_exit);
  EXPECT_EQ(s.db.last_before_exit.t, 800 * kMs);
}

TEST(SummarizeTest, EmptyTimeline) {
  const Summary s = Summarize(Timeline{});
  EXPECT_EQ(s.all.total, 0);
  EXPECT_EQ(s.fault_to_exit, kNever);
  EXPECT_EQ(s.requests_per_second, 0);
  EXPECT_EQ(s.threads.peak, Timeline::kUnknown);
  EXPECT_FALSE(s.db.known_peak);
}

TEST(FormatTest, Millis) {
  EXPECT_EQ(FormatMillis(kNever), "-");
  EXPECT_EQ(FormatMillis(0), "0.000ms");
  EXPECT_EQ(FormatMillis(50'000), "0.050ms");
  EXPECT_EQ(FormatMillis(2'345'678), "2.35ms");
  EXPECT_EQ(FormatMillis(12'340'000), "12.3ms");
  EXPECT_EQ(FormatMillis(1'234'500'000), "1.234s");
  EXPECT_EQ(FormatMillis(-12'340'000), "-12.3ms");
}

TEST(FormatTest, MomentIsRelativeToFirstFault) {
  Timeline tl;
  EXPECT_EQ(FormatMoment(1'500'000'000, tl), "t=1.500s");
  tl.first_signal = 1'000'000'000;
  EXPECT_EQ(FormatMoment(1'012'300'000, tl), "+12.3ms");
  EXPECT_EQ(FormatMoment(990'000'000, tl), "-10.0ms");
  EXPECT_EQ(FormatMoment(kNever, tl), "never");
}

TEST(FormatTest, UnixMillis) {
  EXPECT_EQ(FormatUnixMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUnixMillis(1714557600123), "2024-05-01T10:00:00.123Z");
}

TEST(FormatTest, ExitStatus) {
  EXPECT_EQ(FormatExitStatus(false, 0, 0), "exit 0");
  EXPECT_EQ(FormatExitStatus(true, 0, 9), "signal SIGKILL");
}

// A target saturated before the signal: arrivals that waited 100 ms or
// more for a connection, more than 1% of them and at least 5, are said;
// the generator's own stalls are no wait of the target's.
TEST(SaturationNoteTest, QueuedArrivalsBeforeTheSignalAreSaid) {
  Timeline tl;
  auto add = [&](Nanos intended, Nanos written, bool after) {
    RequestRecord r;
    r.intended = intended;
    r.written = written;
    if (after) r.flags = RequestRecord::kAfterSignal;
    tl.requests.push_back(r);
  };
  for (int i = 0; i < 100; ++i) add(i * 1'000'000, i * 1'000'000 + 500'000, false);
  EXPECT_EQ(SaturationNote(tl), "");
  for (int i = 0; i < 6; ++i) add(200'000'000, 200'000'000 + 150'000'000 + i, false);
  EXPECT_EQ(SaturationNote(tl).rfind("the target was saturated before the signal: 6 of 106 "
                                     "requests waited 100.0ms or more between their intended "
                                     "start and their write",
                                     0),
            0u)
      << SaturationNote(tl);
  // Waits after the signal are the shutdown's, not saturation.
  for (auto& r : tl.requests) r.flags = RequestRecord::kAfterSignal;
  EXPECT_EQ(SaturationNote(tl), "");
  for (auto& r : tl.requests) r.flags = 0;
  // The generator stalled over those writes: its own wait, not the target's.
  tl.generator_stalls = {{200'000'000, 360'000'000}};
  EXPECT_EQ(SaturationNote(tl), "");
}

}  // namespace
}  // namespace gracecheck
