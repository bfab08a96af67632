// The probes' own logic: the /proc sampler's switch to dense sampling, and
// the embedded cluster's log read for how each session ended (lines as
// PostgreSQL 15's jsonlog writes them, copied from a run's log).
#include "probes.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "subprocess.h"

namespace gracecheck {
namespace {

using namespace std::chrono_literals;

// Regression (sigterm-after-load, 45 of 50 runs): SetDense only took effect
// after the sparse wait in progress ran out, so a shutdown shorter than one
// sparse interval got no sample at all after its first fault.
TEST(ProcProbeTest, SetDenseSamplesAtOnce) {
  auto child = Subprocess::Start({.argv = {"sleep", "30"}});
  ProcProbe probe(child->pid(), std::chrono::steady_clock::now(), /*interval=*/60s,
                  /*dense_interval=*/1ms);
  probe.Start();
  for (int i = 0; i < 2000 && probe.Latest().t == 0; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_NE(probe.Latest().t, 0) << "no first sample";
  probe.SetDense();
  std::this_thread::sleep_for(200ms);
  probe.Stop();
  const std::vector<ProcSample> samples = probe.TakeSamples();
  EXPECT_GE(samples.size(), 10u) << "samples in the 200ms after SetDense (sparse interval 60s)";
  child->Kill();
}

// Regression (sigterm-after-load under --jobs 2 on 2 cores): the run read
// the idle thread count after a fixed 30 ms sleep, before the probe's first
// sample, so "0 threads before the load" failed threads.growth by +131 on a
// correct server. The run now waits for the samples themselves.
TEST(ProcProbeTest, WaitForSamplesWaitsForTheSamplesNotForATime) {
  auto child = Subprocess::Start({.argv = {"sleep", "30"}});
  ProcProbe probe(child->pid(), std::chrono::steady_clock::now(), /*interval=*/5ms);
  EXPECT_FALSE(probe.WaitForSamples(1, 20ms)) << "a probe not started has no sample";
  probe.Start();
  ASSERT_TRUE(probe.WaitForSamples(3, 10s));
  EXPECT_EQ(probe.Latest().threads, 1) << "sleep has one thread";
  EXPECT_FALSE(probe.ended());
  // A process that is gone ends the probe, and the wait with it.
  child->Kill();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(probe.WaitForSamples(1000000, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "the wait outlived the probe";
  EXPECT_TRUE(probe.ended());
}

constexpr char kDb[] = "gc_sigterm_mid_load_3e6d90f9";

std::string Line(int pid, const std::string& session, const std::string& time,
                 const std::string& severity, const std::string& ps, const std::string& message,
                 const std::string& db = kDb, const std::string& user = "") {
  return R"({"timestamp":")" + time + R"( UTC","user":")" + (user.empty() ? db : user) +
         R"(","dbname":")" + db + R"(","pid":)" + std::to_string(pid) +
         R"(,"remote_host":"127.0.0.1","remote_port":50862,)" + R"("session_id":")" + session +
         R"(","line_num":4,"ps":")" + ps +
         R"(","session_start":"2026-11-24 19:38:02 UTC","txid":0,"error_severity":")" + severity +
         R"(","message":")" + message + R"(","backend_type":"client backend","query_id":0})" + "\n";
}

// 2026-11-24 19:38:05.000 UTC in Unix ms.
constexpr std::int64_t kEpochMs = 1795549085000;

TEST(ParseDbSessionEndsTest, CleanCloseHasItsTimeOnTheRunsClock) {
  const std::string log =
      Line(27961, "6b05e79a.6d39", "2026-11-24 19:38:02.801", "LOG", "",
           "connection authorized: user=x database=x") +
      Line(27961, "6b05e79a.6d39", "2026-11-24 19:38:05.019", "LOG", "idle",
           "disconnection: session time: 0:00:02.158 user=x database=x host=127.0.0.1");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].pid, 27961);
  EXPECT_EQ(ends[0].ended, 19'000'000) << "19 ms after the epoch";
  EXPECT_FALSE(ends[0].client_vanished);
  EXPECT_FALSE(ends[0].open_transaction);
  EXPECT_FALSE(ends[0].terminated);
  EXPECT_EQ(ends[0].message, "");
}

