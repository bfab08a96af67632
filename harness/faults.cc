#include "faults.h"

#include <pthread.h>

#include "subprocess.h"

namespace gracecheck {

FaultScheduler::FaultScheduler(std::vector<Fault> faults, Nanos time_zero,
                               Clock::time_point epoch, FaultHooks hooks)
    : faults_(std::move(faults)), time_zero_(time_zero), epoch_(epoch), hooks_(std::move(hooks)) {
  for (const Fault& f : faults_) {
    FaultRecord r;
    r.name = f.name;
    r.signal = f.signal;
    r.to_group = f.to == SignalTarget::kGroup;
    r.tolerance = f.tolerance;
    records_.push_back(r);
  }
}

FaultScheduler::~FaultScheduler() {
  Stop();
  Join();
}

void FaultScheduler::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "gc-faults");
    Loop();
  });
}

void FaultScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void FaultScheduler::Join() {
  if (thread_.joinable()) thread_.join();
}

bool FaultScheduler::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

std::vector<FaultRecord> FaultScheduler::TakeRecords() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(records_);
}

Nanos FaultScheduler::TriggerTime(const Fault& fault) const {
  if (const auto* at = std::get_if<AtTime>(&fault.trigger)) return time_zero_ + at->offset.count();
  const auto& after = std::get<AfterFault>(fault.trigger);
  const Nanos base = records_[after.fault].scheduled;
  return base == kNever ? kNever : base + after.delay.count();
}

bool FaultScheduler::SleepUntil(Nanos t) {
  // The condition variable gets within a millisecond or so; the rest is a
  // short spin, so that the lag stays well under a millisecond.
  const auto target = epoch_ + Duration(t);
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_until(lock, target - std::chrono::milliseconds(1), [this] { return stop_; })) {
    return false;
  }
  lock.unlock();
  while (Clock::now() < target) {
  }
  return true;
}

void FaultScheduler::Loop() {
  bool first = true;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const Fault& fault = faults_[i];
    const Nanos when = TriggerTime(fault);
    {
      std::lock_guard<std::mutex> lock(mu_);
      records_[i].scheduled = when;
    }
    if (when == kNever || !SleepUntil(when)) {
      std::lock_guard<std::mutex> lock(mu_);
      // A fault meant only for a running target has nothing to do once the
      // run is over; any other fault did not happen.
      for (std::size_t j = i; j < faults_.size(); ++j) {
        if (faults_[j].if_running) {
          records_[j].skipped = true;
        } else if (records_[j].error.empty()) {
          records_[j].error = "the run ended before its trigger";
        }
      }
      break;
    }
    FaultRecord result;
    if (!hooks_.target_running()) {
      if (fault.if_running) {
        result.skipped = true;
      } else {
        result.error = "the target had already exited";
      }
    } else {
      const Nanos t = (Clock::now() - epoch_).count();
      if (hooks_.send(fault.signal, fault.to == SignalTarget::kGroup)) {
        result.delivered = t;
      } else {
        result.error = "nobody to send " + SignalName(fault.signal) + " to";
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      records_[i].delivered = result.delivered;
      records_[i].skipped = result.skipped;
      records_[i].error = result.error;
    }
    if (first && result.delivered != kNever) {
      first = false;
      if (hooks_.first_delivered) hooks_.first_delivered(result.delivered);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
}

}  // namespace gracecheck
