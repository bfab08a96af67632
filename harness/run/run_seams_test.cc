// A run's orchestration (run.cc's phases) driven through fakes of its parts
// (run_parts.h): no process, no PostgreSQL, no socket. What the real parts
// do is run_test's; what is proven here is what the run does with them:
// when it declares a hang, what a late exit is, when the probes go dense,
// that lingering sessions are sampled before the leftovers are killed, and
// the order of the phases.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "checks.h"
#include "run.h"
#include "scenario.h"

namespace gracecheck {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What the fake target does, and the record of what the run did to the parts.
struct World {
  // After the first SIGTERM, the target exits this much later (nullopt:
  // never; only a SIGKILL ends it).
  std::optional<Duration> exit_after_term = 20ms;
  int exit_code = 0;
  bool ready_fails = false;
  // The run's database sessions stay this long after the exit.
  Duration sessions_linger = 0ms;
  // A descendant (pid 4243) that leaves this long after the target's exit
  // (nullopt: none at all; Duration::max(): never by itself).
  std::optional<Duration> helper_leaves_after;
  // Who holds the listening socket (the fake tree is 4242 and its child 4243).
  std::vector<int> listeners = {4242};
  // The tree gains a thread every 10 ms for this long after the /proc
  // probe starts (a worker still starting at the readiness).
  Duration threads_grow_for = 0ms;

  std::mutex mu;
  std::vector<std::string> calls;                    // "target.start", "SIGTERM to process", ...
  std::vector<std::pair<std::string, Nanos>> dense;  // which part went dense, when
  Nanos wait_sample_at = kNever;
  bool database_dropped = false;
  bool database_created = false;

  void Call(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(what);
  }
  void Dense(const std::string& who, Nanos t) {
    std::lock_guard<std::mutex> lock(mu);
    dense.emplace_back(who, t);
  }
  // Where `what` is in the calls, or -1.
  int IndexOf(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = std::find(calls.begin(), calls.end(), what);
    return it == calls.end() ? -1 : static_cast<int>(it - calls.begin());
  }
};

class FakeTarget : public Target {
 public:
  FakeTarget(World& w, Clock::time_point epoch) : w_(w), epoch_(epoch) {}
  int pid() const override { return 4242; }
  Nanos WaitReady() override {
    w_.Call("target.ready");
    if (w_.ready_fails) {
      throw TargetError("not ready within 10s (exit 1); its output:\nstderr| boom");
    }
    return Now();
  }
  bool Signal(int sig, bool group) override {
    std::lock_guard<std::mutex> lock(mu_);
    w_.Call(fmt::format("{} to {}",
                        sig == SIGKILL   ? "SIGKILL"
                        : sig == SIGTERM ? "SIGTERM"
                                         : "?",
                        group ? "group" : "process"));
    if (status_) return false;
    const Nanos now = Now();
    if (sig == SIGKILL) {
      Exit(now, {true, 0, SIGKILL});
    } else if (sig == SIGTERM && w_.exit_after_term && exit_at_ == kNever) {
      exit_at_ = now + w_.exit_after_term->count();
    }
    cv_.notify_all();
    return true;
  }
  bool exited() const override {
    std::lock_guard<std::mutex> lock(mu_);
    Advance();
    return status_.has_value();
  }
  bool WaitExit(Duration timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    const auto until = Clock::now() + timeout;
    for (;;) {
      Advance();
      if (status_) return true;
      auto wake = until;
      if (exit_at_ != kNever) wake = std::min(wake, epoch_ + std::chrono::nanoseconds(exit_at_));
      if (Clock::now() >= until) return false;
      cv_.wait_until(lock, wake);
    }
  }
  Nanos exit_time() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return exit_time_;
  }
  std::optional<ExitStatus> exit_status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    Advance();
    return status_;
  }
  std::vector<int> Leftovers(const std::set<int>&) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Advance();
    if (!status_ || !w_.helper_leaves_after) return {};
    if (*w_.helper_leaves_after == Duration::max()) return {4243};
    const Nanos leaves = exit_time_ + w_.helper_leaves_after->count();
    return Now() < leaves ? std::vector<int>{4243} : std::vector<int>{};
  }
  std::vector<int> KillLeftovers(const std::set<int>& also) override {
    w_.Call("target.kill_leftovers");
    return Leftovers(also);
  }
  std::vector<ProcessEvent> events() const override { return {}; }
  std::string LogTail(int) const override { return "stdout| fake\n"; }

 private:
  Nanos Now() const { return (Clock::now() - epoch_).count(); }
  // Under mu_: the exit, once its moment has come.
  void Advance() const {
    if (!status_ && exit_at_ != kNever && Now() >= exit_at_) {
      Exit(exit_at_, {false, w_.exit_code, 0});
    }
  }
  void Exit(Nanos t, ExitStatus s) const {
    status_ = s;
    exit_time_ = t;
    w_.Call("target.exit");
  }

  World& w_;
  Clock::time_point epoch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Nanos exit_at_ = kNever;
  mutable std::optional<ExitStatus> status_;
  mutable Nanos exit_time_ = kNever;
};