TEST(ParseDbSessionEndsTest, ClientVanishedWithAnOpenTransaction) {
  const std::string log =
      Line(3482, "6b05e803.d9a", "2026-11-24 19:38:05.693", "LOG", "idle in transaction",
           "unexpected EOF on client connection with an open transaction") +
      Line(3482, "6b05e803.d9a", "2026-11-24 19:38:05.694", "LOG", "idle in transaction",
           "disconnection: session time: 0:00:02.001");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_TRUE(ends[0].client_vanished);
  EXPECT_TRUE(ends[0].open_transaction);
  EXPECT_EQ(ends[0].state, "idle in transaction");
  EXPECT_EQ(ends[0].message, "unexpected EOF on client connection with an open transaction");
  EXPECT_EQ(ends[0].ended, 694'000'000);
}

TEST(ParseDbSessionEndsTest, VanishedResetAndTerminatedSessions) {
  const std::string log =
      Line(1, "a.1", "2026-11-24 19:38:05.100", "DEBUG", "idle",
           "unexpected EOF on client connection") +
      Line(2, "a.2", "2026-11-24 19:38:05.100", "LOG", "idle",
           "could not receive data from client: Connection reset by peer") +
      Line(3, "a.3", "2026-11-24 19:38:05.100", "FATAL", "idle",
           "terminating connection due to administrator command") +
      Line(1, "a.1", "2026-11-24 19:38:05.101", "LOG", "idle", "disconnection: session time: 1");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_TRUE(ends[0].client_vanished);
  EXPECT_FALSE(ends[0].open_transaction);
  EXPECT_EQ(ends[0].ended, 101'000'000);
  EXPECT_TRUE(ends[1].client_vanished);
  EXPECT_EQ(ends[1].ended, kNever) << "no disconnection line (yet)";
  EXPECT_TRUE(ends[2].terminated);
  EXPECT_FALSE(ends[2].client_vanished);
}

// The client gone while the query ran: the answer cannot be sent, and
// the session ends FATAL (sessions_fatal, not sessions_abandoned).
TEST(ParseDbSessionEndsTest, AnAnswerThatCouldNotBeSentIsMidQuery) {
  const std::string log =
      Line(4, "a.4", "2026-11-24 19:38:05.100", "LOG", "SELECT",
           "could not send data to client: Broken pipe") +
      Line(4, "a.4", "2026-11-24 19:38:05.100", "FATAL", "SELECT", "connection to client lost") +
      Line(5, "a.5", "2026-11-24 19:38:05.100", "LOG", "idle",
           "could not receive data from client: Connection reset by peer");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_TRUE(ends[0].client_vanished);
  EXPECT_TRUE(ends[0].mid_query);
  EXPECT_EQ(ends[0].message, "could not send data to client: Broken pipe");
  EXPECT_TRUE(ends[1].client_vanished);
  EXPECT_FALSE(ends[1].mid_query);
}

TEST(ParseDbSessionEndsTest, OtherDatabasesAndBrokenLinesAreSkipped) {
  std::string log =
      Line(7, "b.7", "2026-11-24 19:38:05.100", "LOG", "idle",
           "unexpected EOF on client connection with an open transaction", "postgres") +
      "not json " + kDb + "\n" +
      Line(8, "b.8", "2026-11-24 19:38:05.200", "LOG", "idle", "disconnection: session time: 1");
  log.resize(log.size() - 20);  // the last line cut short while the server writes it
  EXPECT_TRUE(ParseDbSessionEnds(log, kDb, kEpochMs, 0).empty());
}

// Behind PgBouncer, a client that vanished mid-transaction shows on the
// server as the pooler's clean close of its connection, in a transaction.
TEST(ParseDbSessionEndsTest, CleanCloseInATransactionLeftItOpen) {
  const std::string log = Line(11, "b.11", "2026-11-24 19:38:05.495", "LOG", "idle in transaction",
                               "disconnection: session time: 0:00:02.198");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_TRUE(ends[0].open_transaction);
  EXPECT_FALSE(ends[0].client_vanished);
  EXPECT_EQ(ends[0].state, "idle in transaction");
  EXPECT_EQ(ends[0].message, "disconnected with its transaction open (rolled back)");
  EXPECT_EQ(ends[0].ended, 495'000'000);
}

