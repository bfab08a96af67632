// Scripted faults: each fault waits for its trigger, then acts.
//
// Triggers (triggers/trigger.h, one file per kind): a time after time zero
// (or after readiness), a delay after an earlier fault's trigger, N
// completed requests, K requests in flight, K of the run's sessions active,
// a line of the target's output matching a regex, a seeded random time in a
// range, and all/any of these. Evaluation is a pure function (TriggerMetAt)
// of a TriggerState snapshot; the scheduler only feeds it.
//
// Actions (faults/action.h, one file each): send a signal (repeat N times,
// every D), pause (SIGSTOP, SIGCONT after D), kill_after (SIGTERM, then
// SIGKILL to the group after D if still running), database faults and load
// changes (through FaultHooks, since the run owns the database and the
// load). The scheduler gives each firing its FaultContext: follow-ups it
// runs at their time, background jobs it runs one after the other off its
// thread.
//
// Precision: time-based triggers are slept to with a condition variable until
// 1 ms before, then spun to the instant; state triggers are polled every
// `poll` (200 us by default). Every fault records when its trigger was met,
// when the action went out, and so the lag.
//
// Threading: the scheduler runs on its own thread; Start/Stop/Join from the
// owner's thread; the hooks and inputs are called on the scheduler's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "scenario.h"
#include "timeline.h"

namespace gracecheck {

struct TriggerInputs {
  std::function<std::uint64_t()> completed;
  std::function<int()> inflight;
  std::function<int()> db_active;
  std::function<std::map<std::string, Nanos>()> log_matched;
};

class FaultScheduler {
 public:
  using Clock = std::chrono::steady_clock;

  FaultScheduler(std::vector<Fault> faults, Nanos time_zero, Nanos ready, Clock::time_point epoch,
                 FaultHooks hooks, TriggerInputs inputs, std::uint64_t seed,
                 Duration poll = std::chrono::microseconds(200));
  ~FaultScheduler();

  void Start();
  // Faults whose trigger was not met will not fire (recorded as such;
  // if_running ones as skipped); pending follow-ups (SIGCONT, a kill_after's
  // SIGKILL, a block's release) are run at once.
  void Stop();
  void Join();
  // Every fault fired (or gave up) and no follow-up or background job is
  // pending.
  bool finished() const;

  std::vector<FaultRecord> TakeRecords();

 private:
  struct FollowUp {
    Nanos at;
    std::function<void()> run;
    bool operator>(const FollowUp& o) const { return at > o.at; }
  };
  void Loop();
  void Fire(std::size_t i, Nanos met);
  // Both on any thread; each keeps fault i open until `run` or `job` ends.
  void AddFollowUp(std::size_t i, Nanos at, std::function<void()> run);
  void InBackground(std::size_t i, Nanos t, std::function<std::string()> job);
  // Runs the follow-ups due by `until` (all of them with kNever).
  void RunFollowUps(Nanos until);
  // Fault i has one thing fewer to finish (its firing, a follow-up, a job);
  // at none it is done (TriggerState::fault_done). Under mu_.
  void CloseLocked(std::size_t i);
  Nanos Now() const { return (Clock::now() - epoch_).count(); }
  void SleepUntil(Nanos t);
  bool Send(std::size_t i, int signal, bool group);

  std::vector<Fault> faults_;
  Nanos time_zero_;
  Nanos ready_;
  Clock::time_point epoch_;
  FaultHooks hooks_;
  TriggerInputs inputs_;
  Duration poll_;
  std::vector<FaultRecord> records_;
  std::vector<bool> done_;
  std::vector<Nanos> met_;
  std::vector<int> open_;       // under mu_: per fault, its firing and follow-ups still running
  std::vector<Nanos> done_at_;  // under mu_: per fault, when it finished, or kNever
  bool first_signal_sent_ = false;
  std::priority_queue<FollowUp, std::vector<FollowUp>, std::greater<FollowUp>>
      follow_ups_;  // under mu_
  std::thread thread_;
  // Background jobs (the database faults), one after the other, off the
  // scheduler thread: a `db: block` waits for its lock, a restart for the
  // cluster, and a signal due meanwhile must not wait with them (a SIGTERM
  // 200-400 ms late behind a block's LOCK TABLE on a loaded machine). Each
  // new one joins the one before.
  std::thread background_;
  int background_pending_ = 0;  // under mu_
  bool wake_ = false;           // under mu_: a follow-up was added or a job ended
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  bool realtime_ = false;  // the scheduler thread got SCHED_FIFO
};

}  // namespace gracecheck
