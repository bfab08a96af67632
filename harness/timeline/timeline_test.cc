#include "timeline.h"

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

constexpr Nanos kMs = 1'000'000;

TreeProcess Worker() {
  TreeProcess p;
  p.pid = 4243;
  p.first_seen = 10 * kMs;
  p.last_seen = 500 * kMs;
  p.threads = {{10 * kMs, 2}, {100 * kMs, 9}, {300 * kMs, 4}};
  return p;
}

TEST(TreeProcessTest, ThreadsAtIsTheLastCountKnownThenWhileItWasSeen) {
  const TreeProcess p = Worker();
  EXPECT_EQ(p.ThreadsAt(5 * kMs), -1) << "before it was seen";
  EXPECT_EQ(p.ThreadsAt(10 * kMs), 2);
  EXPECT_EQ(p.ThreadsAt(99 * kMs), 2);
  EXPECT_EQ(p.ThreadsAt(100 * kMs), 9);
  EXPECT_EQ(p.ThreadsAt(500 * kMs), 4);
  EXPECT_EQ(p.ThreadsAt(501 * kMs), -1) << "after its last sample";
}

TEST(TreeProcessTest, LowestThreadsCountsTheCountItEnteredWith) {
  const TreeProcess p = Worker();
  EXPECT_EQ(p.LowestThreads(150 * kMs, 250 * kMs), 9);
  EXPECT_EQ(p.LowestThreads(150 * kMs, 350 * kMs), 4);
  EXPECT_EQ(p.LowestThreads(150 * kMs, kNever), 4);
  EXPECT_EQ(p.LowestThreads(5 * kMs, 50 * kMs), -1) << "not alive at the start";
}

TEST(TreeProcessTest, AProcessGoneBeforeTheEndHasNoLowest) {
  TreeProcess p = Worker();
  p.gone = 501 * kMs;
  EXPECT_EQ(p.LowestThreads(150 * kMs, 600 * kMs), -1);
  EXPECT_EQ(p.LowestThreads(150 * kMs, 400 * kMs), 4);
}

}  // namespace
}  // namespace gracecheck
