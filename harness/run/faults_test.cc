#include "faults.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

namespace gracecheck {
namespace {

using namespace std::chrono_literals;
constexpr Nanos kMs = 1'000'000;

TriggerState At(Nanos now) {
  TriggerState s;
  s.now = now;
  s.time_zero = 100 * kMs;
  s.ready = 40 * kMs;
  return s;
}

Nanos Met(const Trigger& t, const TriggerState& s, Nanos* deadline = nullptr) {
  Nanos d = std::numeric_limits<Nanos>::max();
  Nanos met = TriggerMetAt(t, s, &d);
  if (deadline) *deadline = d;
  return met;
}

TEST(TriggerTest, TimeIsMetAtItsExactMomentNotWhenObserved) {
  Trigger t = AtTime{Duration(50ms)};
  Nanos deadline;
  EXPECT_EQ(Met(t, At(120 * kMs), &deadline), kNever);
  EXPECT_EQ(deadline, 150 * kMs);
  EXPECT_EQ(Met(t, At(153 * kMs)), 150 * kMs);
  EXPECT_EQ(Met(AtTime{Duration(50ms), /*since_ready=*/true}, At(120 * kMs)), 90 * kMs);
}

TEST(TriggerTest, AfterAnEarlierFaultCountsFromWhenItWasMet) {
  Trigger t = AfterFault{0, Duration(30ms)};
  TriggerState s = At(200 * kMs);
  s.fault_met = {kNever};
  Nanos deadline;
  EXPECT_EQ(Met(t, s, &deadline), kNever);
  EXPECT_EQ(deadline, std::numeric_limits<Nanos>::max()) << "no deadline before the fault fires";
  s.fault_met = {180 * kMs};
  EXPECT_EQ(Met(t, s, &deadline), kNever);
  EXPECT_EQ(deadline, 210 * kMs);
  s.now = 215 * kMs;
  EXPECT_EQ(Met(t, s), 210 * kMs);
}

TEST(TriggerTest, LiveStateThresholds) {
  TriggerState s = At(500 * kMs);
  s.completed = 99;
  s.inflight = 3;
  s.db_active = 1;
  EXPECT_EQ(Met(AfterRequests{100}, s), kNever);
  EXPECT_EQ(Met(AtInflight{4}, s), kNever);
  EXPECT_EQ(Met(AtDbActive{2}, s), kNever);
  s.completed = 100;
  s.inflight = 4;
  s.db_active = 2;
  EXPECT_EQ(Met(AfterRequests{100}, s), 500 * kMs);
  EXPECT_EQ(Met(AtInflight{4}, s), 500 * kMs);
  EXPECT_EQ(Met(AtDbActive{2}, s), 500 * kMs);
}

TEST(TriggerTest, LogIsMetWhenTheLineAppeared) {
  TriggerState s = At(500 * kMs);
  EXPECT_EQ(Met(OnLog{"phase=drained"}, s), kNever);
  s.log_matched["phase=drained"] = 420 * kMs;
  EXPECT_EQ(Met(OnLog{"phase=drained"}, s), 420 * kMs);
}

TEST(TriggerTest, AllWaitsForTheLastAnyTakesTheFirst) {
  TriggerState s = At(300 * kMs);
  s.inflight = 10;
  Trigger all = AllOf{{AtTime{Duration(250ms)}, AtInflight{5}}};
  Trigger any = AnyOf{{AtTime{Duration(250ms)}, AtInflight{5}}};
  Nanos deadline;
  EXPECT_EQ(Met(all, s, &deadline), kNever);
  EXPECT_EQ(deadline, 350 * kMs);
  EXPECT_EQ(Met(any, s), 300 * kMs);
  s.now = 360 * kMs;
  EXPECT_EQ(Met(all, s), 360 * kMs);
  s.inflight = 0;
  EXPECT_EQ(Met(any, s), 350 * kMs);
}

TEST(TriggerTest, ATriggerThatNeverFiresHasNoDeadline) {
  TriggerState s = At(10'000 * kMs);
  Nanos deadline;
  EXPECT_EQ(Met(AfterRequests{1'000'000}, s, &deadline), kNever);
  EXPECT_EQ(deadline, std::numeric_limits<Nanos>::max());
  EXPECT_EQ(Met(AllOf{{AtTime{Duration(1s)}, OnLog{"never"}}}, s), kNever);
}

TEST(TriggerTest, RandomTimesAreDrawnFromTheSeedWithinTheRange) {
  auto draw = [](std::uint64_t seed) {
    Trigger t = AnyOf{{Between{Duration(1s), Duration(3s)}, OnLog{"x"}}};
    std::mt19937_64 rng(seed);
    std::vector<std::string> notes;
    DrawRandomTimes(&t, &rng, &notes);
    EXPECT_EQ(notes.size(), 1u);
    return std::get<AtTime>(std::get<AnyOf>(t).triggers[0]).offset;
  };
  EXPECT_EQ(draw(7), draw(7)) << "the same seed must replay the same moment";
  std::set<Duration::rep> seen;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Duration d = draw(seed);
    EXPECT_GE(d, Duration(1s));
    EXPECT_LE(d, Duration(3s));
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 40u);
}

// The scheduler against fake hooks: what was sent, when.
class FakeTarget {
 public:
  bool Send(int sig, bool group) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running) return false;
    sent.push_back({sig, group});
    if (sig == SIGKILL || (sig == SIGTERM && dies_on_term)) running = false;
    return true;
  }
  FaultHooks Hooks() {
    FaultHooks h;
    h.send = [this](int sig, bool group) { return Send(sig, group); };
    h.target_running = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return running;
    };
    return h;
  }
  std::mutex mu_;
  bool running = true;
  bool dies_on_term = false;
  std::vector<std::pair<int, bool>> sent;
};

