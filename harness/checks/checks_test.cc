// Every check on synthetic timelines: each is shown to pass on a correct
// shutdown and to fail on the bug it is there to catch.
#include "checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "checks/evidence.h"

namespace gracecheck {
namespace {

constexpr Nanos kMs = 1'000'000;
constexpr Nanos kUs = 1'000;

std::string Describe(const CheckResult& c) {
  return fmt::format("{} {}: expected [{}] observed [{}] evidence [{}]", c.name,
                     CheckStatusName(c.status), c.expected, c.observed,
                     fmt::join(c.evidence, " | "));
}

RequestRecord Request(std::uint32_t id, Outcome outcome, Nanos intended, bool after_fault,
                      int status = 200) {
  RequestRecord r;
  r.connection = id;
  r.outcome = outcome;
  r.status = static_cast<std::int16_t>(status);
  r.intended = intended;
  r.written = intended + 100 * kUs;
  r.done = intended + 2 * kMs;
  if (outcome != Outcome::kOk && outcome != Outcome::kHttpError) r.status = 0;
  if (after_fault) r.flags |= RequestRecord::kAfterSignal;
  return r;
}

// A correct graceful shutdown: SIGTERM at 1.2s during the load, in-flight
// requests answered, then refusals; exit 0 after 300ms; threads and DB
// sessions gone before the exit.
Timeline CorrectRun() {
  Timeline tl;
  tl.scenario = "sigterm-mid-load";
  tl.target_name = "refapi";
  tl.target_pid = 4242;
  tl.spawned = 0;
  tl.ready = 100 * kMs;
  tl.load_start = 200 * kMs;
  tl.load_end = 2200 * kMs;
  tl.first_signal = 1200 * kMs;
  tl.exited = 1500 * kMs;
  tl.exit_code = 0;
  tl.threads_before_load = 9;
  tl.threads_idle_after_load = Timeline::kUnknown;  // the fault came during the load
  tl.sessions_abandoned = 0;

  std::uint32_t id = 1;
  for (Nanos t = 200 * kMs; t < 1200 * kMs; t += 10 * kMs) {
    tl.requests.push_back(Request(id++, Outcome::kOk, t, false));
  }
  for (Nanos t = 1200 * kMs; t < 1450 * kMs; t += 10 * kMs) {
    tl.requests.push_back(Request(id++, Outcome::kOk, t, true));
  }
  for (Nanos t = 1450 * kMs; t < 2200 * kMs; t += 10 * kMs) {
    tl.requests.push_back(Request(id++, Outcome::kRefused, t, true));
  }
  RequestRecord race = Request(id++, Outcome::kIdleClosed, 1300 * kMs, true);
  race.reuse = 4;
  tl.requests.push_back(race);

  tl.process_events = {
      {0, ProcessEvent::Kind::kSpawned, 4242, ""},
      {100 * kMs, ProcessEvent::Kind::kReady, 0, ""},
      {1200 * kMs, ProcessEvent::Kind::kSignalSent, 15, "process"},
      {1500 * kMs, ProcessEvent::Kind::kExited, 0, ""},
  };
  FaultRecord f;
  f.name = "SIGTERM";
  f.signal = 15;
  f.scheduled = 1200 * kMs - 200 * kUs;
  f.delivered = 1200 * kMs;
  f.tolerance = std::chrono::milliseconds(100);
  tl.faults.push_back(f);

  for (Nanos t = 150 * kMs; t < 1500 * kMs; t += 50 * kMs) {
    ProcSample s;
    s.t = t;
    s.threads = t < 200 * kMs ? 9 : t < 1300 * kMs ? 40 : 2;
    // SIGINT and SIGTERM blocked, for a signal thread's sigwait (as refapi).
    s.signals_read = true;
    s.sig_blocked = (1u << (SIGINT - 1)) | (1u << (SIGTERM - 1));
    tl.proc_samples.push_back(s);
  }
  tl.thread_names_at_exit = {{"refapi", 1}, {"refapi-signals", 1}};

  for (Nanos t = 150 * kMs; t <= 1600 * kMs; t += 50 * kMs) {
    DbSample s;
    s.t = t;
    if (t >= 250 * kMs && t < 1450 * kMs) {
      s.active = 3;
      s.idle = 5;
    } else if (t >= 1450 * kMs && t < 1500 * kMs) {
      s.idle = 8;
    }
    tl.db_samples.push_back(s);
  }
  for (int i = 0; i < 8; ++i) {
    DbSession s;
    s.pid = 5000 + i;
    s.backend_start = "2024-05-01 10:00:00";
    s.first_seen = 250 * kMs;
    s.last_seen = 1450 * kMs;
    s.last_state = "idle";
    s.last_query = "SELECT value FROM items WHERE id = $1";
    tl.db_sessions.push_back(s);
  }
  tl.db_sessions_gone = 1550 * kMs;
  return tl;
}

Expectations DefaultExpect() { return Expectations{}; }

// --- requests.dropped -------------------------------------------------------

TEST(RequestsDroppedTest, CorrectShutdownPassesAndCountsTheRaceApart) {
  const CheckResult c = CheckRequestsDropped(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "0 dropped; not drops: 75 refused, 1 idle_closed (keep-alive race)")
      << Describe(c);
  EXPECT_EQ(c.expected, "<= 0 dropped") << Describe(c);
  EXPECT_TRUE(c.evidence.empty()) << Describe(c);
}

TEST(RequestsDroppedTest, ServerDyingMidRequestFailsWithEvidence) {
  Timeline tl = CorrectRun();
  RequestRecord eof = Request(9001, Outcome::kEof, 1210 * kMs, true);
  eof.connection = 17;
  eof.reuse = 3;
  eof.written = 1210 * kMs + 500 * kUs;
  eof.done = 1400 * kMs;  // closed long after the write: the server died with it
  tl.requests.push_back(eof);
  tl.requests.push_back(Request(9002, Outcome::kReset, 1220 * kMs, true));
  tl.requests.push_back(Request(9003, Outcome::kEof, 1230 * kMs, true));
  const CheckResult c = CheckRequestsDropped(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed.substr(0, c.observed.find(';')), "3 dropped (1 reset, 2 eof)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 3u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "request 201 (kind 0) on connection 17 reuse 3: eof, no status; written +10.5ms, "
            "done +200.0ms, write-to-close 189.5ms")
      << Describe(c);
}

TEST(RequestsDroppedTest, EvidenceNamesTheRequestAsTheScenarioWroteIt) {
  Timeline tl = CorrectRun();
  tl.request_kinds = {"GET /slow?ms={random:100..300}", "POST /items"};
  RequestRecord r = Request(9001, Outcome::kEof, 1210 * kMs, true);
  r.kind = 1;
  tl.requests.push_back(r);
  const CheckResult c = CheckRequestsDropped(tl, DefaultExpect());
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0].substr(0, c.evidence[0].find(" on ")), "request 201 (POST /items)")
      << Describe(c);
}

TEST(RequestsDroppedTest, HttpErrorsAndTimeoutsAreDrops) {
  Timeline tl = CorrectRun();
  tl.requests.push_back(Request(9001, Outcome::kHttpError, 500 * kMs, false, 500));
  tl.requests.push_back(Request(9002, Outcome::kTimeout, 600 * kMs, false));
  tl.requests.push_back(Request(9003, Outcome::kTruncated, 700 * kMs, false));
  const CheckResult c = CheckRequestsDropped(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed.substr(0, c.observed.find(';')),
            "3 dropped (1 http_error, 1 truncated, 1 timeout)")
      << Describe(c);
  EXPECT_NE(c.evidence[0].find("http_error, status 500"), std::string::npos) << Describe(c);
  EXPECT_NE(c.evidence[1].find("write-to-done"), std::string::npos) << Describe(c);
}

TEST(RequestsDroppedTest, DroppedAllowanceIsRespected) {
  Timeline tl = CorrectRun();
  tl.requests.push_back(Request(9001, Outcome::kEof, 1210 * kMs, true));
  Expectations e;
  e.dropped = 1;
  EXPECT_TRUE(CheckRequestsDropped(tl, e).passed()) << Describe(CheckRequestsDropped(tl, e));
  tl.requests.push_back(Request(9002, Outcome::kEof, 1220 * kMs, true));
  EXPECT_TRUE(CheckRequestsDropped(tl, e).failed()) << Describe(CheckRequestsDropped(tl, e));
}

TEST(RequestsDroppedTest, DroppedAfterSignalHasItsOwnBudget) {
  Timeline tl = CorrectRun();
  tl.requests.push_back(Request(9001, Outcome::kEof, 1210 * kMs, true));
  tl.requests.push_back(Request(9002, Outcome::kEof, 1220 * kMs, true));
  Expectations e;
  e.dropped_after_signal = 2;
  CheckResult c = CheckRequestsDropped(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "<= 0 dropped before the signal, <= 2 after") << Describe(c);
  EXPECT_EQ(c.observed.substr(0, c.observed.find(';')),
            "0 dropped before the signal, 2 dropped (2 eof) after")
      << Describe(c);

  // A drop before the signal still counts against `dropped`.
  tl.requests.push_back(Request(9003, Outcome::kReset, 1000 * kMs, false));
  c = CheckRequestsDropped(tl, e);
  EXPECT_TRUE(c.failed()) << Describe(c);
}

