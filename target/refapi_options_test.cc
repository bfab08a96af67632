#include "refapi_options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "bugs.h"

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
  EXPECT_EQ(p.options.exit_code, 0);
}

TEST(RefapiOptionsTest, TakesEveryOptionInBothSpellings) {
  Parsed p = Parse({"--listen=0.0.0.0:0", "--db=dbname=x", "--pool", "3", "--threads=16",
                    "--drain-timeout", "1.5s", "--lame-duck=200ms", "--exit-code", "143",
                    "--statements=inline"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.listen.host, "0.0.0.0");
  EXPECT_EQ(p.options.listen.port, 0);
  EXPECT_EQ(p.options.db_url, "dbname=x");
  EXPECT_EQ(p.options.pool_size, 3u);
  EXPECT_EQ(p.options.http_workers, 16u);
  EXPECT_EQ(p.options.drain_timeout, Duration(1500ms));
  EXPECT_EQ(p.options.lame_duck, Duration(200ms));
  EXPECT_EQ(p.options.exit_code, 143);
  EXPECT_EQ(p.options.statements, Statements::kInline);
  EXPECT_EQ(Parse({"--db", "x"}).options.statements, Statements::kPrepared);
  const Parsed bad = Parse({"--db", "x", "--statements", "named"});
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error, "--statements wants prepared or inline, not 'named'");
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
      {"--db", "x", "--threads", "12abc"},     // not a number
      {"--db", "x", "--listen", "localhost"},  // no port
      {"--db", "x", "--listen", "h:70000"},    // port out of range
      {"--db", "x", "--listen", "::1:80"},     // IPv6 without brackets
      {"--db", "x", "--drain-timeout", "10"},  // no unit
      {"--db", "x", "--bug=no-such-bug"},      // unknown bug
      {"--db", "x", "--bug"},                  // no bug name
      {"--db", "x", "stray"},                  // positional
      {"--db", "x", "--exit-code", "256"},     // not an exit status
      {"--db", "x", "--exit-code=-1"},         // not an exit status
      {"--db", "x", "--workers", "0"},         // pre-fork wants >= 1 worker
      {"--db", "x", "--workers", "65"},        // more than a machine here holds
      {"--db", "x", "--bug=no-forward"},       // a master's bug, and no master
      {"--db", "x", "--buggy-workers", "1"},   // no workers
      {"--db", "x", "--workers", "2", "--buggy-workers", "3"},
      {"--db", "x", "--workers", "2", "--bug=small-backlog"},  // stock listener
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

TEST(RefapiOptionsTest, PreforkIsOffByDefaultAndTakesItsCounts) {
  EXPECT_EQ(Parse({"--db", "x"}).options.worker_processes, 0u);
  Parsed p = Parse({"--db", "x", "--workers", "3", "--buggy-workers=1", "--bug=leak-threads"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.worker_processes, 3u);
  EXPECT_EQ(p.options.buggy_workers, 1u);
  EXPECT_EQ(p.options.http_workers, 128u) << "--workers is processes, not threads";
}

TEST(RefapiOptionsTest, NoBugByDefault) {
  Parsed p = Parse({"--db", "x"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_TRUE(p.options.bugs.empty());
}

TEST(RefapiOptionsTest, TakesEveryKnownBugAndSeveralAtOnce) {
  for (const BugInfo& info : KnownBugs()) {
    // no-forward is the pre-fork master's own bug.
    Parsed p = info.bug == Bug::kNoForward
                   ? Parse({"--db", "x", "--workers", "2", "--bug", info.name})
                   : Parse({"--db", "x", "--bug", info.name});
    ASSERT_TRUE(p.ok) << info.name << ": " << p.error;
    EXPECT_TRUE(p.options.bugs.Has(info.bug)) << info.name;
    for (const BugInfo& other : KnownBugs()) {
      if (other.bug != info.bug) {
        EXPECT_FALSE(p.options.bugs.Has(other.bug)) << info.name << " also set " << other.name;
      }
    }
    EXPECT_EQ(ParseBug(info.name), info.bug);
    EXPECT_EQ(BugName(info.bug), info.name);
  }
  Parsed both = Parse({"--db", "x", "--bug=no-db-close", "--bug", "leak-threads"});
  ASSERT_TRUE(both.ok) << both.error;
  EXPECT_TRUE(both.options.bugs.Has(Bug::kNoDbClose));
  EXPECT_TRUE(both.options.bugs.Has(Bug::kLeakThreads));
  EXPECT_FALSE(both.options.bugs.Has(Bug::kDbFirst));
}

TEST(RefapiOptionsTest, UnknownBugListsTheKnownOnes) {
  Parsed p = Parse({"--db", "x", "--bug=x"});
  ASSERT_FALSE(p.ok);
  EXPECT_EQ(p.error.rfind("unknown bug 'x' (known: exit-immediately, db-first, ", 0), 0) << p.error;
  for (const BugInfo& info : KnownBugs()) {
    EXPECT_NE(p.error.find(std::string(info.name)), std::string::npos) << p.error;
  }
}

TEST(RefapiOptionsTest, HelpDocumentsEveryBug) {
  const std::string usage = Usage();
  EXPECT_NE(usage.find("--bug NAME"), std::string::npos) << usage;
  for (const BugInfo& info : KnownBugs()) {
    EXPECT_NE(usage.find("  " + std::string(info.name) + " "), std::string::npos)
        << info.name << " missing from --help:\n"
        << usage;
  }
  std::size_t start = 0;
  while (start < usage.size()) {
    std::size_t end = usage.find('\n', start);
    if (end == std::string::npos) end = usage.size();
    EXPECT_LE(end - start, 95u) << "too long for a terminal: " << usage.substr(start, end - start);
    start = end + 1;
  }
}

TEST(RefapiOptionsTest, ErrorNamesTheOption) {
  Parsed p = Parse({"--db", "x", "--pool", "many"});
  ASSERT_FALSE(p.ok);
  EXPECT_NE(p.error.find("--pool"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("many"), std::string::npos) << p.error;
}

// Every bug refapi can have is proven caught: it has a row in the detection
// matrix (target/detection-matrix.yaml), and every row names a known bug.
TEST(RefapiOptionsTest, EveryBugHasADetectionMatrixRow) {
  std::ifstream in(DETECTION_MATRIX);
  ASSERT_TRUE(in) << "cannot read " << DETECTION_MATRIX;
  const std::regex row(R"(^- bug: ([a-z-]+)\s*$)");
  std::set<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows.insert(m[1]);
  }
  std::set<std::string> known;
  for (const BugInfo& info : KnownBugs()) {
    known.insert(std::string(info.name));
    EXPECT_EQ(rows.count(std::string(info.name)), 1u)
        << "--bug=" << info.name << " has no row in " << DETECTION_MATRIX;
  }
  for (const std::string& r : rows) {
    EXPECT_EQ(known.count(r), 1u) << "matrix row for an unknown bug: " << r;
  }
  EXPECT_EQ(rows.size(), known.size());
}

}  // namespace
}  // namespace gracecheck::refapi
