#include "duration.h"

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

using namespace std::chrono_literals;

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("1.5s"), Duration(1500ms));
  EXPECT_EQ(ParseDuration("800ms"), Duration(800ms));
  EXPECT_EQ(ParseDuration("250us"), Duration(250us));
  EXPECT_EQ(ParseDuration("7ns"), Duration(7ns));
  EXPECT_EQ(ParseDuration("2m"), Duration(120s));
  EXPECT_EQ(ParseDuration("1h"), Duration(3600s));
  EXPECT_EQ(ParseDuration(".5s"), Duration(500ms));
  EXPECT_EQ(ParseDuration("0"), Duration::zero());
}

TEST(DurationTest, RejectsWithAReason) {
  std::string error;
  EXPECT_FALSE(ParseDuration("5", &error));
  EXPECT_EQ(error, "'5' has no unit (write e.g. 5s or 5ms)");
  EXPECT_FALSE(ParseDuration("5sec", &error));
  EXPECT_EQ(error, "'5sec' has unknown unit 'sec' (use ns, us, ms, s, m or h)");
  EXPECT_FALSE(ParseDuration("", &error));
  EXPECT_FALSE(ParseDuration("s", &error));
  EXPECT_FALSE(ParseDuration("-1s", &error));
  EXPECT_FALSE(ParseDuration("1.2.3s", &error));
  EXPECT_FALSE(ParseDuration("1 s", &error));
  EXPECT_FALSE(ParseDuration("99999999999h", &error));
  EXPECT_EQ(error, "'99999999999h' is too long");
}

TEST(DurationTest, FormatsForPeopleAndRoundTrips) {
  EXPECT_EQ(FormatDuration(1500ms), "1.5s");
  EXPECT_EQ(FormatDuration(800ms), "800ms");
  EXPECT_EQ(FormatDuration(42us), "42us");
  EXPECT_EQ(FormatDuration(0s), "0s");
  for (Duration d : {Duration(1500ms), Duration(3us), Duration(120s)}) {
    EXPECT_EQ(ParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
}

}  // namespace
}  // namespace gracecheck