TEST(RequestsDroppedTest, AllowedStatusAfterSignalCountsAsOkOnlyAfterIt) {
  Timeline tl = CorrectRun();
  tl.requests.push_back(Request(9001, Outcome::kHttpError, 1300 * kMs, true, 503));
  Expectations e;
  e.allow_status_after_signal.Add(503, 503);
  CheckResult c = CheckRequestsDropped(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_NE(c.observed.find("1 with status 503 after the signal"), std::string::npos)
      << Describe(c);

  tl.requests.push_back(Request(9002, Outcome::kHttpError, 1000 * kMs, false, 503));
  c = CheckRequestsDropped(tl, e);
  EXPECT_TRUE(c.failed()) << "a 503 before the signal is a drop: " << Describe(c);
}

TEST(RequestsDroppedTest, AllowedOutcomesAfterSignalAreNotDrops) {
  Timeline tl = CorrectRun();
  tl.requests.push_back(Request(9001, Outcome::kEof, 1300 * kMs, true));
  Expectations e;
  EXPECT_TRUE(CheckRequestsDropped(tl, e).failed()) << Describe(CheckRequestsDropped(tl, e));
  e.allow_outcomes_after_signal = {"eof"};
  const CheckResult c = CheckRequestsDropped(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_NE(c.observed.find("1 eof after the signal"), std::string::npos) << Describe(c);
}

TEST(RequestsDroppedTest, EvidenceIsCappedAndSaysHowManyMore) {
  Timeline tl = CorrectRun();
  for (std::uint32_t i = 0; i < 25; ++i) {
    tl.requests.push_back(Request(9000 + i, Outcome::kReset, 1210 * kMs, true));
  }
  const CheckResult c = CheckRequestsDropped(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), static_cast<std::size_t>(kMaxEvidence)) << Describe(c);
  EXPECT_EQ(c.evidence.back(), "… and 16 more") << Describe(c);
}

TEST(RequestsDroppedTest, EvidenceShowsConnectionFlags) {
  Timeline tl = CorrectRun();
  RequestRecord r = Request(9001, Outcome::kEof, 1210 * kMs, true);
  r.flags |= RequestRecord::kPrevConnectionClose | RequestRecord::kWriteFailed;
  r.written = kNever;
  tl.requests.push_back(r);
  const CheckResult c = CheckRequestsDropped(tl, DefaultExpect());
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_NE(c.evidence[0].find("not written"), std::string::npos) << Describe(c);
  EXPECT_NE(c.evidence[0].find("[previous response: Connection: close]"), std::string::npos)
      << Describe(c);
  EXPECT_NE(c.evidence[0].find("[write failed]"), std::string::npos) << Describe(c);
}

TEST(RequestsDroppedTest, WithoutFaultTimesAreSinceTheEpoch) {
  Timeline tl = CorrectRun();
  tl.first_signal = kNever;
  tl.requests.push_back(Request(9001, Outcome::kEof, 1000 * kMs, false));
  const CheckResult c = CheckRequestsDropped(tl, DefaultExpect());
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_NE(c.evidence[0].find("written t=1.000s"), std::string::npos) << Describe(c);
}

// --- writes.lost --------------------------------------------------------------

Timeline WithWrites() {
  Timeline tl = CorrectRun();
  tl.write_keys = {{1, "k1"}, {2, "k2"}, {3, "k3"}};
  tl.writes_verified = true;
  return tl;
}

TEST(WritesLostTest, AllAcknowledgedWritesPresentPasses) {
  Expectations e;
  e.writes = WritesExpectation{};
  const CheckResult c = CheckWritesLost(WithWrites(), e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "0 lost of 3 acknowledged; 0 applied without acknowledgement (not a failure)")
      << Describe(c);
}

TEST(WritesLostTest, LostAcknowledgedWriteFailsWithItsKey) {
  Timeline tl = WithWrites();
  tl.lost_writes = {"k2"};
  tl.unacknowledged_applied = {"k9"};
  Expectations e;
  e.writes = WritesExpectation{};
  const CheckResult c = CheckWritesLost(tl, e);
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "1 lost of 3 acknowledged; 1 applied without acknowledgement (not a failure)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "key 'k2' (request 2): acknowledged with status 200 at -978.0ms, missing from the "
            "database")
      << Describe(c);
  e.writes->lost = 1;
  EXPECT_TRUE(CheckWritesLost(tl, e).passed()) << Describe(CheckWritesLost(tl, e));
}

// --- process.exit -------------------------------------------------------------

TEST(ProcessExitTest, CleanExitWithinDeadlinePasses) {
  const CheckResult c = CheckProcessExit(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0 or 143 (128+SIGTERM) within 10s") << Describe(c);
  EXPECT_EQ(c.observed, "exit 0 after 300.0ms") << Describe(c);
}

// The JVM, and shells, exit 128+N after handling signal N: a graceful exit
// by convention, accepted by default (code: graceful).
TEST(ProcessExitTest, Exit143AfterSigtermPassesByDefault) {
  Timeline tl = CorrectRun();
  tl.exit_code = 143;
  tl.process_events.back().value = 143;
  const CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "exit 143 (128+SIGTERM) after 300.0ms") << Describe(c);
}

// 128+N only for a signal that was sent and can be handled: 130 after a
// SIGTERM is a wrong code, and so is 137 after a SIGKILL (a wrapper shell
// reporting that its child was killed).
TEST(ProcessExitTest, GracefulCodesAreOnlyForSignalsSentThatCanBeHandled) {
  Timeline tl = CorrectRun();
  tl.exit_code = 130;
  CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "exit 130 after 300.0ms") << Describe(c);
  tl.process_events.push_back(
      {tl.first_signal + 100 * kMs, ProcessEvent::Kind::kSignalSent, 2, "process"});
  tl.process_events.push_back(
      {tl.first_signal + 150 * kMs, ProcessEvent::Kind::kSignalSent, 9, "group"});
  c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0, 130 (128+SIGINT) or 143 (128+SIGTERM) within 10s") << Describe(c);
  tl.exit_code = 137;
  EXPECT_FALSE(CheckProcessExit(tl, DefaultExpect()).passed());
}

// code: 0 (or any list) is strict: 143 fails, and the text names the codes.
TEST(ProcessExitTest, ListedCodesAreTheOnlyOnesAccepted) {
  Timeline tl = CorrectRun();
  tl.exit_code = 143;
  Expectations e;
  e.exit.codes = {0};
  e.exit.graceful = false;
  CheckResult c = CheckProcessExit(tl, e);
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0 within 10s") << Describe(c);
  EXPECT_EQ(c.observed, "exit 143 after 300.0ms") << Describe(c);
  e.exit.codes = {0, 143};
  c = CheckProcessExit(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0 or 143 within 10s") << Describe(c);
  e.exit.codes = {2, 0, 1};
  tl.exit_code = 1;
  c = CheckProcessExit(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0, 1 or 2 within 10s") << Describe(c);
}

// No signal sent (no fault scripted): graceful means 0, and says so.
TEST(ProcessExitTest, GracefulWithoutASignalIsExitZero) {
  Timeline tl = CorrectRun();
  tl.faults.clear();
  tl.first_signal = kNever;
  tl.process_events.erase(std::remove_if(tl.process_events.begin(), tl.process_events.end(),
                                         [](const ProcessEvent& ev) {
                                           return ev.kind == ProcessEvent::Kind::kSignalSent;
                                         }),
                          tl.process_events.end());
  tl.exit_code = 143;
  const CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0 (or 128+N after a signal N; none was sent) within 10s")
      << Describe(c);
}

TEST(ProcessExitTest, WrongExitCodeFails) {
  Timeline tl = CorrectRun();
  tl.exit_code = 1;
  tl.process_events.back().value = 1;
  const CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "exit 1 after 300.0ms") << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_EQ(c.evidence[0], "+0.000ms SIGTERM sent to the process") << Describe(c);
  EXPECT_EQ(c.evidence[1], "+300.0ms exited with code 1") << Describe(c);
}

// Killed by the SIGTERM (WIFSIGNALED): it never handled it, so the default
// (graceful: 0 or 143) fails it, whatever 128+15 would have meant.
TEST(ProcessExitTest, KilledBySignalFailsUnlessExpected) {
  Timeline tl = CorrectRun();
  tl.exit_signaled = true;
  tl.exit_signal = 15;
  CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.expected, "exit 0 or 143 (128+SIGTERM) within 10s") << Describe(c);
  EXPECT_EQ(c.observed, "signal SIGTERM after 300.0ms") << Describe(c);
  Expectations e;
  e.exit.signaled = true;
  e.exit.signal = 15;
  c = CheckProcessExit(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "signal SIGTERM within 10s") << Describe(c);
}

TEST(ProcessExitTest, SlowExitFails) {
  Timeline tl = CorrectRun();
  tl.exited = tl.first_signal + 10 * 1000 * kMs + 1;
  const CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "exit 0 after 10.000s") << Describe(c);
}

TEST(ProcessExitTest, HangIsReported) {
  Timeline tl = CorrectRun();
  tl.exited = kNever;
  tl.process_events.pop_back();
  tl.process_events.push_back({11200 * kMs, ProcessEvent::Kind::kOrphanKilled, 4242, ""});
  tl.process_events.push_back({11201 * kMs, ProcessEvent::Kind::kKilled, 9, "signal SIGKILL"});
  const CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "no exit within 10s (killed by gracecheck)") << Describe(c);
  EXPECT_EQ(c.evidence.back(), "+10.001s killed by SIGKILL") << Describe(c);
}

TEST(ProcessExitTest, WithoutFaultScriptedOnlyTheStatusIsJudged) {
  Timeline tl = CorrectRun();
  tl.first_signal = kNever;
  tl.faults.clear();
  CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "exit 0 at t=1.500s (no fault was scripted)") << Describe(c);
  tl.exited = kNever;
  c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "still running (no fault was delivered)") << Describe(c);
}

// A server that exits 0 by itself mid-run, before the SIGTERM it was meant
// to get: its exit status is right, and it is still a failure.
TEST(ProcessExitTest, ExitOnItsOwnBeforeTheFirstFaultFails) {
  Timeline tl = CorrectRun();
  ASSERT_FALSE(tl.faults.empty());
  tl.first_signal = kNever;
  tl.faults[0].delivered = kNever;
  tl.faults[0].scheduled = kNever;
  tl.exited = 564 * kMs;
  const CheckResult c = CheckProcessExit(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "exit 0 at t=564.0ms, on its own: before its first fault (SIGTERM) was "
            "delivered")
      << Describe(c);
}

// --- process.orphans -----------------------------------------------------------

