#include "fd_limit.h"

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

Scenario WithConnections(int n) {
  Scenario s;
  s.load = LoadSpec{};
  s.load->connections = n;
  return s;
}

TEST(FdLimitTest, ARunNeedsItsConnectionsAndItsOwnFds) {
  EXPECT_EQ(FdsNeeded(WithConnections(2000)), 2000 + kFdsPerRun);
  EXPECT_EQ(FdsNeeded(Scenario{}), kFdsPerRun);  // no load
}

TEST(FdLimitTest, JobsAddUpTheLargestRunsThatCanGoAtOnce) {
  const std::vector<int> needs = {100, 2064, 500, 300};
  EXPECT_EQ(FdsNeededAtOnce(needs, 1), kFdsBase + 2064);
  EXPECT_EQ(FdsNeededAtOnce(needs, 2), kFdsBase + 2064 + 500);
  EXPECT_EQ(FdsNeededAtOnce(needs, 8), kFdsBase + 2064 + 500 + 300 + 100);
  EXPECT_EQ(FdsNeededAtOnce({}, 2), kFdsBase);
}

TEST(FdLimitTest, AShortageSaysWhatIsNeededTheLimitAndHowToRaiseIt) {
  const long long need = FdsNeededAtOnce({FdsNeeded(WithConnections(2000))}, 1);
  std::optional<std::string> why = FdShortage(need, 2000, {1024, 1024});
  ASSERT_TRUE(why);
  EXPECT_NE(why->find(std::to_string(need) + " file descriptors"), std::string::npos) << *why;
  EXPECT_NE(why->find("2000 load connections"), std::string::npos) << *why;
  EXPECT_NE(why->find("only 1024 (hard limit 1024)"), std::string::npos) << *why;
  EXPECT_NE(why->find("ulimit -Hn"), std::string::npos) << *why;
  EXPECT_EQ(why->find('\n'), std::string::npos) << "one line: " << *why;
  EXPECT_FALSE(FdShortage(need, 2000, {need, need}));
  EXPECT_FALSE(FdShortage(need, 2000, {-1, -1}));  // unlimited
}

}  // namespace
}  // namespace gracecheck