// Runs `s` until it is finished (or `wait` passed), then stops it.
std::vector<FaultRecord> RunToEnd(FaultScheduler& s, Duration wait = 3s) {
  s.Start();
  for (auto until = std::chrono::steady_clock::now() + wait;
       !s.finished() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(1ms);
  }
  s.Stop();
  s.Join();
  return s.TakeRecords();
}

std::vector<FaultRecord> Schedule(std::vector<Fault> faults, FakeTarget* target,
                                  TriggerInputs inputs = {}, Duration wait = 2s) {
  auto epoch = std::chrono::steady_clock::now();
  FaultScheduler s(std::move(faults), 0, 0, epoch, target->Hooks(), std::move(inputs), 1);
  return RunToEnd(s, wait);
}

Fault Send(Trigger at, int sig) {
  Fault f;
  f.name = "f";
  f.trigger = std::move(at);
  f.action = SendSignal{sig};
  return f;
}

// A database fault's action takes as long as it takes (a block waits for
// its lock, a restart for the cluster); a signal due meanwhile goes on time,
// and database actions still run one after the other, in order. (They ran
// on the scheduler thread: a SIGTERM came 200-400 ms late behind a block's
// LOCK TABLE in db-block-during-drain on a loaded machine.)
TEST(FaultSchedulerTest, ASlowDatabaseActionDelaysNoOtherFault) {
  FakeTarget t;
  FaultHooks hooks = t.Hooks();
  std::mutex mu;
  std::vector<std::pair<int, Nanos>> began, ended;
  const auto epoch = std::chrono::steady_clock::now();
  auto now = [epoch] { return (std::chrono::steady_clock::now() - epoch).count(); };
  int restarts = 0;
  hooks.restart_db = [&] {
    int n;
    {
      std::lock_guard<std::mutex> lock(mu);
      n = ++restarts;
      began.push_back({n, now()});
    }
    std::this_thread::sleep_for(300ms);
    std::lock_guard<std::mutex> lock(mu);
    ended.push_back({n, now()});
    return std::string();
  };
  Fault first = Send(AtTime{Duration(10ms)}, 0);
  first.name = "first";
  first.action = DbRestart{};
  Fault second = first;
  second.name = "second";
  second.trigger = AtTime{Duration(20ms)};
  Fault term = Send(AtTime{Duration(60ms)}, SIGTERM);
  term.name = "term";
  FaultScheduler s({first, second, term}, 0, 0, epoch, hooks, {}, 1);
  const std::vector<FaultRecord> r = RunToEnd(s);
  ASSERT_EQ(r.size(), 3u);
  // 300 ms behind the restart if it waited for it; 30 ms is far from both.
  EXPECT_LT(r[2].delivered - r[2].scheduled, 30 * kMs)
      << "SIGTERM scheduled " << r[2].scheduled << " delivered " << r[2].delivered;
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(t.sent[0].first, SIGTERM);
  // Both database faults done and recorded, the second after the first.
  EXPECT_NE(r[0].delivered, kNever) << r[0].error;
  EXPECT_NE(r[1].delivered, kNever) << r[1].error;
  ASSERT_EQ(began.size(), 2u);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_GE(began[1].second, ended[0].second);
}