// Blocked for sigwait (refapi, a signalfd loop) or caught by a handler (Go,
// the JVM, Node's process.on, Python's signal.signal): the target takes it.
TEST(ProcessSignalHandledTest, BlockedOrCaughtPasses) {
  Timeline tl = CorrectRun();
  CheckResult c = CheckProcessSignalHandled(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << c.observed;
  EXPECT_EQ(
      c.observed,
      "SIGTERM blocked, for sigwait or signalfd (the /proc sample 50.0ms before it went out)");
  // Caught; or waited for by a single-threaded sigwait loop (refapi's
  // pre-fork master, tini), whose SigBlk lacks the set while it waits.
  constexpr std::uint64_t kTerm = 1u << (SIGTERM - 1);
  for (const auto& [caught, waited, observed] :
       {std::tuple{kTerm, std::uint64_t{0}, "SIGTERM caught by a handler"},
        std::tuple{std::uint64_t{0}, kTerm, "SIGTERM waited for in sigwait"}}) {
    for (ProcSample& s : tl.proc_samples) {
      s.sig_blocked = 0;
      s.sig_caught = caught;
      s.sig_waited = waited;
    }
    c = CheckProcessSignalHandled(tl, DefaultExpect());
    EXPECT_TRUE(c.passed()) << c.observed;
    EXPECT_EQ(c.observed.rfind(observed, 0), 0u) << c.observed;
  }
}

// No handler: the process dies at once (a Python server without
// signal.signal, Node without process.on('SIGTERM')); ignored: it never
// stops (refapi --bug=ignore-sigterm). Judged by the sample before the
// signal, not by one after it, when a handler may have changed things.
TEST(ProcessSignalHandledTest, DefaultOrIgnoredFails) {
  Timeline tl = CorrectRun();
  for (ProcSample& s : tl.proc_samples) {
    s.sig_blocked = s.t < tl.first_signal ? 0 : 1u << (SIGTERM - 1);
  }
  CheckResult c = CheckProcessSignalHandled(tl, DefaultExpect());
  EXPECT_TRUE(c.failed());
  EXPECT_EQ(c.observed,
            "SIGTERM at its default action (the /proc sample 50.0ms before it went out)")
      << c.observed;
  ASSERT_EQ(c.evidence.size(), 1u);
  EXPECT_NE(c.evidence[0].find("as PID 1 of a container it would ignore it"), std::string::npos);
  for (ProcSample& s : tl.proc_samples) s.sig_ignored = 1u << (SIGTERM - 1);
  c = CheckProcessSignalHandled(tl, DefaultExpect());
  EXPECT_TRUE(c.failed());
  EXPECT_EQ(c.observed.rfind("SIGTERM ignored: the process does not stop for it", 0), 0u)
      << c.observed;
}

// What the check cannot read, or need not judge, it skips with the reason.
TEST(ProcessSignalHandledTest, SkippedWhenItCannotTell) {
  Timeline tl = CorrectRun();
  for (ProcSample& s : tl.proc_samples) s.sig_blocked = 0;  // at its default: would fail
  Timeline group = tl;
  group.faults[0].to_group = true;
  CheckResult c = CheckProcessSignalHandled(group, DefaultExpect());
  EXPECT_TRUE(c.skipped());
  EXPECT_NE(c.observed.find("went to the process group"), std::string::npos) << c.observed;

  Expectations killed;
  killed.exit.signaled = true;
  killed.exit.signal = SIGTERM;
  c = CheckProcessSignalHandled(tl, killed);
  EXPECT_TRUE(c.skipped()) << c.observed;

  Timeline kill = tl;
  kill.faults[0].signal = SIGKILL;
  c = CheckProcessSignalHandled(kill, DefaultExpect());
  EXPECT_TRUE(c.skipped());
  EXPECT_EQ(c.observed, "not measurable: no signal a process can take was delivered");

  Timeline unread = tl;
  for (ProcSample& s : unread.proc_samples) s.signals_read = false;
  c = CheckProcessSignalHandled(unread, DefaultExpect());
  EXPECT_TRUE(c.skipped());
  EXPECT_EQ(c.observed.rfind("not measurable: no /proc sample", 0), 0u) << c.observed;
}

TEST(ProcessOrphansTest, NoOrphanPasses) {
  const CheckResult c = CheckProcessOrphans(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "none") << Describe(c);
}

TEST(ProcessOrphansTest, LeftoverProcessesFailWithPids) {
  Timeline tl = CorrectRun();
  tl.orphans = {4250, 4251};
  tl.process_events.push_back({1600 * kMs, ProcessEvent::Kind::kOrphanKilled, 4250, ""});
  const CheckResult c = CheckProcessOrphans(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "2 processes left: pid 4250, 4251") << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "pid 4250 outlived the target by 100.0ms; SIGKILLed by gracecheck at +400.0ms")
      << Describe(c);
  EXPECT_EQ(c.evidence[1], "pid 4251 outlived the target") << Describe(c);
}

// --- threads.growth ------------------------------------------------------------

Expectations ThreadExpect(std::optional<int> growth, std::optional<int> at_exit) {
  Expectations e;
  e.threads = ThreadExpectation{growth, at_exit};
  return e;
}

TEST(ThreadsGrowthTest, GrowthWithinLimitPasses) {
  Timeline tl = CorrectRun();
  tl.threads_before_load = 9;
  tl.threads_idle_after_load = 11;
  const CheckResult c = CheckThreadsGrowth(tl, ThreadExpect(2, std::nullopt));
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "+2 (9 before the load, 11 idle after it)") << Describe(c);
}

TEST(ThreadsGrowthTest, LeakedThreadsFail) {
  Timeline tl = CorrectRun();
  tl.threads_before_load = 9;
  tl.threads_idle_after_load = 73;
  const CheckResult c = CheckThreadsGrowth(tl, ThreadExpect(2, std::nullopt));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "+64 (9 before the load, 73 idle after it)") << Describe(c);
  EXPECT_EQ(c.evidence.size(), 2u) << Describe(c);
}

// A pre-fork tree: the master (4242) and two workers, sampled from before
// the load (CorrectRun's load runs from +100ms) to after it.
TreeProcess Proc(int pid, std::vector<std::pair<Nanos, int>> threads, Nanos last_seen) {
  TreeProcess p;
  p.pid = pid;
  p.ppid = pid == 4242 ? 1 : 4242;
  p.command = pid == 4242 ? "python3 prefork.py" : "python3 prefork.py (worker)";
  p.first_seen = threads.front().first;
  p.last_seen = last_seen;
  p.threads = std::move(threads);
  return p;
}

TEST(ThreadsGrowthTest, AWorkerThatLeaksIsNamedEvenWhenAnotherHidesItInTheSum) {
  Timeline tl = CorrectRun();
  tl.first_signal = kNever;  // the load ends, then the target exits by itself
  tl.load_end = 1000 * kMs;
  tl.threads_before_load = 1 + 2 + 8;
  tl.threads_idle_after_load = 1 + 7 + 3;  // the same sum
  const Nanos end = tl.exited - 1 * kMs;
  tl.processes = {Proc(4242, {{50 * kMs, 1}}, end),
                  Proc(4243, {{50 * kMs, 2}, {tl.load_end - 5 * kMs, 7}}, end),
                  Proc(4244, {{50 * kMs, 8}, {tl.load_end - 5 * kMs, 3}}, end)};
  const CheckResult c = CheckThreadsGrowth(tl, ThreadExpect(0, std::nullopt));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "+0 (11 before the load, 11 idle after it, over 3 processes); pid 4243 (python3 "
            "prefork.py (worker)) grew by +5")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 3u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "pid 4243 (python3 prefork.py (worker)): 2 threads at the load's start, 7 at the "
            "lowest after it (+5)")
      << Describe(c);
}

TEST(ThreadsGrowthTest, AWorkerGoneBeforeTheEndIsNotJudgedAlone) {
  Timeline tl = CorrectRun();
  tl.first_signal = kNever;
  tl.load_end = 1000 * kMs;
  tl.threads_before_load = 3;
  tl.threads_idle_after_load = 3;
  const Nanos end = tl.exited - 1 * kMs;
  TreeProcess recycled = Proc(4243, {{50 * kMs, 1}, {tl.load_end, 30}}, tl.load_end + 2 * kMs);
  recycled.gone = tl.load_end + 3 * kMs;  // a worker replaced after its quota of requests
  tl.processes = {Proc(4242, {{50 * kMs, 1}}, end), recycled,
                  Proc(4245, {{tl.load_end + 3 * kMs, 1}}, end)};
  const CheckResult c = CheckThreadsGrowth(tl, ThreadExpect(0, std::nullopt));
  EXPECT_TRUE(c.passed()) << Describe(c);
}

// A worker that appeared after the baseline (one still starting when the
// load began, or a process per request that stayed) adds all its threads
// to the total; the evidence says which, since no per-process growth does.
TEST(ThreadsGrowthTest, AProcessBornAfterTheBaselineIsNamedInTheTotal) {
  Timeline tl = CorrectRun();
  tl.first_signal = kNever;
  tl.load_end = 1000 * kMs;
  tl.threads_before_load = 1 + 2;
  tl.threads_idle_after_load = 1 + 2 + 2;
  const Nanos end = tl.exited - 1 * kMs;
  tl.processes = {Proc(4242, {{50 * kMs, 1}}, end), Proc(4243, {{50 * kMs, 2}}, end),
                  Proc(4244, {{tl.load_start + 200 * kMs, 2}}, end)};
  const CheckResult c = CheckThreadsGrowth(tl, ThreadExpect(0, std::nullopt));
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_GE(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0].rfind("pid 4244 (", 0), 0u) << Describe(c);
  EXPECT_NE(c.evidence[0].find(", after the load began: its 2 threads counted in the total"),
            std::string::npos)
      << Describe(c);
}

TEST(ThreadsGrowthTest, FaultDuringLoadIsSkippedNotPassed) {
  const CheckResult c = CheckThreadsGrowth(CorrectRun(), ThreadExpect(0, std::nullopt));
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: the fault came during the load") << Describe(c);
}

// --- threads.at_exit -----------------------------------------------------------

TEST(ThreadsAtExitTest, FewThreadsBeforeExitPass) {
  const CheckResult c = CheckThreadsAtExit(CorrectRun(), ThreadExpect(std::nullopt, 2));
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "2 threads 50.0ms before the exit") << Describe(c);
}

TEST(ThreadsAtExitTest, ThreadsLeftRunningFailWithTheirNames) {
  Timeline tl = CorrectRun();
  ProcSample late;
  late.t = tl.exited - 1 * kMs;
  late.threads = 12;
  tl.proc_samples.push_back(late);
  ProcSample after;  // a sample at the exit itself does not count
  after.t = tl.exited;
  after.threads = 1;
  tl.proc_samples.push_back(after);
  tl.thread_names_at_exit = {{"refapi", 1}, {"worker", 11}};
  const CheckResult c = CheckThreadsAtExit(tl, ThreadExpect(std::nullopt, 2));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "12 threads 1.00ms before the exit") << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_EQ(c.evidence[1], "11 × thread 'worker'") << Describe(c);
}

TEST(ThreadsAtExitTest, ATreeCountsEveryProcessAndNamesTheOthers) {
  Timeline tl = CorrectRun();
  ProcSample late;
  late.t = tl.exited - 1 * kMs;
  late.target_threads = 2;
  late.threads = 2 + 40;
  tl.proc_samples.push_back(late);
  tl.processes = {Proc(4242, {{50 * kMs, 2}}, late.t), Proc(4243, {{50 * kMs, 40}}, late.t)};
  const CheckResult c = CheckThreadsAtExit(tl, ThreadExpect(std::nullopt, 8));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "42 threads (2 of the target's own) 1.00ms before the exit") << Describe(c);
  ASSERT_FALSE(c.evidence.empty()) << Describe(c);
  EXPECT_EQ(c.evidence[0], "pid 4243 (python3 prefork.py (worker)): 40 threads") << Describe(c);
}

// --- db.sessions_after_exit ------------------------------------------------------

TEST(DbSessionsAfterExitTest, SessionsGoneWithTheProcessPass) {
  const CheckResult c = CheckDbSessionsAfterExit(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "<= 0 sessions 1s after the exit") << Describe(c);
  EXPECT_EQ(c.observed, "0 sessions; all gone 50.0ms after the exit") << Describe(c);
}

// The bug: sessions held by a leftover child (or a pool that was never
// closed while the server lingers) outlive the exit.
Timeline WithLingeringSessions() {
  Timeline tl = CorrectRun();
  tl.db_sessions_gone = kNever;
  for (DbSample& s : tl.db_samples) {
    if (s.t >= tl.exited) s.idle = 2;
  }
  for (Nanos t = 1650 * kMs; t <= 2600 * kMs; t += 50 * kMs) {
    DbSample s;
    s.t = t;
    s.idle = 2;
    tl.db_samples.push_back(s);
  }
  tl.db_sessions[0].last_seen = 2600 * kMs;
  tl.db_sessions[1].last_seen = 2600 * kMs;
  return tl;
}