TEST(ParseDbSessionEndsTest, CancelledQueriesAndUnknownPreparedStatementsAreCounted) {
  const std::string log = Line(12, "b.12", "2026-11-24 19:38:05.100", "ERROR", "SELECT",
                               "canceling statement due to user request") +
                          Line(12, "b.12", "2026-11-24 19:38:05.200", "ERROR", "idle",
                               "prepared statement \\\"select_item_by_id\\\" does not exist") +
                          Line(12, "b.12", "2026-11-24 19:38:05.300", "ERROR", "idle",
                               "prepared statement \\\"sleep\\\" does not exist");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_TRUE(ends[0].cancelled);
  EXPECT_EQ(ends[0].unknown_statements, 2);
  EXPECT_FALSE(ends[0].client_vanished);
}

TEST(ParseDbSessionEndsTest, OtherRolesOnTheRunsDatabaseAreNotTheTargets) {
  // A pooler's auth_query session (role pgbouncer) on the run's database
  // vanishing is not the target's abandoned session.
  const std::string log =
      Line(9, "b.9", "2026-11-24 19:38:05.100", "LOG", "idle",
           "unexpected EOF on client connection", kDb, "pgbouncer") +
      Line(9, "b.9", "2026-11-24 19:38:05.101", "LOG", "idle", "disconnection: session time: 1",
           kDb, "pgbouncer") +
      Line(10, "b.10", "2026-11-24 19:38:05.200", "LOG", "idle", "disconnection: session time: 1");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].pid, 10);
}

// log_timezone other than UTC: the log's wall clock is shifted by its offset.
TEST(ParseDbSessionEndsTest, LogTimezoneOffsetIsApplied) {
  const std::string log =
      Line(9, "c.9", "2026-11-24 20:38:05.050", "LOG", "idle", "disconnection: session time: 1");
  const std::vector<DbSessionEnd> ends = ParseDbSessionEnds(log, kDb, kEpochMs, 3600);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].ended, 50'000'000);
}

// --- the probes' failures as harness errors ------------------------------------

constexpr Nanos kMs = 1'000'000;

Timeline SignalledAt(Nanos t) {
  Timeline tl;
  tl.first_signal = t;
  return tl;
}

TEST(ProbeHarnessErrorsTest, NoneWhenNothingWentWrong) {
  EXPECT_TRUE(ProbeHarnessErrors({}, {}, {}, {}, SignalledAt(1000 * kMs)).empty());
}

TEST(ProbeHarnessErrorsTest, ALostMonitorConnectionIsAnErrorEvenIfItCameBack) {
  const std::vector<std::string> e = ProbeHarnessErrors(
      {}, {}, {{900 * kMs, 912 * kMs, "server closed the connection unexpectedly"}}, {},
      SignalledAt(1000 * kMs));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "the database monitor connection was lost at -100.0ms: server closed the connection "
            "unexpectedly; reconnected 12.0ms later (no pg_stat_activity sample in between)");
  const std::vector<std::string> never =
      ProbeHarnessErrors({}, {}, {{900 * kMs, kNever, "gone"}}, {}, SignalledAt(1000 * kMs));
  ASSERT_EQ(never.size(), 1u);
  EXPECT_NE(never[0].find("not reconnected before the end of the run"), std::string::npos)
      << never[0];
}

// Behind a per-run pooler the session probe reads its SHOW CLIENTS, and
// says so: "pg_stat_activity" would send the reader to the wrong place.
TEST(ProbeHarnessErrorsTest, BehindAPoolerTheErrorsNameItsConsole) {
  const std::vector<std::string> e =
      ProbeHarnessErrors({}, {1300 * kMs, "bad conversion"}, {{900 * kMs, kNever, "gone"}}, {},
                         SignalledAt(1000 * kMs), kPoolerClientsNames);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].rfind("the pooler's SHOW CLIENTS probe stopped at +300.0ms: bad conversion", 0),
            0u)
      << e[0];
  EXPECT_EQ(e[1].rfind("the pooler's admin console connection was lost at -100.0ms: gone", 0), 0u)
      << e[1];
}