class FakeProcWatch : public ProcWatch {
 public:
  FakeProcWatch(World& w, Clock::time_point epoch) : w_(w), epoch_(epoch) {}
  void Start() override {
    started_ = Clock::now();
    w_.Call("proc.start");
  }
  void SetDense() override { w_.Dense("proc", Now()); }
  void Stop() override { w_.Call("proc.stop"); }
  ProcSample Latest() const override {
    ProcSample s;
    s.t = Now();
    const auto growing = std::min<Duration>(Clock::now() - started_, w_.threads_grow_for);
    s.threads = 4 + static_cast<int>(growing / 10ms);
    return s;
  }
  bool WaitForSamples(std::size_t, Duration) const override { return true; }
  bool ended() const override { return false; }
  std::vector<ProcSample> TakeSamples() override { return {Latest()}; }
  std::set<int> Descendants() const override { return {4243}; }
  std::vector<TreeProcess> TakeProcesses() override {
    TreeProcess self;
    self.pid = 4242;
    self.command = "server --port 1";
    TreeProcess child;
    child.pid = 4243;
    child.ppid = 4242;
    child.command = "python3 server.py";
    return {self, child};
  }
  std::map<std::string, int> ThreadNames() const override { return {{"fake", 4}}; }
  ProbeError error() const override { return {}; }

 private:
  Nanos Now() const { return (Clock::now() - epoch_).count(); }
  World& w_;
  Clock::time_point epoch_;
  Clock::time_point started_ = Clock::now();
};

class FakeDbWatch : public DbWatch {
 public:
  FakeDbWatch(World& w, Clock::time_point epoch) : w_(w), epoch_(epoch) {}
  void Start() override { w_.Call("db.start"); }
  void SetDense() override { w_.Dense("db", (Clock::now() - epoch_).count()); }
  void Stop() override { w_.Call("db.stop"); }
  DbSample Latest() const override { return {}; }
  // The sessions go `sessions_linger` after `after` (the exit): seen gone
  // then if that is within `timeout`.
  Nanos WaitSessionsGone(Nanos after, Duration timeout) override {
    w_.Call("db.wait_gone");
    return w_.sessions_linger <= timeout ? after + w_.sessions_linger.count() : kNever;
  }
  void WaitSampleAt(Nanos t, Duration) override {
    w_.Call("db.wait_sample");
    std::lock_guard<std::mutex> lock(w_.mu);
    w_.wait_sample_at = t;
  }
  std::vector<DbSample> TakeSamples() override { return {}; }
  std::vector<DbSession> TakeSessions() override { return {}; }
  DbCounters Counters() override { return {0, 0, 0}; }
  ProbeError error() const override { return {}; }
  std::vector<ProbeOutage> outages() const override { return {}; }

 private:
  World& w_;
  Clock::time_point epoch_;
};

class FakeCpuWatch : public CpuWatch {
 public:
  FakeCpuWatch(World& w, Clock::time_point epoch) : w_(w), epoch_(epoch) {}
  void Start() override { w_.Call("cpu.start"); }
  void SetDense() override { w_.Dense("cpu", (Clock::now() - epoch_).count()); }
  void Stop() override { w_.Call("cpu.stop"); }
  CpuWaits TakeWaits() override { return {}; }

 private:
  World& w_;
  Clock::time_point epoch_;
};