TEST(DbSessionsAfterExitTest, LingeringSessionsFailWithEvidence) {
  const CheckResult c = CheckDbSessionsAfterExit(WithLingeringSessions(), DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "2 sessions 1.000s after the exit (0 active, 2 idle, 0 idle in transaction, 0 other)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "session pid 5000 (idle), first seen -950.0ms, last seen +1.400s: SELECT value FROM "
            "items WHERE id = $1")
      << Describe(c);
}

TEST(DbSessionsAfterExitTest, SessionsGoneWithinSettlePass) {
  Timeline tl = WithLingeringSessions();
  Expectations e;
  e.db_sessions.settle = std::chrono::seconds(2);
  tl.db_sessions_gone = 2650 * kMs;  // gone before exit + 2s; no later sample
  const CheckResult c = CheckDbSessionsAfterExit(tl, e);
  EXPECT_TRUE(c.passed()) << Describe(c);
}

TEST(DbSessionsAfterExitTest, HangIsLeftToProcessExit) {
  Timeline tl = WithLingeringSessions();
  tl.exited = kNever;
  const CheckResult c = CheckDbSessionsAfterExit(tl, DefaultExpect());
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: the target did not exit (see process.exit)")
      << Describe(c);
}

// --- db.orphaned_queries ------------------------------------------------------

TEST(DbOrphanedQueriesTest, NoActiveSessionAfterExitPasses) {
  const CheckResult c = CheckDbOrphanedQueries(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "none active after the exit") << Describe(c);
}

TEST(DbOrphanedQueriesTest, QueryStillRunningAfterExitFails) {
  Timeline tl = CorrectRun();
  // A killed server's pg_sleep keeps its backend `active` for seconds.
  for (DbSample& s : tl.db_samples) {
    if (s.t >= tl.exited) s.active = 1;
  }
  DbSample later;
  later.t = 2300 * kMs;
  later.active = 1;
  tl.db_samples.push_back(later);
  tl.db_sessions[3].last_state = "active";
  tl.db_sessions[3].last_seen = 2300 * kMs;
  tl.db_sessions[3].last_query = "SELECT pg_sleep(0.8)";
  const CheckResult c = CheckDbOrphanedQueries(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "1 session active up to 800.0ms after the exit") << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_NE(c.evidence[0].find("pid 5003 (active)"), std::string::npos) << Describe(c);
  EXPECT_NE(c.evidence[0].find("pg_sleep(0.8)"), std::string::npos) << Describe(c);
}

TEST(DbOrphanedQueriesTest, ActiveWithinSettleOfExitIsAllowed) {
  Timeline tl = CorrectRun();
  for (DbSample& s : tl.db_samples) {
    if (s.t == tl.exited + 50 * kMs) s.active = 1;
  }
  const CheckResult c = CheckDbOrphanedQueries(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
}

// --- db.abandoned -------------------------------------------------------------

TEST(DbAbandonedTest, ClosedSessionsPass) {
  const CheckResult c = CheckDbAbandoned(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
}

TEST(DbAbandonedTest, AbandonedSessionsFailWithSessionsOpenAtExit) {
  Timeline tl = CorrectRun();
  tl.sessions_abandoned = 2;
  tl.db_sessions[0].last_seen = tl.exited;
  tl.db_sessions[1].last_seen = tl.exited;
  const CheckResult c = CheckDbAbandoned(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "2 abandoned (pg_stat_database.sessions_abandoned delta) (external server: "
            "pg_stat_activity samples only, no server log: the sessions open in the last sample "
            "before the exit stand in for their names)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_EQ(c.evidence[0].rfind("open at the exit: session pid 5000", 0), 0u) << Describe(c);
}

// Sessions that vanished *before* the exit (a pool dropping connections
// without closing them, 150 ms after the signal): the last sample before the
// exit shows none, so only the server log can name them, each with when it
// ended and what the probe last saw it do.
TEST(DbAbandonedTest, SessionsAbandonedBeforeTheExitAreNamedFromTheServerLog) {
  Timeline tl = CorrectRun();
  tl.sessions_abandoned = 2;  // and one FATAL, below
  tl.sessions_fatal = 1;
  tl.db_log_read = true;
  tl.db_sessions[0].last_state = "active";
  tl.db_sessions[0].last_query = "SELECT pg_sleep($1)";
  tl.db_sessions[1].last_query.clear();
  for (int i = 0; i < 8; ++i) {
    DbSessionEnd end;
    end.pid = 5000 + i;
    end.ended = 1460 * kMs;  // clean closes, but for the first two
    tl.db_session_ends.push_back(end);
  }
  DbSessionEnd& eof = tl.db_session_ends[1];
  eof.ended = 1350 * kMs;
  eof.client_vanished = true;
  eof.state = "idle";
  eof.message = "unexpected EOF on client connection";
  DbSessionEnd& reset = tl.db_session_ends[0];
  reset.ended = 1352 * kMs;
  reset.client_vanished = true;
  reset.state = "active";
  reset.message = "could not receive data from client: Connection reset by peer";
  // Killed by the server, not abandoned: not listed.
  DbSessionEnd killed;
  killed.pid = 5200;
  killed.ended = 1300 * kMs;
  killed.client_vanished = true;
  killed.terminated = true;
  killed.message = "terminating connection due to administrator command";
  tl.db_session_ends.push_back(killed);
  // Never in a sample (it lived between two): still named.
  DbSessionEnd brief;
  brief.pid = 5300;
  brief.ended = 1400 * kMs;
  brief.client_vanished = true;
  brief.mid_query = true;
  brief.message = "connection to client lost";
  tl.db_session_ends.push_back(brief);

  const CheckResult c = CheckDbAbandoned(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "3 abandoned (2 in pg_stat_database.sessions_abandoned, 1 ended FATAL with their "
            "client gone mid-query: \"connection to client lost\" in the server log); the "
            "server log names 3 whose client vanished")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 3u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "session pid 5001: \"unexpected EOF on client connection\" (server log, state idle, "
            "ended +150.0ms); last seen +250.0ms idle")
      << Describe(c);
  EXPECT_EQ(c.evidence[1],
            "session pid 5000: \"could not receive data from client: Connection reset by peer\" "
            "(server log, state active, ended +152.0ms); last seen +250.0ms active: SELECT "
            "pg_sleep($1)")
      << Describe(c);
  EXPECT_EQ(c.evidence[2],
            "session pid 5300: \"connection to client lost\" (server log, ended +200.0ms); not "
            "seen by the probe")
      << Describe(c);
}

// A server that exits with every pooled session busy (refapi
// --bug=exit-immediately under load, its sessions reached over a Unix
// socket): each session's answer cannot be sent, and PostgreSQL ends it
// FATAL "connection to client lost", counted in sessions_fatal, none in
// sessions_abandoned. It passed this check in 1 of 12 runs.
TEST(DbAbandonedTest, SessionsWhoseClientVanishedMidQueryAreAbandonedToo) {
  Timeline tl = CorrectRun();
  tl.sessions_abandoned = 0;
  tl.sessions_fatal = 16;
  tl.db_log_read = false;
  CheckResult c = CheckDbAbandoned(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed.rfind("16 abandoned (0 in pg_stat_database.sessions_abandoned, 16 ended "
                             "FATAL with their client gone mid-query: "
                             "pg_stat_database.sessions_fatal, which counts any FATAL end) ",
                             0),
            0u)
      << Describe(c);
  // With the server log, its "connection to client lost" lines count, not
  // every FATAL end.
  tl.db_log_read = true;
  c = CheckDbAbandoned(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  DbSessionEnd end;
  end.pid = 5000;
  end.ended = 1460 * kMs;
  end.client_vanished = true;
  end.mid_query = true;
  end.message = "could not send data to client: Broken pipe";
  tl.db_session_ends.push_back(end);
  c = CheckDbAbandoned(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed.rfind("1 abandoned (0 in", 0), 0u) << Describe(c);
}

TEST(DbAbandonedTest, UnknownIsSkipped) {
  Timeline tl = CorrectRun();
  tl.sessions_abandoned = Timeline::kUnknown;
  const CheckResult c = CheckDbAbandoned(tl, DefaultExpect());
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: pg_stat_database.sessions_abandoned could not be read")
      << Describe(c);
}

// --- faults.delivered -----------------------------------------------------------

TEST(FaultsDeliveredTest, PromptDeliveryPasses) {
  const CheckResult c = CheckFaultsDelivered(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "1 of 1 delivered (max lag 0.200ms)") << Describe(c);
}

TEST(FaultsDeliveredTest, LateFaultFails) {
  Timeline tl = CorrectRun();
  tl.faults[0].scheduled = tl.faults[0].delivered - 250 * kMs;
  const CheckResult c = CheckFaultsDelivered(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "SIGTERM: delivered 250.0ms late (tolerance 100ms): scheduled -250.0ms, delivered "
            "+0.000ms")
      << Describe(c);
}

TEST(FaultsDeliveredTest, UndeliveredFaultFailsAndSkippedDoesNot) {
  Timeline tl = CorrectRun();
  FaultRecord kill;
  kill.name = "SIGKILL";
  kill.signal = 9;
  kill.scheduled = 11200 * kMs;
  kill.skipped = true;
  tl.faults.push_back(kill);
  CheckResult c = CheckFaultsDelivered(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed, "1 of 2 delivered (max lag 0.200ms), 1 skipped (target had exited)")
      << Describe(c);

  tl.faults.back().skipped = false;
  tl.faults.back().error = "the target had already exited";
  c = CheckFaultsDelivered(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "SIGKILL: not delivered (scheduled +10.000s): the target had already exited")
      << Describe(c);
}

// --- requests.lame_duck ----------------------------------------------------------

Expectations LameDuck(Nanos d) {
  Expectations e;
  e.lame_duck = Duration(d);
  return e;
}

TEST(RequestsLameDuckTest, RefusalsAfterTheLameDuckPeriodPass) {
  // CorrectRun refuses from +250ms on: a 200ms lame duck was kept.
  const CheckResult c = CheckRequestsLameDuck(CorrectRun(), LameDuck(200 * kMs));
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "no connection refused within 200ms of the signal") << Describe(c);
  EXPECT_EQ(c.observed,
            "none refused within 200ms (21 requests started in it; the first refused 252.0ms "
            "after the signal)")
      << Describe(c);
  EXPECT_TRUE(c.evidence.empty()) << Describe(c);
}

// The bug (refapi --bug=no-lame-duck): the listener closes the instant the
// signal arrives although --lame-duck asked for more.
TEST(RequestsLameDuckTest, RefusalWithinTheLameDuckPeriodFails) {
  const CheckResult c = CheckRequestsLameDuck(CorrectRun(), LameDuck(1000 * kMs));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "75 connections refused within 1s (the first refused 252.0ms after the signal; 101 "
            "requests started in it); it exited 300.0ms after the signal")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), static_cast<std::size_t>(kMaxEvidence)) << Describe(c);
  EXPECT_EQ(c.evidence[0], "request 125 (kind 0): connection refused at +252.0ms") << Describe(c);
}

