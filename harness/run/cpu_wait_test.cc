#include "cpu_wait.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "load.h"

namespace gracecheck {
namespace {

constexpr Nanos kMs = 1'000'000;

// Samples every ms from 0 to `until` ms (each read in 0.1 ms); each thread's
// run delay as a function of the sample's time.
CpuWaits Sampled(int until, const std::map<int, std::function<Nanos(Nanos)>>& threads) {
  CpuWaits w;
  for (Nanos t = 0; t <= until * kMs; t += kMs) {
    std::vector<std::pair<std::int64_t, std::uint64_t>> values;
    for (const auto& [tid, delay] : threads) {
      const Nanos v = delay(t);
      if (v >= 0) values.emplace_back(tid, static_cast<std::uint64_t>(v));  // < 0: not yet born
    }
    w.AddSample(t, t + kMs / 10, values);
  }
  return w;
}

// A wait of `w` that ends at `end` (Linux adds it to run_delay then).
std::function<Nanos(Nanos)> Wait(Nanos w, Nanos end) {
  return [=](Nanos t) { return t >= end ? w : 0; };
}

TEST(CpuWaitsTest, AWaitIsCountedForWhatMustLieWithinTheStretch) {
  // 30 ms ending at 37.5 ms: seen by the sample read at 38 ms, so it ended
  // between 37 and 38.1; within [8, 38], at least 29 ms of it.
  const CpuWaits w = Sampled(45, {{7, Wait(30 * kMs, 37 * kMs + kMs / 2)}});
  EXPECT_EQ(w.samples(), 46u);
  EXPECT_EQ(w.SamplesWithin(8 * kMs, 38 * kMs), 30u);  // 8 .. 37 (38's read ends at 38.1)
  EXPECT_EQ(w.LongestWait(8 * kMs, 38 * kMs), 29 * kMs);
  // Seen only after the stretch, it still lay (partly) within it.
  EXPECT_EQ(w.LongestWait(8 * kMs, 30 * kMs), 22 * kMs - kMs / 10);
  // A stretch before the wait began, or after it ended: nothing.
  EXPECT_EQ(w.LongestWait(0, 6 * kMs), 0);
  EXPECT_EQ(w.LongestWait(39 * kMs, 45 * kMs), 0);
  EXPECT_EQ(CpuWaits{}.LongestWait(0, 100 * kMs), 0);
}

TEST(CpuWaitsTest, TheLongestOfOneThreadNotTheSumOfAll) {
  // Two threads waiting 15 ms each, one after the other: 15, not 30; a
  // thread whose waits add up counts them all; what a thread had waited
  // before its first sighting is not counted.
  const CpuWaits w = Sampled(45, {
                                     {1, Wait(15 * kMs, 20 * kMs + kMs / 2)},
                                     {2, Wait(15 * kMs, 35 * kMs + kMs / 2)},
                                     {3, [](Nanos t) { return t < 10 * kMs ? -1 : 50 * kMs; }},
                                 });
  EXPECT_EQ(w.LongestWait(0, 45 * kMs), 15 * kMs);
  const CpuWaits both =
      Sampled(45, {{1, [](Nanos t) {
                      return (t >= 20 * kMs ? 10 * kMs : 0) + (t >= 35 * kMs ? 10 * kMs : 0);
                    }}});
  EXPECT_EQ(both.LongestWait(0, 45 * kMs), 20 * kMs);
  // A key whose run delay falls (another thread): the fall is no wait, and
  // what it waits after counts from its own value. (CpuWaitProbe gives a
  // tid that comes back another key, so a new thread whose delay is already
  // larger is no rise either.)
  const CpuWaits reused = Sampled(
      45, {{1, [](Nanos t) { return t < 20 * kMs ? 40 * kMs : (t < 30 * kMs ? kMs : 3 * kMs); }}});
  EXPECT_EQ(reused.LongestWait(0, 45 * kMs), 2 * kMs);
}

RequestRecord NoResponse(std::uint16_t reuse, Outcome outcome, Nanos written, Nanos done) {
  RequestRecord r;
  r.reuse = reuse;
  r.outcome = outcome;
  r.written = written;
  r.done = done;
  if (outcome == Outcome::kReset) r.flags |= RequestRecord::kByReset;
  return r;
}

// One thread that waited `wait` up to 37.5 ms (seen by the sample at 38).
CpuWaits OneWait(Nanos wait) { return Sampled(45, {{1, Wait(wait, 37 * kMs + kMs / 2)}}); }

TEST(ExcuseServerCpuWaitsTest, ALateCloseLessTheServersWaitWithinTheWindowIsTheRace) {
  std::vector<RequestRecord> records = {
      NoResponse(1, Outcome::kReset, 1 * kMs, 39 * kMs),  // 38 ms, 30 waited: 8 ms
      NoResponse(1, Outcome::kEof, 1 * kMs, 39 * kMs),    // an EOF likewise
      NoResponse(0, Outcome::kReset, 1 * kMs, 39 * kMs),  // new connection: a refusal
      NoResponse(0, Outcome::kEof, 1 * kMs, 39 * kMs),    // new connection, EOF: still a drop
  };
  records.push_back(records[0]);
  records.back().first_byte = 20 * kMs;  // part of an answer came: not this rule's
  std::map<std::uint32_t, Nanos> left_out;
  EXPECT_EQ(ExcuseServerCpuWaits(&records, {}, OneWait(30 * kMs), std::chrono::milliseconds(10),
                                 &left_out),
            3);
  EXPECT_EQ(records[0].outcome, Outcome::kIdleClosed);
  EXPECT_EQ(records[1].outcome, Outcome::kIdleClosed);
  EXPECT_EQ(records[2].outcome, Outcome::kRefused);
  EXPECT_EQ(records[3].outcome, Outcome::kEof);
  EXPECT_EQ(records[4].outcome, Outcome::kReset);
  EXPECT_TRUE(records[0].has(RequestRecord::kServerCpuWait));
  EXPECT_FALSE(records[3].has(RequestRecord::kServerCpuWait));
  EXPECT_EQ(left_out,
            (std::map<std::uint32_t, Nanos>{{0, 30 * kMs}, {1, 30 * kMs}, {2, 30 * kMs}}));
}

TEST(ExcuseServerCpuWaitsTest, TooShortAWaitOrOneTheGeneratorsStallsCoverAlreadyChangesNothing) {
  std::vector<RequestRecord> records = {NoResponse(1, Outcome::kReset, 1 * kMs, 39 * kMs)};
  std::map<std::uint32_t, Nanos> left_out;
  // 38 - 20 = 18 ms: past the window still.
  EXPECT_EQ(ExcuseServerCpuWaits(&records, {}, OneWait(20 * kMs), std::chrono::milliseconds(10),
                                 &left_out),
            0);
  EXPECT_EQ(records[0].outcome, Outcome::kReset);
  // The generator stalled 25 ms of it (38 - 25 = 13: a drop); the server's
  // 20 ms, which may be the same starved stretch, are not added to that.
  EXPECT_EQ(ExcuseServerCpuWaits(&records, {{2 * kMs, 27 * kMs}}, OneWait(20 * kMs),
                                 std::chrono::milliseconds(10), &left_out),
            0);
  EXPECT_EQ(records[0].outcome, Outcome::kReset);
  EXPECT_TRUE(left_out.empty());
}

}  // namespace
}  // namespace gracecheck