// A load that "runs" for its duration and answers nothing.
class FakeLoad : public Load {
 public:
  FakeLoad(World& w, const LoadOptions& options, Clock::time_point epoch)
      : w_(w), options_(options), epoch_(epoch) {}
  const LoadOptions& options() const override { return options_; }
  void Start() override {
    w_.Call("load.start");
    started_ = Now();
  }
  void Stop() override {
    if (stopped_ == kNever) stopped_ = Now();
  }
  bool SetRate(double) override { return false; }
  void Join() override {}
  void MarkFirstSignal(Nanos t) override { w_.Dense("load", t); }
  int inflight() const override { return 0; }
  std::uint64_t completed() const override { return 0; }
  std::uint64_t count(Outcome) const override { return 0; }
  Nanos started_at() const override { return started_; }
  Nanos ended_at() const override {
    const Nanos end =
        started_ + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.duration).count();
    if (stopped_ != kNever) return std::min(stopped_.load(), end);
    return Now() >= end ? end : kNever;
  }
  std::vector<RequestRecord> TakeRecords() override { return {}; }
  std::vector<WriteKey> TakeWriteKeys() override { return {}; }
  std::map<int, std::uint64_t> ClientErrors() const override { return {}; }
  std::vector<std::pair<Nanos, Nanos>> TakeStalls() override { return {}; }

 private:
  Nanos Now() const { return (Clock::now() - epoch_).count(); }
  World& w_;
  LoadOptions options_;
  Clock::time_point epoch_;
  std::atomic<Nanos> started_{kNever};
  std::atomic<Nanos> stopped_{kNever};
};

class FakeParts : public RunParts {
 public:
  explicit FakeParts(World& w) : w_(w) {}
  Database CreateDatabase(const std::string& label) override {
    w_.Call("database.create");
    w_.database_created = true;
    return {"gc_" + label, "postgresql://fake:secret@127.0.0.1:1/gc_" + label};
  }
  void DropDatabase() override {
    w_.Call("database.drop");
    w_.database_dropped = true;
  }
  std::unordered_set<std::string> QueryKeys(const std::string&) override { return {}; }
  std::string AdminConnString() const override { return "postgresql://fake@127.0.0.1:1/x"; }
  bool CanRestartDatabase() const override { return false; }
  void RestartDatabase() override {}
  std::optional<std::vector<DbSessionEnd>> SessionEnds(const Timeline&) override {
    return std::nullopt;
  }
  std::unique_ptr<Target> StartTarget(const TargetOptions& options,
                                      Clock::time_point epoch) override {
    w_.Call("target.start");
    argv = options.argv;
    return std::make_unique<FakeTarget>(w_, epoch);
  }
  std::unique_ptr<Load> MakeLoad(const LoadOptions& options, Clock::time_point epoch) override {
    return std::make_unique<FakeLoad>(w_, options, epoch);
  }
  std::unique_ptr<ProcWatch> WatchProcesses(int, Clock::time_point epoch) override {
    return std::make_unique<FakeProcWatch>(w_, epoch);
  }
  std::unique_ptr<DbWatch> WatchSessions(Clock::time_point epoch) override {
    return std::make_unique<FakeDbWatch>(w_, epoch);
  }
  std::unique_ptr<CpuWatch> WatchCpuWaits(int, Clock::time_point epoch,
                                          std::function<std::set<int>()>) override {
    return std::make_unique<FakeCpuWatch>(w_, epoch);
  }
  std::vector<int> ListenersOn(int, const std::set<int>& pids) override {
    EXPECT_EQ(pids, (std::set<int>{4242, 4243})) << "the target and its descendants";
    return w_.listeners;
  }

  std::vector<std::string> argv;  // the target's, as the run filled it in

 private:
  World& w_;
};

Scenario Parse(const std::string& yaml) {
  ParseResult r = ParseScenario(yaml, "fake.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message);
  return *r.scenario;
}

// SIGTERM 50 ms after readiness; the target must exit within 200 ms.
constexpr const char* kSigterm = R"(
name: fake
target:
  command: [server, --port, "{port}", --db, "{database_url}"]
faults:
  - at: 50ms
    send: SIGTERM
expect:
  exit: { code: 0, within: 200ms }
  db_sessions: { after_exit: 0, settle: 300ms }
)";

// kSigterm with its signal late enough for the wait for the tree (at most
// 2 s, ending 200 ms before a fault timed from the readiness is due).
std::string SigtermAt(const std::string& at) {
  std::string yaml = kSigterm;
  yaml.replace(yaml.find("at: 50ms"), 8, "at: " + at);
  return yaml;
}