TEST(RequestsLameDuckTest, RefusalsBeforeTheSignalDoNotCount) {
  Timeline tl = CorrectRun();
  tl.requests.push_back(Request(9000, Outcome::kRefused, 300 * kMs, false));
  EXPECT_TRUE(CheckRequestsLameDuck(tl, LameDuck(200 * kMs)).passed());
}

// A server that dies at the signal (the article's panic): the load stops
// with it, so hardly a request is refused, and it still kept no lame duck.
TEST(RequestsLameDuckTest, ExitWithinThePeriodFailsWithoutAnyRefusal) {
  Timeline tl = CorrectRun();
  tl.requests.erase(std::remove_if(tl.requests.begin(), tl.requests.end(),
                                   [](const RequestRecord& r) { return r.intended >= 1200 * kMs; }),
                    tl.requests.end());
  tl.exited = tl.first_signal + 4 * kMs;
  const CheckResult c = CheckRequestsLameDuck(tl, LameDuck(900 * kMs));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "it exited 4.00ms after the signal, within the 900ms it must keep serving")
      << Describe(c);
}

TEST(RequestsLameDuckTest, NoRequestInThePeriodOrNoSignalIsNotMeasurable) {
  Timeline tl = CorrectRun();
  tl.requests.erase(std::remove_if(tl.requests.begin(), tl.requests.end(),
                                   [](const RequestRecord& r) { return r.intended >= 1200 * kMs; }),
                    tl.requests.end());
  CheckResult c = CheckRequestsLameDuck(tl, LameDuck(200 * kMs));
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed.rfind("not measurable: no request started within 200ms", 0), 0u)
      << Describe(c);
  tl = CorrectRun();
  tl.first_signal = kNever;
  c = CheckRequestsLameDuck(tl, LameDuck(200 * kMs));
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: no signal was delivered") << Describe(c);
}

// --- db.closed_before_drain ---------------------------------------------------------

// The server log's account of CorrectRun's pool: each session closed cleanly
// at `at` (ms since the epoch).
void LogCleanCloses(Timeline* tl, Nanos at) {
  tl->db_log_read = true;
  for (const DbSession& s : tl->db_sessions) {
    DbSessionEnd end;
    end.pid = s.pid;
    end.ended = at;
    tl->db_session_ends.push_back(end);
  }
}

TEST(DbClosedBeforeDrainTest, PoolClosedAfterTheLastResponsePasses) {
  // From the samples: the sessions were last seen at +250ms, gone at +300ms.
  CheckResult c = CheckDbClosedBeforeDrain(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "no request served or in flight once the pool began closing")
      << Describe(c);
  EXPECT_EQ(c.observed,
            "0 requests served or in flight once the pool began closing; 8 sessions closed from "
            "+300.0ms to +300.0ms (external server: pg_stat_activity samples only, no server "
            "log); the last response came 58.0ms before the first closed")
      << Describe(c);
  EXPECT_TRUE(c.evidence.empty()) << Describe(c);

  // From the server log: closed at +260ms, 18ms after the last response.
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_NE(c.observed.find("8 sessions closed from +260.0ms to +260.0ms (server log); the last "
                            "response came 18.0ms before the first closed"),
            std::string::npos)
      << Describe(c);
}

// The bug (refapi --bug=db-first): the pool closes at the signal while HTTP
// still serves; the requests that need the database answer 503.
Timeline PoolClosedFirst() {
  Timeline tl = CorrectRun();
  tl.requests.erase(std::remove_if(tl.requests.begin(), tl.requests.end(),
                                   [](const RequestRecord& r) {
                                     return r.outcome == Outcome::kOk && r.intended >= 1200 * kMs;
                                   }),
                    tl.requests.end());
  LogCleanCloses(&tl, 1201 * kMs);
  tl.db_session_ends.back().ended = 1230 * kMs;  // the last lease came back later
  std::uint32_t id = 8000;
  for (Nanos t = 1210 * kMs; t < 1260 * kMs; t += 10 * kMs) {
    tl.requests.push_back(Request(id++, Outcome::kHttpError, t, true, 503));
  }
  return tl;
}

TEST(DbClosedBeforeDrainTest, FiveHundredsWhileThePoolClosesFail) {
  const CheckResult c = CheckDbClosedBeforeDrain(PoolClosedFirst(), DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed.rfind("5 requests served or in flight once the pool began closing; 8 "
                             "sessions closed from +1.00ms to +30.0ms (server log)",
                             0),
            0u)
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 6u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "pool began closing +1.00ms: session pid 5000 went away (server log); the last of 8 "
            "sessions went +30.0ms")
      << Describe(c);
  EXPECT_EQ(c.evidence[1],
            "request 176 (kind 0): http_error 503, written +10.1ms, done +12.0ms: written after "
            "the pool began closing")
      << Describe(c);
  Expectations e;
  e.db_sessions.closed_before_drain = 5;
  EXPECT_TRUE(CheckDbClosedBeforeDrain(PoolClosedFirst(), e).passed());
}

TEST(DbClosedBeforeDrainTest, FiveHundredsWhileThePoolClosesFailFromSamplesAlone) {
  // An external server: no log; the samples show the pool gone at +50ms.
  Timeline tl = CorrectRun();
  for (DbSession& s : tl.db_sessions) s.last_seen = 1200 * kMs;
  for (DbSample& d : tl.db_samples) {
    if (d.t > 1200 * kMs) d = DbSample{d.t};
  }
  std::uint32_t id = 8000;
  for (Nanos t = 1260 * kMs; t < 1300 * kMs; t += 10 * kMs) {
    tl.requests.push_back(Request(id++, Outcome::kHttpError, t, true, 503));
  }
  const CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_NE(c.observed.find("(external server: pg_stat_activity samples only, no server log)"),
            std::string::npos)
      << Describe(c);
  EXPECT_NE(c.evidence[0].find("last seen +0.000ms"), std::string::npos) << Describe(c);
}

// CorrectRun with its pool closed at +260ms (server log) and one request
// written before the signal whose answer came 120 ms after the pool closed.
Timeline AnsweredAfterThePoolClosed() {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  RequestRecord slow = Request(9000, Outcome::kOk, 1100 * kMs, false);
  slow.done = 1580 * kMs;
  tl.requests.push_back(slow);
  return tl;
}

TEST(DbClosedBeforeDrainTest, RequestInFlightWhenThePoolClosedFails) {
  const Timeline tl = AnsweredAfterThePoolClosed();
  const CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_EQ(c.evidence[1],
            "request 201 (kind 0): ok 200, written -99.9ms, done +380.0ms: in flight when the "
            "pool closed")
      << Describe(c);
}

// Regression (2000 keep-alive connections against the correct refapi): the
// drain answered them all at once, and the load generator, busy reading
// 2000 responses, stamped 1022 of them up to 137 ms after the pool closed:
// "in flight when the pool closed". The time its loop was stalled after the
// close does not count against the server; a response late by more than
// the stall still does.
TEST(DbClosedBeforeDrainTest, TheGeneratorsOwnStallIsNotTheServersLateness) {
  Timeline tl = AnsweredAfterThePoolClosed();  // stamped 120 ms after the pool closed
  tl.generator_stalls = {{1300 * kMs, 1310 * kMs}, {1470 * kMs, 1575 * kMs}};
  CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);  // 120 - 105 ms stalled = 15 ms, within 50 ms

  tl.generator_stalls = {{1470 * kMs, 1500 * kMs}};  // 30 ms of the 120 ms
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_FALSE(c.passed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_NE(c.evidence[1].find("in flight when the pool closed"), std::string::npos) << Describe(c);

  // A stall before the close excuses nothing after it.
  tl.generator_stalls = {{1300 * kMs, 1450 * kMs}};
  EXPECT_FALSE(CheckDbClosedBeforeDrain(tl, DefaultExpect()).passed());
}

TEST(TimelineTest, OverlapWithAddsWhatFallsInsideTheRange) {
  const std::vector<std::pair<Nanos, Nanos>> s = {{10, 20}, {30, 40}, {50, 60}};
  EXPECT_EQ(OverlapWith(s, 0, 100), 30);
  EXPECT_EQ(OverlapWith(s, 15, 35), 10);
  EXPECT_EQ(OverlapWith(s, 20, 30), 0);
  EXPECT_EQ(OverlapWith(s, 55, 58), 3);
  EXPECT_EQ(OverlapWith({}, 0, 100), 0);
}

// database/sql with its default of 2 idle connections: as the drain's
// requests finish, the pool closes the connections they return, cleanly,
// while it still serves; the rest stay open to the exit. Trimming, not
// closing: no failure, unless a request got a 5xx after it.
TEST(DbClosedBeforeDrainTest, PoolTrimmingIdleSessionsIsNotClosing) {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  ASSERT_GE(tl.db_session_ends.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) tl.db_session_ends[i].ended = 1220 * kMs;
  for (std::size_t i = 4; i < tl.db_session_ends.size(); ++i) {
    tl.db_session_ends[i].client_vanished = true;  // abandoned at the exit
    tl.db_session_ends[i].message = "unexpected EOF on client connection";
  }
  RequestRecord slow = Request(9000, Outcome::kOk, 1100 * kMs, false);
  slow.done = 1400 * kMs;  // in flight across the trimming
  tl.requests.push_back(slow);
  CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_NE(c.observed.find("the pool trimmed idle sessions, it did not close"), std::string::npos)
      << Describe(c);

  // The same pool, and a 503 to a request written after the first close.
  tl.requests.push_back(Request(9001, Outcome::kHttpError, 1240 * kMs, true, 503));
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
}

// A response the server sent just before closing its pool reaches the
// client's records a little later: within kResponseLagAllowance it is not a
// failure.
TEST(DbClosedBeforeDrainTest, ResponseSeenWithinTheClientsLagAllowanceIsNotAFailure) {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  RequestRecord late = Request(9000, Outcome::kOk, 1440 * kMs, true);
  late.done = 1460 * kMs + kLogTimeError + kResponseLagAllowance - kMs;
  tl.requests.push_back(late);
  CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  tl.requests.back().done += 2 * kMs;
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
}

// refapi --bug=cancel-inflight: in-flight queries are cancelled (503s) but
// the pool closes after the drain; that is requests.dropped's to catch.
TEST(DbClosedBeforeDrainTest, FiveHundredsBeforeThePoolClosesPass) {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  tl.requests.push_back(Request(9000, Outcome::kHttpError, 1205 * kMs, true, 503));
  const CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
}

