#include "refapi_options.h"

#include <gtest/gtest.h>

namespace gracecheck::refapi {
namespace {

using namespace std::chrono_literals;

struct Parsed {
  bool ok;
  Options options;
  std::string error;
};

Parsed Parse(std::vector<std::string_view> args) {
  Parsed p;
  p.ok = ParseOptions(args, &p.options, &p.error);
  return p;
}

TEST(RefapiOptionsTest, DefaultsNeedOnlyTheDatabase) {
  Parsed p = Parse({"--db", "postgresql://u@h/d"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.db_url, "postgresql://u@h/d");
  EXPECT_EQ(p.options.listen.host, "127.0.0.1");
  EXPECT_EQ(p.options.listen.port, 8080);
  EXPECT_EQ(p.options.pool_size, 8u);
  EXPECT_EQ(p.options.http_workers, 128u);
  EXPECT_EQ(p.options.drain_timeout, Duration(10s));
  EXPECT_EQ(p.options.lame_duck, Duration::zero());
}

TEST(RefapiOptionsTest, TakesEveryOptionInBothSpellings) {
  Parsed p = Parse({"--listen=0.0.0.0:0", "--db=dbname=x", "--pool", "3", "--workers=16",
                    "--drain-timeout", "1.5s", "--lame-duck=200ms"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.listen.host, "0.0.0.0");
  EXPECT_EQ(p.options.listen.port, 0);
  EXPECT_EQ(p.options.db_url, "dbname=x");
  EXPECT_EQ(p.options.pool_size, 3u);
  EXPECT_EQ(p.options.http_workers, 16u);
  EXPECT_EQ(p.options.drain_timeout, Duration(1500ms));
  EXPECT_EQ(p.options.lame_duck, Duration(200ms));
}

TEST(RefapiOptionsTest, AcceptsBracketedIpv6Host) {
  Parsed p = Parse({"--listen", "[::1]:9000", "--db", "x"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.listen.host, "::1");
  EXPECT_EQ(p.options.listen.port, 9000);
  EXPECT_EQ(FormatHostPort("::1", 9000), "[::1]:9000");
  EXPECT_EQ(FormatHostPort("127.0.0.1", 80), "127.0.0.1:80");
}

TEST(RefapiOptionsTest, HelpNeedsNoDatabase) {
  Parsed p = Parse({"--help"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_TRUE(p.options.help);
}

TEST(RefapiOptionsTest, RejectsBadInputWithOneLine) {
  const std::vector<std::vector<std::string_view>> bad = {
      {},                                      // no --db
      {"--db"},                                // no value
      {"--db", "x", "--pool", "0"},            // pool must be >= 1
      {"--db", "x", "--workers", "12abc"},     // not a number
      {"--db", "x", "--listen", "localhost"},  // no port
      {"--db", "x", "--listen", "h:70000"},    // port out of range
      {"--db", "x", "--listen", "::1:80"},     // IPv6 without brackets
      {"--db", "x", "--drain-timeout", "10"},  // no unit
      {"--db", "x", "--bug=db-first"},         // not implemented yet
      {"--db", "x", "stray"},                  // positional
  };
  for (const auto& args : bad) {
    Parsed p = Parse(args);
    std::string joined;
    for (auto a : args) joined += std::string(a) + " ";
    EXPECT_FALSE(p.ok) << "accepted: " << joined;
    EXPECT_FALSE(p.error.empty()) << "no message for: " << joined;
    EXPECT_EQ(p.error.find('\n'), std::string::npos) << p.error;
  }
}

TEST(RefapiOptionsTest, ErrorNamesTheOption) {
  Parsed p = Parse({"--db", "x", "--pool", "many"});
  ASSERT_FALSE(p.ok);
  EXPECT_NE(p.error.find("--pool"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("many"), std::string::npos) << p.error;
}

}  // namespace
}  // namespace gracecheck::refapi