// The scheduler is finished only once its background jobs are: the run
// waits for a database fault's outcome before it reads the records.
TEST(FaultSchedulerTest, FinishedWaitsForABackgroundJob) {
  FakeTarget t;
  FaultHooks hooks = t.Hooks();
  hooks.restart_db = [] {
    std::this_thread::sleep_for(100ms);
    return std::string("db: restart: it failed");
  };
  Fault restart = Send(AtTime{Duration(0)}, 0);
  restart.action = DbRestart{};
  const auto epoch = std::chrono::steady_clock::now();
  FaultScheduler s({restart}, 0, 0, epoch, hooks, {}, 1);
  s.Start();
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(s.finished()) << "finished while its restart still ran";
  for (auto until = std::chrono::steady_clock::now() + 3s;
       !s.finished() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(s.finished());
  s.Stop();
  s.Join();
  const std::vector<FaultRecord> r = s.TakeRecords();
  EXPECT_EQ(r[0].error, "db: restart: it failed");
  EXPECT_EQ(r[0].delivered, kNever);
}

TEST(FaultSchedulerTest, RepeatSendsNTimesEveryD) {
  FakeTarget t;
  Fault f = Send(AtTime{Duration(10ms)}, SIGINT);
  f.action = SendSignal{SIGINT, 3, 20ms};
  auto r = Schedule({f}, &t);
  ASSERT_EQ(t.sent.size(), 3u);
  EXPECT_EQ(t.sent[2].first, SIGINT);
  EXPECT_EQ(r[0].deliveries, 3);
  EXPECT_EQ(r[0].scheduled, 10 * kMs);
  EXPECT_GE(r[0].delivered, r[0].scheduled);
}

TEST(FaultSchedulerTest, PauseStopsThenContinues) {
  FakeTarget t;
  Fault f = Send(AtTime{Duration(5ms)}, SIGSTOP);
  f.action = Pause{30ms};
  auto r = Schedule({f}, &t);
  ASSERT_EQ(t.sent.size(), 2u);
  EXPECT_EQ(t.sent[0].first, SIGSTOP);
  EXPECT_EQ(t.sent[1].first, SIGCONT);
  EXPECT_EQ(r[0].detail, "stopped for 30ms");
}

TEST(FaultSchedulerTest, KillAfterSendsSigkillOnlyToATargetStillRunning) {
  FakeTarget stubborn;
  Fault f = Send(AtTime{Duration(5ms)}, SIGTERM);
  f.action = KillAfter{30ms};
  auto r = Schedule({f}, &stubborn);
  ASSERT_EQ(stubborn.sent.size(), 2u);
  EXPECT_EQ(stubborn.sent[1], std::make_pair(SIGKILL, true));
  EXPECT_NE(r[0].detail.find("SIGKILL sent"), std::string::npos) << r[0].detail;

  FakeTarget graceful;
  graceful.dies_on_term = true;
  r = Schedule({f}, &graceful);
  ASSERT_EQ(graceful.sent.size(), 1u);
  EXPECT_EQ(r[0].detail, "exited within the grace period, no SIGKILL needed");
}

// {done: NAME} waits for everything the fault does: a pause is done when
// its SIGCONT went out, not when its SIGSTOP did ({after: …, delay: 0s}).
TEST(FaultSchedulerTest, DoneWaitsForTheFaultsFollowUps) {
  FakeTarget t;
  Fault pause = Send(AtTime{Duration(5ms)}, SIGSTOP);
  pause.name = "pause";
  pause.action = Pause{40ms};
  Fault after = Send(AfterFault{0, Duration::zero()}, SIGUSR1);
  after.name = "after";
  Fault done = Send(DoneFault{0}, SIGTERM);
  done.name = "done";
  auto r = Schedule({pause, after, done}, &t);
  ASSERT_EQ(t.sent.size(), 4u);
  EXPECT_EQ(t.sent[0].first, SIGSTOP);
  EXPECT_EQ(t.sent[1].first, SIGUSR1) << "after: at the pause's trigger";
  EXPECT_EQ(t.sent[2].first, SIGCONT);
  EXPECT_EQ(t.sent[3].first, SIGTERM) << "done: once the SIGCONT went out";
  EXPECT_GE(r[2].scheduled - r[0].scheduled, 40 * kMs);
  EXPECT_LT(r[2].scheduled - r[0].scheduled, 60 * kMs);
}

// A background job (a database fault, a preStop GET) is done when it ends.
TEST(FaultSchedulerTest, DoneWaitsForABackgroundJob) {
  FakeTarget t;
  FaultHooks hooks = t.Hooks();
  hooks.restart_db = [] {
    std::this_thread::sleep_for(80ms);
    return std::string();
  };
  Fault restart = Send(AtTime{Duration(5ms)}, 0);
  restart.name = "restart";
  restart.action = DbRestart{};
  Fault term = Send(DoneFault{0}, SIGTERM);
  term.name = "term";
  const auto epoch = std::chrono::steady_clock::now();
  FaultScheduler s({restart, term}, 0, 0, epoch, hooks, {}, 1);
  const std::vector<FaultRecord> r = RunToEnd(s);
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_GE(r[1].scheduled - r[0].scheduled, 80 * kMs);
  EXPECT_LT(r[1].scheduled - r[0].scheduled, 120 * kMs) << "woken when the job ended";
  EXPECT_LT(r[0].lag(), 20 * kMs) << "delivered when it began, not when it ended";
}

TEST(FaultSchedulerTest, IfRunningIsSkippedOnceTheTargetIsGoneOthersFail) {
  FakeTarget t;
  t.dies_on_term = true;
  Fault term = Send(AtTime{Duration(5ms)}, SIGTERM);
  Fault kill = Send(AfterFault{0, Duration(10ms)}, SIGKILL);
  kill.name = "kill";
  kill.if_running = true;
  Fault late = Send(AfterFault{0, Duration(10ms)}, SIGUSR1);
  late.name = "late";
  auto r = Schedule({term, kill, late}, &t);
  EXPECT_NE(r[0].delivered, kNever);
  EXPECT_TRUE(r[1].skipped);
  EXPECT_EQ(r[2].error, "the target had already exited");
}

TEST(FaultSchedulerTest, TriggerThatNeverHappensTimesOut) {
  FakeTarget t;
  Fault f = Send(AfterRequests{1000}, SIGTERM);
  f.timeout = 50ms;
  TriggerInputs inputs;
  inputs.completed = [] { return std::uint64_t{3}; };
  auto r = Schedule({f}, &t, inputs);
  EXPECT_TRUE(t.sent.empty());
  EXPECT_EQ(r[0].error, "its trigger was not met within 50ms");
}

TEST(FaultSchedulerTest, LiveTriggerFiresWhenTheStateGetsThere) {
  FakeTarget t;
  std::atomic<int> inflight{0};
  TriggerInputs inputs;
  inputs.inflight = [&] { return inflight.load(); };
  std::thread raise([&] {
    std::this_thread::sleep_for(30ms);
    inflight = 8;
  });
  auto r = Schedule({Send(AtInflight{8}, SIGTERM)}, &t, inputs);
  raise.join();
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_GE(r[0].scheduled, 30 * kMs);
}

TEST(FaultSchedulerTest, RunEndingBeforeTheTriggerIsRecorded) {
  FakeTarget t;
  Fault stop_load = Send(AtTime{Duration(10s)}, 0);
  stop_load.name = "stop";
  stop_load.action = LoadStop{};
  auto r = Schedule({Send(AtTime{Duration(10s)}, SIGTERM), stop_load}, &t, {}, 20ms);
  EXPECT_EQ(r[0].delivered, kNever);
  EXPECT_EQ(r[0].error, "the run ended before its trigger was met");
  EXPECT_TRUE(r[1].skipped) << "a load change after the run has nothing to act on";
  EXPECT_EQ(r[1].error, "");
}

}  // namespace
}  // namespace gracecheck