// refapi --bug=exit-immediately or no-db-close: the sessions end with the
// process (the log says the client vanished); the pool was never closed.
TEST(DbClosedBeforeDrainTest, SessionsThatEndedWithTheProcessWereNotClosedByIt) {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1201 * kMs);
  for (DbSessionEnd& end : tl.db_session_ends) {
    end.client_vanished = true;
    end.message = "unexpected EOF on client connection";
  }
  tl.requests.push_back(Request(9000, Outcome::kHttpError, 1210 * kMs, true, 503));
  CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed.rfind("the target closed no session after the signal", 0), 0u)
      << Describe(c);

  // Without the log: sessions first seen gone after the exit.
  tl = CorrectRun();
  for (DbSample& d : tl.db_samples) {
    if (d.t == 1500 * kMs) d.idle = 8;
  }
  for (DbSession& s : tl.db_sessions) s.last_seen = 1500 * kMs;
  tl.requests.push_back(Request(9000, Outcome::kHttpError, 1210 * kMs, true, 503));
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
}

// A pool that closes by refusing (refapi --bug=pool-refuses; asyncpg's
// Pool.close(), node-postgres' pool.end()): at the signal it answers 503 to
// the requests it had, and its sessions close only after the drain. Before,
// the check dated the pool's closing from the first session that went, and
// passed (25 of 25 runs of such a server).
Timeline PoolRefusedAtTheSignal() {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  std::uint32_t id = 8000;
  for (Nanos t = 1150 * kMs; t < 1200 * kMs; t += 20 * kMs) {
    RequestRecord r = Request(id++, Outcome::kHttpError, t, false, 503);
    r.done = 1200 * kMs + 200 * kUs;
    tl.requests.push_back(r);
  }
  return tl;
}

TEST(DbClosedBeforeDrainTest, APoolThatRefusesAtTheSignalFails) {
  CheckResult c = CheckDbClosedBeforeDrain(PoolRefusedAtTheSignal(), DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_NE(c.observed.find("3 of them in flight at the signal and answered 5xx while the "
                            "pool's sessions were open: the pool refused them"),
            std::string::npos)
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 4u) << Describe(c);
  EXPECT_EQ(c.evidence[1],
            "request 201 (kind 0): http_error 503, written -49.9ms, done +0.200ms: in flight at "
            "the signal, answered with 8 sessions open: the pool refused it")
      << Describe(c);

  // Its sessions never closed at all (they went with the process).
  Timeline tl = PoolRefusedAtTheSignal();
  for (DbSessionEnd& end : tl.db_session_ends) end.client_vanished = true;
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "3 requests in flight at the signal answered 5xx while the pool's sessions were "
            "open: its database work stopped before the drain (a pool that refuses checkouts "
            "before it disconnects); no session closed after the signal")
      << Describe(c);

  // Cancelled queries (refapi --bug=cancel-inflight) say so, by the log.
  tl.db_session_ends[0].cancelled = true;
  c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_NE(c.observed.find("(queries cancelled, by the server log)"), std::string::npos)
      << Describe(c);
  EXPECT_NE(c.evidence[0].find(": its query cancelled (server log)"), std::string::npos)
      << Describe(c);

  // A 5xx to a request written after the signal is the server's to give
  // (a lame duck's 503): not the pool's.
  tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  tl.requests.push_back(Request(9000, Outcome::kHttpError, 1205 * kMs, true, 503));
  EXPECT_TRUE(CheckDbClosedBeforeDrain(tl, DefaultExpect()).passed());
}

TEST(DbClosedBeforeDrainTest, WithADatabaseFaultThe5xxAreTheFaults) {
  Timeline tl = PoolRefusedAtTheSignal();
  FaultRecord db;
  db.name = "terminate-backends";
  db.action = "db";
  db.delivered = 800 * kMs;
  tl.faults.push_back(db);
  const CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
}

// A request in flight at the signal, answered 5xx after the first session
// went: the closing pool's (a pre-fork worker closing its own pool under
// its requests). Before, only a 5xx written after that moment counted.
TEST(DbClosedBeforeDrainTest, AnInFlightRequestAnswered5xxOnceThePoolBeganClosingFails) {
  Timeline tl = CorrectRun();
  tl.requests.erase(std::remove_if(tl.requests.begin(), tl.requests.end(),
                                   [](const RequestRecord& r) {
                                     return r.outcome == Outcome::kOk && r.intended >= 1200 * kMs;
                                   }),
                    tl.requests.end());
  LogCleanCloses(&tl, 1300 * kMs);
  RequestRecord r = Request(9000, Outcome::kHttpError, 1100 * kMs, false, 503);
  r.done = 1310 * kMs;
  tl.requests.push_back(r);
  const CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 2u) << Describe(c);
  EXPECT_NE(c.evidence[1].find(": in flight at the signal, answered 5xx once the pool began "
                               "closing"),
            std::string::npos)
      << Describe(c);
}

// A reset before any response byte is a request no worker read: HTTP's
// (requests.dropped), not the pool's. On pre-fork servers, whose workers
// each close their pool after their own drain, such resets were blamed on
// the pool.
TEST(DbClosedBeforeDrainTest, AResetRequestNoWorkerReadIsNotThePools) {
  Timeline tl = AnsweredAfterThePoolClosed();
  tl.requests.back().outcome = Outcome::kReset;
  tl.requests.back().status = 0;
  EXPECT_TRUE(CheckDbClosedBeforeDrain(tl, DefaultExpect()).passed());
  tl.requests.back().outcome = Outcome::kEof;
  tl.requests.back().flags |= RequestRecord::kNeverAcked;
  EXPECT_TRUE(CheckDbClosedBeforeDrain(tl, DefaultExpect()).passed());
  tl.requests.back().flags = 0;  // read, then closed unanswered: the pool's
  EXPECT_TRUE(CheckDbClosedBeforeDrain(tl, DefaultExpect()).failed());
}

TEST(DbClosedBeforeDrainTest, WithoutSignalIsNotMeasurable) {
  Timeline tl = PoolClosedFirst();
  tl.first_signal = kNever;
  const CheckResult c = CheckDbClosedBeforeDrain(tl, DefaultExpect());
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: no signal was delivered") << Describe(c);
}

// --- db.idle_in_transaction ---------------------------------------------------------

TEST(DbIdleInTransactionTest, CleanClosesPass) {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "no transaction left open at the exit") << Describe(c);
  EXPECT_EQ(c.observed,
            "none left open (server log: 8 sessions ended, none with an open transaction)")
      << Describe(c);
  c = CheckDbIdleInTransaction(CorrectRun(), DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "none seen (external server: pg_stat_activity samples only, no server log); the "
            "last sample before the exit came 0.000ms before it")
      << Describe(c);
}

// The bug (refapi --bug=idle-in-transaction): a connection taken out of the
// pool during the shutdown runs BEGIN and never commits; the exit drops it.
Timeline TransactionLeftOpen() {
  Timeline tl = CorrectRun();
  LogCleanCloses(&tl, 1460 * kMs);
  DbSession s;
  s.pid = 5100;
  s.first_seen = 250 * kMs;
  s.last_seen = 1450 * kMs;
  s.last_state = "idle in transaction";
  s.state_since = 1450 * kMs;
  s.last_query = "SELECT pg_advisory_xact_lock(hashtext('refapi-shutdown'))";
  tl.db_sessions.push_back(s);
  DbSessionEnd end;
  end.pid = 5100;
  end.ended = 1501 * kMs;
  end.client_vanished = true;
  end.open_transaction = true;
  end.state = "idle in transaction";
  end.message = "unexpected EOF on client connection with an open transaction";
  tl.db_session_ends.push_back(end);
  return tl;
}

TEST(DbIdleInTransactionTest, ClientVanishingWithAnOpenTransactionFails) {
  const CheckResult c = CheckDbIdleInTransaction(TransactionLeftOpen(), DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed, "1 transaction left open") << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "session pid 5100: \"unexpected EOF on client connection with an open transaction\" "
            "(server log, state idle in transaction, ended +301.0ms): SELECT "
            "pg_advisory_xact_lock(hashtext('refapi-shutdown'))")
      << Describe(c);
  Expectations e;
  e.db_sessions.idle_in_transaction = 1;
  EXPECT_TRUE(CheckDbIdleInTransaction(TransactionLeftOpen(), e).passed());
}

TEST(DbIdleInTransactionTest, StillIdleInTransactionAfterTheExitFails) {
  Timeline tl = TransactionLeftOpen();
  tl.db_session_ends.clear();
  tl.db_log_read = false;
  tl.db_sessions.back().last_seen = 1550 * kMs;  // a leftover process holds it
  const CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0].rfind("session pid 5100 still idle in transaction 50.0ms after the exit "
                                "(since +250.0ms)",
                                0),
            0u)
      << Describe(c);
}

// An external server (no log): refapi --bug=idle-in-transaction BEGINs
// after the signal and its session leaves pg_stat_activity with the process,
// 1-2 ms before gracecheck sees the exit. Its last sighting shows it idle in
// transaction, the next sample shows it gone, and pg_stat_database counts it
// abandoned. (The rule had asked for the state since the first fault and a
// sighting in the last sample before the exit: it passed 2 of 3 such runs.)
Timeline TransactionLeftOpenWithoutTheLog() {
  Timeline tl = TransactionLeftOpen();
  tl.db_session_ends.clear();
  tl.db_log_read = false;
  tl.sessions_abandoned = 1;
  // Opened during the shutdown (+250ms), gone at the exit's own sample.
  for (DbSample& d : tl.db_samples) {
    if (d.t == 1450 * kMs) ++d.idle_in_transaction;
  }
  return tl;
}

TEST(DbIdleInTransactionTest, WithoutTheLogATransactionGoneWithTheProcessFails) {
  Timeline tl = TransactionLeftOpenWithoutTheLog();
  const CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "1 transaction left open (external server: pg_stat_activity samples only, no server "
            "log)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "session pid 5100 idle in transaction from +250.0ms to +250.0ms, gone by +300.0ms "
            "without a commit seen (0.000ms before the exit); 1 abandoned (pg_stat_database): "
            "SELECT pg_advisory_xact_lock(hashtext('refapi-shutdown'))")
      << Describe(c);
  // Idle in transaction since before the signal: the same.
  tl.db_sessions.back().state_since = 1100 * kMs;
  EXPECT_TRUE(CheckDbIdleInTransaction(tl, DefaultExpect()).failed());
}

