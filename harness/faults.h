// Scripted faults: each fault waits for its trigger, then acts on the
// target. This first version knows two triggers (a time after time zero, and
// a delay after an earlier fault's trigger) and one action (send a signal to
// the process or its group); the trigger is computed in one place
// (TriggerTime) so that later kinds slot in there.
//
// Every fault is recorded: when its trigger said it should fire, when the
// signal actually went out, or why it did not.
//
// Threading: the scheduler runs on its own thread; Start/Stop/Join from the
// owner's thread; the hooks are called on the scheduler's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "scenario.h"
#include "timeline.h"

namespace gracecheck {

struct FaultHooks {
  // Sends the signal; false if there was nobody to send it to.
  std::function<bool(int signal, bool group)> send;
  std::function<bool()> target_running;
  // Called right after the first fault was delivered, with its time.
  std::function<void(Nanos)> first_delivered;
};

class FaultScheduler {
 public:
  using Clock = std::chrono::steady_clock;

  // `time_zero`: when `at: D` counts from (load start, or ready without load).
  FaultScheduler(std::vector<Fault> faults, Nanos time_zero, Clock::time_point epoch,
                 FaultHooks hooks);
  ~FaultScheduler();

  void Start();
  // Faults not yet due will not fire (recorded as such).
  void Stop();
  void Join();
  bool finished() const;

  std::vector<FaultRecord> TakeRecords();

 private:
  void Loop();
  Nanos TriggerTime(const Fault& fault) const;
  // Sleeps until `t`; false if stopped first.
  bool SleepUntil(Nanos t);

  std::vector<Fault> faults_;
  Nanos time_zero_;
  Clock::time_point epoch_;
  FaultHooks hooks_;
  std::vector<FaultRecord> records_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
};

}  // namespace gracecheck