TEST(ProbeHarnessErrorsTest, ARestartsOwnLossIsNoErrorIfTheConnectionCameBack) {
  const std::vector<RestartWindow> restart = {{1000 * kMs, 1300 * kMs}};
  EXPECT_TRUE(ProbeHarnessErrors({}, {}, {{1010 * kMs, 1320 * kMs, "terminating connection"}},
                                 restart, SignalledAt(500 * kMs))
                  .empty());
  // Not back by the end: still an error, restart or not.
  EXPECT_EQ(ProbeHarnessErrors({}, {}, {{1010 * kMs, kNever, "x"}}, restart, SignalledAt(500 * kMs))
                .size(),
            1u);
  // Long after the restart: someone else's doing.
  EXPECT_EQ(
      ProbeHarnessErrors({}, {}, {{2400 * kMs, 2410 * kMs, "x"}}, restart, SignalledAt(500 * kMs))
          .size(),
      1u);
}

TEST(ProbeHarnessErrorsTest, AProbeThatDiedSaysWhenAndWhy) {
  const std::vector<std::string> e =
      ProbeHarnessErrors({1200 * kMs, "basic_string::_M_create"}, {1300 * kMs, "bad conversion"},
                         {}, {}, SignalledAt(1000 * kMs));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0],
            "the /proc probe of the target stopped at +200.0ms: basic_string::_M_create; no "
            "sample after it");
  EXPECT_EQ(e[1],
            "the pg_stat_activity probe stopped at +300.0ms: bad conversion; no sample after it");
}

}  // namespace
}  // namespace gracecheck

namespace gracecheck {
namespace {

// PgBouncer 1.18's own lines, as its log had them in a run behind it.
constexpr char kPooled[] = "gc_pooled_4a0d";
std::string PoolerLine(const std::string& time, const std::string& who, int port,
                       const std::string& what) {
  return "2026-11-24 " + time + " UTC [2983] LOG C-0x557efff8a5d0: " + who + "/" + who +
         "@127.0.0.1:" + std::to_string(port) + " " + what + "\n";
}

TEST(ParsePoolerClientEndsTest, CleanCloseVanishedAndThePoolersOwnDoing) {
  const std::string log =
      PoolerLine("19:38:05.100", kPooled, 38780, "login attempt: db=x user=x tls=no") +
      PoolerLine("19:38:05.152", kPooled, 38780, "closing because: client close request (age=0s)") +
      PoolerLine("19:38:05.157", kPooled, 38790,
                 "closing because: client unexpected eof (age=2s)") +
      PoolerLine("19:38:05.160", kPooled, 38791, "closing because: query_wait_timeout (age=2s)") +
      PoolerLine("19:38:05.170", "gc_other_1", 38792, "closing because: client unexpected eof") +
      "2026-11-24 19:38:05.171 UTC [2983] LOG S-0x557efff91cb0: " + kPooled + "/" + kPooled +
      "@127.0.0.1:55432 closing because: client disconnect while server was not ready (age=11s)\n";
  const std::vector<DbSessionEnd> ends = ParsePoolerClientEnds(log, kPooled, kEpochMs, 0);
  ASSERT_EQ(ends.size(), 3u) << "the other database's client and the server line are not ours";
  EXPECT_EQ(ends[0].pid, 38780);
  EXPECT_EQ(ends[0].ended, 152'000'000);
  EXPECT_FALSE(ends[0].client_vanished);
  EXPECT_FALSE(ends[0].terminated);
  EXPECT_EQ(ends[1].pid, 38790);
  EXPECT_TRUE(ends[1].client_vanished);
  EXPECT_EQ(ends[1].message, "client unexpected eof");
  EXPECT_EQ(ends[2].pid, 38791);
  EXPECT_TRUE(ends[2].terminated);
  EXPECT_FALSE(ends[2].client_vanished);
  EXPECT_EQ(ends[2].message, "query_wait_timeout");
}

TEST(ParsePoolerClientEndsTest, APortUsedAgainKeepsItsLatestClient) {
  const std::string log =
      PoolerLine("19:38:05.100", kPooled, 40000, "closing because: client unexpected eof") +
      PoolerLine("19:38:06.000", kPooled, 40000, "closing because: client close request (age=0s)");
  const std::vector<DbSessionEnd> ends = ParsePoolerClientEnds(log, kPooled, kEpochMs, 3600);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_FALSE(ends[0].client_vanished);
  EXPECT_EQ(ends[0].ended, (1000 - 3'600'000) * 1'000'000LL) << "a zone an hour east of UTC";
}

}  // namespace
}  // namespace gracecheck