// An external server, and no sample caught a transaction, but
// pg_stat_database counts rollbacks beside abandoned sessions. That is
// refapi --bug=idle-in-transaction when its BEGIN came after the last
// sample before the exit (the probe's thread waited 9-26 ms for a CPU
// while 16 pool sessions ended; 5 of 30 runs: 1 rolled back, 1 abandoned),
// and equally asyncpg cancelling its queries as its pool closed, then
// killed with its sessions idle (2 rolled back, 4 abandoned, no
// transaction ever opened; it failed this check on an external server in
// CI). The counters cannot tell them apart: the check says so (skipped),
// and db.abandoned judges the sessions.
TEST(DbIdleInTransactionTest, WithoutTheLogRollbacksBesideAbandonedSessionsCannotBeTold) {
  Timeline tl = CorrectRun();
  tl.db_log_read = false;
  tl.sessions_abandoned = 4;
  tl.xact_rollback = 2;
  CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed,
            "not measurable: 2 rolled back beside 4 sessions abandoned, and no sample saw a "
            "transaction: a transaction gone with its client and a failed or cancelled "
            "statement count the same in pg_stat_database (external server: pg_stat_activity "
            "samples only, no server log; db.abandoned judges the sessions)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0],
            "perhaps 2 transactions unseen by any sample: pg_stat_database counts 2 rolled back "
            "and 4 abandoned since the target was ready (a session that ends inside its "
            "transaction is rolled back, and so is a statement that fails or is cancelled: "
            "without the server log the two look the same)")
      << Describe(c);
  // Rollbacks, nothing abandoned: errors or ROLLBACKs of a server whose
  // sessions all closed cleanly.
  tl.sessions_abandoned = 0;
  tl.xact_rollback = 7;
  EXPECT_TRUE(CheckDbIdleInTransaction(tl, DefaultExpect()).passed());
  // Abandoned sessions, no rollback: idle sessions gone with their client
  // (db.abandoned's finding, not this check's).
  tl.sessions_abandoned = 16;
  tl.xact_rollback = 0;
  EXPECT_TRUE(CheckDbIdleInTransaction(tl, DefaultExpect()).passed());
  // Rollbacks of sessions ended FATAL mid-query (their client gone while
  // a statement ran, over a Unix socket) are not open transactions:
  // --bug=exit-immediately had 5 abandoned, 11 FATAL, 1 rolled back.
  tl.sessions_abandoned = 5;
  tl.sessions_fatal = 11;
  tl.xact_rollback = 1;
  EXPECT_TRUE(CheckDbIdleInTransaction(tl, DefaultExpect()).passed());
  tl.xact_rollback = 12;
  c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_NE(c.evidence.at(0).find("12 rolled back and 5 abandoned"), std::string::npos)
      << Describe(c);
  EXPECT_NE(c.evidence.at(0).find(", less 11 for the sessions ended FATAL"), std::string::npos)
      << Describe(c);
  // The server log, when read, is the word on it.
  tl.db_log_read = true;
  EXPECT_TRUE(CheckDbIdleInTransaction(tl, DefaultExpect()).passed());
}

// A session a sample did catch is not counted twice.
TEST(DbIdleInTransactionTest, ARollbackOfASessionASampleCaughtIsNotCountedTwice) {
  Timeline tl = TransactionLeftOpenWithoutTheLog();
  tl.xact_rollback = 1;
  const CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_EQ(c.observed.rfind("1 transaction left open", 0), 0u) << Describe(c);
  ASSERT_EQ(c.evidence.size(), 1u) << Describe(c);
  EXPECT_EQ(c.evidence[0].rfind("session pid 5100 idle in transaction", 0), 0u) << Describe(c);
  // More rollbacks beside more abandoned sessions: the one seen fails the
  // check, the rest may be errors and are said as "perhaps".
  tl.sessions_abandoned = 3;
  tl.xact_rollback = 3;
  const CheckResult more = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(more.failed()) << Describe(more);
  EXPECT_EQ(more.observed.rfind("1 transaction left open", 0), 0u) << Describe(more);
  ASSERT_EQ(more.evidence.size(), 2u) << Describe(more);
  EXPECT_EQ(more.evidence[1].rfind("perhaps more: 2 transactions unseen by any sample", 0), 0u)
      << Describe(more);
}

// A snapshot is taken between its query's send and its answer. Under
// --jobs 2 the probe's answer for a snapshot sent 3 ms before the exit came
// 1 ms after it, and showed a POST between its INSERT and its COMMIT: "still
// idle in transaction after the exit" failed a correct server whose log had
// the session closed cleanly (1 of 900 runs).
TEST(DbIdleInTransactionTest, ASnapshotSentBeforeTheExitIsNotASightingAfterIt) {
  Timeline tl = CorrectRun();
  DbSession& s = tl.db_sessions.front();
  s.last_state = "idle in transaction";
  s.state_since = 1300 * kMs;
  s.last_seen_sent = tl.exited - 3 * kMs;
  s.last_seen = tl.exited + 1 * kMs;
  CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  // Sent after the exit, it is a sighting after it...
  s.last_seen_sent = tl.exited + 1 * kMs;
  s.last_seen = tl.exited + 2 * kMs;
  c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.evidence.at(0).rfind("session pid 5000 still idle in transaction 1.00ms after the "
                                   "exit",
                                   0),
            0u)
      << Describe(c);
  // ... unless the server log says the session ended with no open
  // transaction: the server's word over a snapshot's timing.
  LogCleanCloses(&tl, tl.exited - 1 * kMs);
  c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
}

// A correct server on an external server: a POST's transaction caught by a
// sample during the drain (idle in transaction between its INSERT and its
// COMMIT), well before the exit, then idle again and closed cleanly with the
// pool. And the rare one whose commit and clean close both fell between two
// samples: nothing was abandoned, so the client closed it.
TEST(DbIdleInTransactionTest, WithoutTheLogABriefTransactionOfACorrectServerPasses) {
  Timeline tl = CorrectRun();
  tl.db_log_read = false;
  DbSession& s = tl.db_sessions.front();
  for (DbSample& d : tl.db_samples) {
    if (d.t == 1300 * kMs) {
      --d.active;
      ++d.idle_in_transaction;
    }
  }
  s.last_query = "INSERT INTO items (key, body) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
  CheckResult c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "none seen (external server: pg_stat_activity samples only, no server log); the "
            "last sample before the exit came 0.000ms before it")
      << Describe(c);
  // Last seen idle in transaction, gone by the next sample, none abandoned.
  s.last_state = "idle in transaction";
  s.state_since = 1450 * kMs;
  c = CheckDbIdleInTransaction(tl, DefaultExpect());
  EXPECT_TRUE(c.passed()) << Describe(c);
  // The same with the abandoned count unknown: the samples alone decide.
  tl.sessions_abandoned = Timeline::kUnknown;
  EXPECT_TRUE(CheckDbIdleInTransaction(tl, DefaultExpect()).failed());
}

// --- a pooler in the way ------------------------------------------------------------

// Through a pooler gracecheck cannot see into (--pg-url at a PgBouncer),
// pg_stat_activity shows the pooler's pooled sessions: lingering after the
// exit, as here, they would fail a correct target. Every session check says
// why it cannot judge instead.
TEST(PoolerInTheWayTest, EverySessionCheckIsSkippedWithTheReason) {
  Timeline tl = WithLingeringSessions();
  ASSERT_TRUE(CheckDbSessionsAfterExit(tl, DefaultExpect()).failed());
  tl.sessions_unmeasurable = "sessions belong to a pooler: …";
  Expectations e = DefaultExpect();
  e.db_sessions.max = 1;
  for (const auto& check :
       {CheckDbSessionsAfterExit, CheckDbAbandoned, CheckDbOrphanedQueries,
        CheckDbClosedBeforeDrain, CheckDbIdleInTransaction, CheckDbMaxSessions}) {
    const CheckResult c = check(tl, e);
    EXPECT_TRUE(c.skipped()) << Describe(c);
    EXPECT_EQ(c.observed, "not measurable: sessions belong to a pooler: …") << Describe(c);
  }
}

// --- db.max_sessions ----------------------------------------------------------------

Expectations MaxSessions(int max) {
  Expectations e;
  e.db_sessions.max = max;
  return e;
}

TEST(DbMaxSessionsTest, PoolWithinItsSizePasses) {
  const CheckResult c = CheckDbMaxSessions(CorrectRun(), MaxSessions(8));
  EXPECT_TRUE(c.passed()) << Describe(c);
  EXPECT_EQ(c.expected, "<= 8 sessions at once") << Describe(c);
  EXPECT_EQ(c.observed,
            "at most 8 at once (-950.0ms: 3 active, 5 idle, 0 idle in transaction, 0 other)")
      << Describe(c);
}

// The bug (refapi --bug=leak-sessions): every 20th request opens a
// connection of its own and forgets it.
TEST(DbMaxSessionsTest, LeakedConnectionsFailGroupedByQuery) {
  Timeline tl = CorrectRun();
  for (int i = 0; i < 12; ++i) {
    DbSession s;
    s.pid = 6000 + i;
    s.first_seen = (400 + 50 * i) * kMs;
    s.last_seen = 1550 * kMs;
    s.last_state = "idle";
    s.last_query = "SELECT 1";
    tl.db_sessions.push_back(s);
  }
  for (DbSample& d : tl.db_samples) {
    for (int i = 0; i < 12; ++i) {
      if (d.t >= (400 + 50 * i) * kMs && d.t <= 1550 * kMs) ++d.idle;
    }
  }
  const CheckResult c = CheckDbMaxSessions(tl, MaxSessions(8));
  EXPECT_TRUE(c.failed()) << Describe(c);
  EXPECT_EQ(c.observed,
            "at most 20 at once (-250.0ms: 3 active, 17 idle, 0 idle in transaction, 0 other)")
      << Describe(c);
  ASSERT_EQ(c.evidence.size(), 3u) << Describe(c);
  EXPECT_EQ(c.evidence[0], "more than 8 from -800.0ms") << Describe(c);
  EXPECT_EQ(c.evidence[1],
            "12 sessions open at the peak, first opened -800.0ms, last query: SELECT 1")
      << Describe(c);
  EXPECT_EQ(c.evidence[2],
            "8 sessions open at the peak, first opened -950.0ms, last query: SELECT value FROM "
            "items WHERE id = $1")
      << Describe(c);
}

// --- RunChecks -------------------------------------------------------------

std::vector<std::string> Names(const std::vector<CheckResult>& results) {
  std::vector<std::string> names;
  for (const CheckResult& c : results) names.push_back(c.name);
  return names;
}

TEST(RunChecksTest, CorrectRunPassesEveryCheck) {
  Timeline tl = WithWrites();
  // CorrectRun's fault comes during the load, which leaves threads.growth
  // skipped, not passed: here the load ended first.
  tl.threads_idle_after_load = tl.threads_before_load;
  Expectations e;
  e.threads = ThreadExpectation{2, 2};
  e.writes = WritesExpectation{};
  const std::vector<CheckResult> results = RunChecks(tl, e);
  EXPECT_EQ(Names(results),
            (std::vector<std::string>{"requests.dropped", "writes.lost", "process.exit",
                                      "process.orphans", "process.signal_handled", "threads.growth",
                                      "threads.at_exit", "db.sessions_after_exit", "db.abandoned",
                                      "db.orphaned_queries", "db.closed_before_drain",
                                      "db.idle_in_transaction", "faults.delivered"}))
      << fmt::format("{}", fmt::join(Names(results), ", "));
  for (const CheckResult& c : results) EXPECT_TRUE(c.passed()) << Describe(c);
}