struct Ran {
  Timeline tl;
  std::vector<CheckResult> checks;
  const CheckResult* Check(const std::string& name) const {
    for (const CheckResult& c : checks) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
};

Ran RunOn(World& w, const std::string& yaml) {
  const Scenario scenario = Parse(yaml);
  FakeParts parts(w);
  RunConfig config;
  config.scenario = &scenario;
  config.out_dir = ::testing::TempDir();
  config.seed = 7;
  Ran ran;
  ran.tl = RunScenario(config, parts);
  ran.checks = RunChecks(ran.tl, scenario.expect);
  return ran;
}

TEST(RunSeamsTest, ATargetThatNeverExitsIsDeclaredHungAfterWithinAndAGraceSecondThenKilled) {
  World w;
  w.exit_after_term = std::nullopt;
  const Clock::time_point began = Clock::now();
  const Ran ran = RunOn(w, kSigterm);
  const Nanos took = (Clock::now() - began).count();

  ASSERT_NE(ran.tl.first_signal, kNever);
  EXPECT_EQ(ran.tl.exited, kNever) << "a killed hang is no exit";
  const int term = w.IndexOf("SIGTERM to process");
  const int kill = w.IndexOf("SIGKILL to group");
  ASSERT_GE(term, 0);
  ASSERT_GT(kill, term) << "the hang is ended with a SIGKILL to the group";
  // within (200 ms) + the grace second after the first signal, not sooner.
  EXPECT_GE(took, ran.tl.first_signal + 1'200'000'000);
  EXPECT_LT(took, ran.tl.first_signal + 3'000'000'000LL);
  const CheckResult* exit = ran.Check("process.exit");
  ASSERT_NE(exit, nullptr);
  EXPECT_TRUE(exit->failed()) << exit->observed;
  EXPECT_EQ(w.IndexOf("target.exit") > kill, true) << "it exits only by the SIGKILL";
}

TEST(RunSeamsTest, AnExitInsideTheGraceSecondIsALateExitNotAHang) {
  World w;
  w.exit_after_term = 700ms;  // within is 200 ms: late, but before within + 1 s
  const Ran ran = RunOn(w, kSigterm);

  ASSERT_NE(ran.tl.exited, kNever);
  EXPECT_EQ(w.IndexOf("SIGKILL to group"), -1) << "nothing killed a target that exited";
  EXPECT_NEAR(static_cast<double>(ran.tl.exited - ran.tl.first_signal), 700e6, 100e6);
  EXPECT_EQ(ran.tl.exit_code, 0);
  const CheckResult* exit = ran.Check("process.exit");
  ASSERT_NE(exit, nullptr);
  EXPECT_TRUE(exit->failed()) << "an exit 700ms after the signal is late for 'within: 200ms'";
}

TEST(RunSeamsTest, APromptExitPassesAndEndsTheRunAtOnce) {
  World w;
  w.exit_after_term = 20ms;
  const Clock::time_point began = Clock::now();
  const Ran ran = RunOn(w, kSigterm);
  const Nanos took = (Clock::now() - began).count();

  ASSERT_NE(ran.tl.exited, kNever);
  const CheckResult* exit = ran.Check("process.exit");
  ASSERT_NE(exit, nullptr);
  EXPECT_TRUE(exit->passed()) << exit->observed;
  EXPECT_LT(took, 1'000'000'000) << "nothing waits for the hang deadline after an exit";
}

TEST(RunSeamsTest, EveryProbeAndTheLoadGoDenseAtTheFirstSignal) {
  World w;
  const Ran ran = RunOn(w, R"(
name: fake
target:
  command: [server, "{port}"]
load:
  model: closed
  connections: 1
  duration: 400ms
  requests: [{ method: GET, path: /x }]
faults:
  - at: 100ms
    send: SIGTERM
expect:
  exit: { code: 0, within: 1s }
)");
  ASSERT_NE(ran.tl.first_signal, kNever);
  std::set<std::string> who;
  for (const auto& [part, t] : w.dense) {
    who.insert(part);
    if (part == "load") {
      EXPECT_EQ(t, ran.tl.first_signal) << "requests are flagged from the delivery on";
    } else {
      EXPECT_GE(t, ran.tl.first_signal) << part;
      EXPECT_LT(t - ran.tl.first_signal, 100'000'000) << part << " went dense late";
    }
  }
  EXPECT_EQ(who, (std::set<std::string>{"proc", "db", "cpu", "load"}));
  // The clock of `at` starts with the load (time zero), not with readiness.
  ASSERT_NE(ran.tl.load_start, kNever);
  EXPECT_GE(ran.tl.first_signal - ran.tl.load_start, 100'000'000);
}

TEST(RunSeamsTest, LingeringSessionsAreSampledAtExitPlusSettleBeforeTheLeftoversAreKilled) {
  World w;
  w.sessions_linger = 5s;  // settle is 300 ms
  const Ran ran = RunOn(w, kSigterm);

  ASSERT_NE(ran.tl.exited, kNever);
  EXPECT_EQ(ran.tl.db_sessions_gone, kNever);
  EXPECT_EQ(w.wait_sample_at, ran.tl.exited + 300'000'000)
      << "the sample that shows them is the one at exit + settle";
  const int sampled = w.IndexOf("db.wait_sample");
  const int killed = w.IndexOf("target.kill_leftovers");
  ASSERT_GE(sampled, 0);
  EXPECT_LT(sampled, killed) << "leftovers may hold the sessions: killed only after the sample";
}

TEST(RunSeamsTest, SessionsGoneWithinSettleAreNotWaitedForFurther) {
  World w;
  w.sessions_linger = 40ms;
  const Ran ran = RunOn(w, kSigterm);
  ASSERT_NE(ran.tl.exited, kNever);
  EXPECT_EQ(ran.tl.db_sessions_gone, ran.tl.exited + 40'000'000);
  EXPECT_EQ(w.IndexOf("db.wait_sample"), -1);
}

TEST(RunSeamsTest, AHelperThatLeavesSoonAfterTheExitIsNoOrphan) {
  World w;
  w.helper_leaves_after = 10ms;  // Python's resource tracker: 8-11 ms
  const Ran ran = RunOn(w, kSigterm);
  ASSERT_NE(ran.tl.exited, kNever);
  EXPECT_TRUE(ran.tl.orphans.empty());
  const CheckResult* orphans = ran.Check("process.orphans");
  ASSERT_NE(orphans, nullptr);
  EXPECT_TRUE(orphans->passed()) << orphans->observed;
}

TEST(RunSeamsTest, AProcessStillThereAtTheSettleIsAnOrphanNamedByItsCommand) {
  World w;
  w.helper_leaves_after = Duration::max();
  const Clock::time_point began = Clock::now();
  const Ran ran = RunOn(w, kSigterm);
  const Nanos took = (Clock::now() - began).count();
  ASSERT_NE(ran.tl.exited, kNever);
  EXPECT_EQ(ran.tl.orphans, (std::vector<int>{4243}));
  EXPECT_GE(took, ran.tl.exited + kOrphanSettle) << "killed before the settle was over";
  const CheckResult* orphans = ran.Check("process.orphans");
  ASSERT_NE(orphans, nullptr);
  EXPECT_TRUE(orphans->failed());
  ASSERT_FALSE(orphans->evidence.empty());
  EXPECT_NE(orphans->evidence[0].find("pid 4243 (python3 server.py) outlived the target"),
            std::string::npos)
      << orphans->evidence[0];
}

TEST(RunSeamsTest, ATargetWhoseChildHoldsTheListenerIsNamedAWrapper) {
  World w;
  w.listeners = {4243};
  const Ran ran = RunOn(w, kSigterm);
  ASSERT_EQ(ran.tl.warnings.size(), 1U);
  EXPECT_NE(ran.tl.warnings[0].find("the target, pid 4242 (server --port 1), does not hold the "
                                    "socket listening on port"),
            std::string::npos)
      << ran.tl.warnings[0];
  EXPECT_NE(ran.tl.warnings[0].find("pid 4243 (python3 server.py) does"), std::string::npos);
  EXPECT_EQ(JudgeRun(ran.checks, ran.tl), RunVerdict::kPass) << "a warning is no verdict";

  World serving;  // the target holds it (a pre-fork master and its workers alike)
  serving.listeners = {4242, 4243};
  EXPECT_TRUE(RunOn(serving, kSigterm).tl.warnings.empty());
}

// A tree still starting at its readiness (a pre-fork worker not yet up)
// is waited for before the load: the baseline is the settled tree's.
TEST(RunSeamsTest, ATreeStillStartingAtReadinessIsWaitedForBeforeTheLoad) {
  World w;
  w.threads_grow_for = 300ms;
  const Ran ran = RunOn(w, SigtermAt("2500ms"));
  ASSERT_NE(ran.tl.tree_settled, kNever);
  EXPECT_GE(ran.tl.tree_settled - ran.tl.ready, 300'000'000) << "settled before it stopped growing";
  EXPECT_EQ(ran.tl.threads_before_load, 4 + 30);
  for (const std::string& warning : ran.tl.warnings) {
    EXPECT_EQ(warning.find("still changing"), std::string::npos) << warning;
  }
}

// One that never settles is waited for 2 s, then the run goes on and says so.
TEST(RunSeamsTest, ATreeThatKeepsChangingAfterReadinessIsSaid) {
  World w;
  w.threads_grow_for = 10s;
  Ran ran = RunOn(w, SigtermAt("2500ms"));
  EXPECT_EQ(ran.tl.tree_settled, kNever);
  std::string said;
  for (const std::string& warning : ran.tl.warnings) {
    if (warning.find("still changing") != std::string::npos) said = warning;
  }
  EXPECT_EQ(said.rfind("the target's process tree was still changing 2s after its readiness (", 0),
            0u)
      << said;
  EXPECT_NE(said.find("threads.growth's baseline before the load may miss a process still "
                      "starting"),
            std::string::npos)
      << said;
  const CheckResult* delivered = ran.Check("faults.delivered");
  ASSERT_NE(delivered, nullptr);
  EXPECT_TRUE(delivered->passed()) << "the wait made the fault late: " << delivered->observed;

  // A fault due sooner cuts the wait short, 200 ms before it: never late.
  World soon;
  soon.threads_grow_for = 10s;
  ran = RunOn(soon, kSigterm);  // SIGTERM at 50 ms: no wait at all
  EXPECT_EQ(ran.tl.tree_settled, kNever);
  delivered = ran.Check("faults.delivered");
  ASSERT_NE(delivered, nullptr);
  EXPECT_TRUE(delivered->passed()) << delivered->observed;
}

TEST(RunSeamsTest, ATargetThatIsNeverReadyIsTheRunsErrorAndNothingElseStarts) {
  World w;
  w.ready_fails = true;
  const Ran ran = RunOn(w, kSigterm);

  EXPECT_EQ(ran.tl.start_error, "not ready within 10s (exit 1)");
  EXPECT_EQ(ran.tl.target_log_tail, "stdout| fake\n");
  EXPECT_EQ(w.IndexOf("proc.start"), -1);
  EXPECT_EQ(w.IndexOf("db.start"), -1);
  EXPECT_EQ(w.IndexOf("SIGTERM to process"), -1);
  EXPECT_EQ(JudgeRun(ran.checks, ran.tl), RunVerdict::kError);
}

TEST(RunSeamsTest, ThePhasesRunInTheirOrderAndTheDatabaseIsDroppedLast) {
  World w;
  const Ran ran = RunOn(w, kSigterm);
  ASSERT_NE(ran.tl.exited, kNever);
  const std::vector<std::string> order = {
      "database.create", "target.start", "target.ready",
      "db.start",        "proc.start",   "SIGTERM to process",
      "target.exit",     "db.wait_gone", "target.kill_leftovers",
      "proc.stop",       "db.stop",      "database.drop"};
  int last = -1;
  for (const std::string& step : order) {
    const int at = w.IndexOf(step);
    EXPECT_GT(at, last) << step << " out of order; calls: " << ::testing::PrintToString(w.calls);
    last = std::max(last, at);
  }
}

TEST(RunSeamsTest, TheTargetGetsThePortAndTheRunDatabasesUrl) {
  World w;
  const Scenario scenario = Parse(kSigterm);
  FakeParts parts(w);
  RunConfig config;
  config.scenario = &scenario;
  config.out_dir = ::testing::TempDir();
  const Timeline tl = RunScenario(config, parts);
  ASSERT_EQ(parts.argv.size(), 5U);
  EXPECT_EQ(parts.argv[0], "server");
  EXPECT_GT(std::stoi(parts.argv[2]), 0);
  EXPECT_EQ(parts.argv[4], "postgresql://fake:secret@127.0.0.1:1/gc_fake");
  EXPECT_TRUE(w.database_dropped);
}

}  // namespace
}  // namespace gracecheck