// Each check points at the line of what it judges: its own key, else the
// nearest around it, else `expect`; nothing when the file says nothing.
TEST(RunChecksTest, EachCheckPointsAtItsExpectation) {
  Expectations e = DefaultExpect();
  e.positions = {{"expect", {10, 1}},
                 {"expect.dropped", {11, 3}},
                 {"expect.db_sessions", {12, 3}},
                 {"faults", {5, 1}}};
  for (const CheckResult& c : RunChecks(CorrectRun(), e)) {
    const int line = c.name == "requests.dropped"   ? 11
                     : c.name.rfind("db.", 0) == 0  ? 12
                     : c.name == "faults.delivered" ? 5
                                                    : 10;
    EXPECT_EQ(c.where.line, line) << c.name;
  }
  for (const CheckResult& c : RunChecks(CorrectRun(), DefaultExpect()))
    EXPECT_EQ(c.where.line, 0) << c.name;
}

TEST(RunChecksTest, OptionalChecksOnlyWhenExpected) {
  Timeline tl = CorrectRun();
  const std::vector<std::string> names = Names(RunChecks(tl, DefaultExpect()));
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "requests.dropped", "process.exit", "process.orphans", "process.signal_handled",
                "db.sessions_after_exit", "db.abandoned", "db.orphaned_queries",
                "db.closed_before_drain", "db.idle_in_transaction", "faults.delivered"}))
      << fmt::format("{}", fmt::join(names, ", "));

  // The lame duck and the session limit only when the scenario sets them.
  Expectations all;
  all.lame_duck = Duration(200 * kMs);
  all.db_sessions.max = 8;
  const std::vector<std::string> more = Names(RunChecks(tl, all));
  EXPECT_EQ(more, (std::vector<std::string>{
                      "requests.dropped", "requests.lame_duck", "process.exit", "process.orphans",
                      "process.signal_handled", "db.sessions_after_exit", "db.abandoned",
                      "db.orphaned_queries", "db.closed_before_drain", "db.idle_in_transaction",
                      "db.max_sessions", "faults.delivered"}))
      << fmt::format("{}", fmt::join(more, ", "));

  // With every optional check asked for, RunChecks emits CheckOrder().
  all.writes = WritesExpectation{};
  all.threads = ThreadExpectation{2, 2};
  tl.writes_verified = true;
  EXPECT_EQ(Names(RunChecks(tl, all)), CheckOrder());
  tl.writes_verified = false;

  // Writes expected but not verified (verify_sql failed): writes.lost is
  // there, skipped, not silently missing.
  Expectations e;
  e.writes = WritesExpectation{};
  const std::vector<CheckResult> with_writes = RunChecks(tl, e);
  const auto lost = std::find_if(with_writes.begin(), with_writes.end(),
                                 [](const CheckResult& c) { return c.name == "writes.lost"; });
  ASSERT_NE(lost, with_writes.end());
  EXPECT_TRUE(lost->skipped()) << Describe(*lost);
  EXPECT_EQ(lost->observed,
            "not measurable: the writes were not verified (expect.writes.verify_sql failed)");
}

// The table is the one place a check is named: names are unique, and a
// judge leaves the name to its row.
TEST(RunChecksTest, TheTableNamesEveryCheckOnce) {
  std::set<std::string> seen;
  for (const CheckSpec& spec : CheckTable()) {
    EXPECT_TRUE(seen.insert(spec.name).second) << spec.name << " twice";
    ASSERT_NE(spec.judge, nullptr) << spec.name;
    EXPECT_EQ(spec.judge(CorrectRun(), DefaultExpect()).name, "") << spec.name;
  }
  EXPECT_EQ(seen.size(), CheckOrder().size());
}

// A check that cannot measure says why in one of a few shared words, the
// first missing need first; with all of them it is left to judge.
TEST(RunChecksTest, AnUnmeasurableCheckIsSkippedWithTheFirstMissingNeed) {
  Timeline tl = CorrectRun();
  CheckResult c;
  EXPECT_FALSE(SkipUnmeasurable(&c, tl, {Needs::kExit, Needs::kDbSamples, Needs::kSignal}));
  EXPECT_TRUE(c.failed()) << Describe(c);  // untouched
  tl.db_samples.clear();
  tl.exited = kNever;
  EXPECT_TRUE(SkipUnmeasurable(&c, tl, {Needs::kDbSamples, Needs::kExit}));
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: no pg_stat_activity sample") << Describe(c);
  EXPECT_TRUE(SkipUnmeasurable(&c, tl, {Needs::kExit}));
  EXPECT_EQ(c.observed, "not measurable: the target did not exit (see process.exit)");
  tl.first_signal = kNever;
  EXPECT_TRUE(SkipUnmeasurable(&c, tl, {Needs::kSignal}));
  EXPECT_EQ(c.observed, "not measurable: no signal was delivered");
}

TEST(RunChecksTest, EveryEvidenceListIsShort) {
  Timeline tl = WithLingeringSessions();
  for (std::uint32_t i = 0; i < 50; ++i) {
    tl.requests.push_back(Request(9000 + i, Outcome::kEof, 1210 * kMs, true));
    tl.orphans.push_back(static_cast<int>(6000 + i));
    DbSession s;
    s.pid = static_cast<int>(7000 + i);
    s.first_seen = 300 * kMs;
    s.last_seen = 2600 * kMs;
    s.last_state = "active";
    tl.db_sessions.push_back(s);
    DbSessionEnd end;
    end.pid = static_cast<int>(7000 + i);
    end.ended = 1201 * kMs;
    end.open_transaction = i % 2 == 0;
    end.message = "unexpected EOF on client connection with an open transaction";
    tl.db_session_ends.push_back(end);
    tl.requests.push_back(Request(9100 + i, Outcome::kRefused, 1210 * kMs, true));
    tl.requests.push_back(Request(9200 + i, Outcome::kHttpError, 1220 * kMs, true, 503));
  }
  tl.db_log_read = true;
  Expectations e;
  e.lame_duck = Duration(500 * kMs);
  e.db_sessions.max = 1;
  for (const CheckResult& c : RunChecks(tl, e)) {
    EXPECT_LE(c.evidence.size(), static_cast<std::size_t>(kMaxEvidence)) << Describe(c);
  }
}

// --- skipped checks and the verdict ------------------------------------------

// Every "not measurable: ..." is a skip, never a pass: a run that recorded
// nothing (no sample, no exit, no signal) skips what it cannot judge.
TEST(SkippedTest, EveryNotMeasurableResultIsSkipped) {
  Timeline tl;
  tl.load_start = 0;
  tl.load_end = 1000 * kMs;
  tl.threads_before_load = 4;
  Expectations e = DefaultExpect();
  e.threads = ThreadExpectation{0, 2};
  e.lame_duck = Duration(200 * kMs);
  e.db_sessions.max = 10;
  int skipped = 0;
  for (const CheckResult& c : RunChecks(tl, e)) {
    const bool not_measurable = c.observed.rfind("not measurable: ", 0) == 0;
    EXPECT_EQ(c.skipped(), not_measurable) << Describe(c);
    EXPECT_FALSE(c.passed() && not_measurable) << Describe(c);
    skipped += c.skipped() ? 1 : 0;
  }
  // lame_duck, signal_handled, threads.growth, threads.at_exit,
  // sessions_after_exit, abandoned, orphaned_queries, closed_before_drain,
  // max_sessions.
  EXPECT_EQ(skipped, 9);
}

TEST(SkippedTest, ThreadsAtExitWithoutSampleIsSkipped) {
  Timeline tl = CorrectRun();
  tl.proc_samples.clear();
  const CheckResult c = CheckThreadsAtExit(tl, ThreadExpect(std::nullopt, 2));
  EXPECT_TRUE(c.skipped()) << Describe(c);
  EXPECT_EQ(c.observed, "not measurable: no /proc sample of the target") << Describe(c);
}

TEST(SkippedTest, MaxSessionsWithoutSampleIsSkipped) {
  Timeline tl = CorrectRun();
  tl.db_samples.clear();
  Expectations e = DefaultExpect();
  e.db_sessions.max = 3;
  const CheckResult c = CheckDbMaxSessions(tl, e);
  EXPECT_TRUE(c.skipped()) << Describe(c);
}

TEST(SkippedTest, SkippedNeverFailsARunButIsCountedApart) {
  std::vector<CheckResult> results(3);
  results[0].status = CheckStatus::kPassed;
  results[1].Skip("the fault came during the load");
  results[2].status = CheckStatus::kPassed;
  EXPECT_TRUE(NoneFailed(results));
  EXPECT_EQ(StatusCounts(results), "2 passed, 1 skipped");
  EXPECT_EQ(results[1].observed, "not measurable: the fault came during the load");
  results[2].status = CheckStatus::kFailed;
  EXPECT_FALSE(NoneFailed(results));
  EXPECT_EQ(StatusCounts(results), "1 failed, 1 passed, 1 skipped");
  EXPECT_EQ(StatusCounts({}), "no checks");
}

TEST(SkippedTest, StatusNamesRoundTrip) {
  for (CheckStatus s : {CheckStatus::kPassed, CheckStatus::kFailed, CheckStatus::kSkipped}) {
    EXPECT_EQ(ParseCheckStatus(CheckStatusName(s)), s) << CheckStatusName(s);
  }
  EXPECT_EQ(ParseCheckStatus("pass"), std::nullopt);
}

TEST(RunVerdictTest, HarnessErrorOverFailOverPass) {
  std::vector<CheckResult> checks(2);
  checks[0].status = CheckStatus::kPassed;
  checks[1].Skip("no pg_stat_activity sample");
  Timeline valid;
  Timeline invalid;
  invalid.harness_errors = {"the /proc probe died"};
  EXPECT_EQ(JudgeRun(checks, valid), RunVerdict::kPass);
  EXPECT_EQ(JudgeRun(checks, invalid), RunVerdict::kError)
      << "a harness error makes the run invalid even when its checks pass";
  checks[0].status = CheckStatus::kFailed;
  EXPECT_EQ(JudgeRun(checks, valid), RunVerdict::kFail);
  EXPECT_EQ(JudgeRun(checks, invalid), RunVerdict::kError);
  // A target that never started: nothing judged, an error.
  Timeline not_started;
  not_started.start_error = "cannot start the target: No such file or directory";
  EXPECT_TRUE(RunChecks(not_started, Expectations{}).empty());
  EXPECT_EQ(JudgeRun({}, not_started), RunVerdict::kError);
  EXPECT_EQ(Worse(RunVerdict::kPass, RunVerdict::kFail), RunVerdict::kFail);
  EXPECT_EQ(Worse(RunVerdict::kError, RunVerdict::kFail), RunVerdict::kError);
  EXPECT_EQ(Worse(RunVerdict::kFail, RunVerdict::kError), RunVerdict::kError);
  EXPECT_EQ(Worse(RunVerdict::kPass, RunVerdict::kPass), RunVerdict::kPass);
  EXPECT_EQ(VerdictExitCode(RunVerdict::kPass), 0);
  EXPECT_EQ(VerdictExitCode(RunVerdict::kFail), 1);
  EXPECT_EQ(VerdictExitCode(RunVerdict::kError), 3);
  EXPECT_EQ(ParseRunVerdict("error"), RunVerdict::kError);
  EXPECT_EQ(ParseRunVerdict("passed"), std::nullopt);
}

}  // namespace
}  // namespace gracecheck
