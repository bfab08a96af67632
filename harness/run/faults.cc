#include "faults.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <limits>
#include <random>
#include <variant>

#include "faults/action.h"

namespace gracecheck {

FaultScheduler::FaultScheduler(std::vector<Fault> faults, Nanos time_zero, Nanos ready,
                               Clock::time_point epoch, FaultHooks hooks, TriggerInputs inputs,
                               std::uint64_t seed, Duration poll)
    : faults_(std::move(faults)),
      time_zero_(time_zero),
      ready_(ready),
      epoch_(epoch),
      hooks_(std::move(hooks)),
      inputs_(std::move(inputs)),
      poll_(poll),
      done_(faults_.size(), false),
      met_(faults_.size(), kNever),
      open_(faults_.size(), 0),
      done_at_(faults_.size(), kNever) {
  std::mt19937_64 rng(seed);
  for (Fault& f : faults_) {
    FaultRecord r;
    r.name = f.name;
    r.action = std::string(ActionKindOf(f.action));
    r.signal = SignalOf(f.action);
    r.to_group = f.to == SignalTarget::kGroup;
    r.tolerance = f.tolerance;
    std::vector<std::string> notes;
    DrawRandomTimes(&f.trigger, &rng, &notes);
    for (const std::string& n : notes) r.detail += (r.detail.empty() ? "" : "; ") + n;
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
    // Under full load a plain thread can wait 100 ms and more for a core
    // (measured: p99 108 ms with refapi's 130 threads busy on 2 cores). A
    // real-time priority lets the fault preempt them; it needs privileges
    // (root or CAP_SYS_NICE), and without them the fault is only less
    // precise, which the lag figures show.
    sched_param param{};
    param.sched_priority = 1;
    realtime_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
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

void FaultScheduler::SleepUntil(Nanos t) {
  // The condition variable gets within a millisecond or so; the rest is a
  // short spin, so that the lag stays well under a millisecond.
  const auto target = epoch_ + Duration(t);
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_until(lock, target - std::chrono::milliseconds(1),
                     [this] { return stop_ || wake_; })) {
    return;
  }
  lock.unlock();
  while (Clock::now() < target) {
  }
}

bool FaultScheduler::Send(std::size_t i, int signal, bool group) {
  const bool sent = hooks_.send(signal, group);
  if (sent) {
    std::lock_guard<std::mutex> lock(mu_);
    ++records_[i].deliveries;
  }
  return sent;
}

void FaultScheduler::CloseLocked(std::size_t i) {
  if (--open_[i] > 0) return;
  done_at_[i] = Now();
  wake_ = true;  // a {done: …} trigger may be met now
  cv_.notify_all();
}

void FaultScheduler::AddFollowUp(std::size_t i, Nanos at, std::function<void()> run) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_[i];
    follow_ups_.push({at, [this, i, run = std::move(run)] {
                        run();
                        std::lock_guard<std::mutex> closing(mu_);
                        CloseLocked(i);
                      }});
    wake_ = true;
  }
  cv_.notify_all();
}

void FaultScheduler::RunFollowUps(Nanos until) {
  while (true) {
    FollowUp up;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (follow_ups_.empty() || (until != kNever && follow_ups_.top().at > until)) return;
      up = follow_ups_.top();
      follow_ups_.pop();
    }
    up.run();
  }
}

void FaultScheduler::InBackground(std::size_t i, Nanos t, std::function<std::string()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++background_pending_;
    ++open_[i];
  }
  std::thread before = std::move(background_);
  background_ =
      std::thread([this, i, t, job = std::move(job), before = std::move(before)]() mutable {
        pthread_setname_np(pthread_self(), "gc-dbfault");
        // Not the scheduler's real-time priority: nothing here is timed.
        sched_param normal{};
        pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
        if (before.joinable()) before.join();
        const std::string why = job();
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (why.empty())
            records_[i].delivered = t;
          else
            records_[i].error = why;
          --background_pending_;
          wake_ = true;
          CloseLocked(i);
        }
        cv_.notify_all();
      });
}

void FaultScheduler::Fire(std::size_t i, Nanos met) {
  const Fault& f = faults_[i];
  const bool signals = Signals(f.action);
  {
    std::lock_guard<std::mutex> lock(mu_);
    records_[i].scheduled = met;
    open_[i] = 1;  // its firing; follow-ups and jobs add theirs
  }
  if (signals && !hooks_.target_running()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (f.if_running)
      records_[i].skipped = true;
    else
      records_[i].error = "the target had already exited";
    CloseLocked(i);
    return;
  }
  FaultContext c;
  c.now = Now();
  c.group = f.to == SignalTarget::kGroup;
  c.hooks = &hooks_;
  c.clock = [this] { return Now(); };
  c.send = [this, i](int signal, bool group) { return Send(i, signal, group); };
  c.later = [this, i](Nanos at, std::function<void()> then) {
    AddFollowUp(i, at, std::move(then));
  };
  c.set_detail = [this, i](std::string detail) {
    std::lock_guard<std::mutex> lock(mu_);
    records_[i].detail = std::move(detail);
  };
  bool background = false;
  c.in_background = [this, i, t = c.now, &background](std::function<std::string()> job) {
    background = true;
    InBackground(i, t, std::move(job));
  };
  const std::string error = FireAction(f.action, c);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!background) {  // else recorded when the job ends
      if (error.empty())
        records_[i].delivered = c.now;
      else
        records_[i].error = error;
    }
    CloseLocked(i);
  }
  if (background) return;
  if (error.empty() && signals && !first_signal_sent_) {
    first_signal_sent_ = true;
    if (hooks_.first_delivered) hooks_.first_delivered(c.now);
  }
}

void FaultScheduler::Loop() {
  bool polling = false;
  for (const Fault& f : faults_) polling = polling || NeedsPolling(f.trigger);
  TriggerState state;
  state.time_zero = time_zero_;
  state.ready = ready_;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      wake_ = false;
    }
    state.now = Now();
    state.fault_met = met_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      state.fault_done = done_at_;
    }
    if (polling) {
      if (inputs_.completed) state.completed = inputs_.completed();
      if (inputs_.inflight) state.inflight = inputs_.inflight();
      if (inputs_.db_active) state.db_active = inputs_.db_active();
      if (inputs_.log_matched) state.log_matched = inputs_.log_matched();
    }
    Nanos next = kNever;
    auto consider = [&](Nanos t) { next = next == kNever ? t : std::min(next, t); };
    bool all_done = true;
    for (std::size_t i = 0; i < faults_.size(); ++i) {
      if (done_[i]) continue;
      Nanos deadline = std::numeric_limits<Nanos>::max();
      const Nanos met = TriggerMetAt(faults_[i].trigger, state, &deadline);
      if (met != kNever) {
        done_[i] = true;
        met_[i] = met;
        state.fault_met[i] = met;
        Fire(i, met);
        consider(state.now);  // a fault chained to this one may be due at once
        continue;
      }
      if (faults_[i].timeout && state.now > time_zero_ + faults_[i].timeout->count()) {
        done_[i] = true;
        std::lock_guard<std::mutex> lock(mu_);
        records_[i].error =
            fmt::format("its trigger was not met within {}", FormatDuration(*faults_[i].timeout));
        open_[i] = 1;
        CloseLocked(i);  // given up: done
        continue;
      }
      all_done = false;
      if (deadline != std::numeric_limits<Nanos>::max()) consider(deadline);
    }
    RunFollowUps(Now());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!follow_ups_.empty()) consider(follow_ups_.top().at);
      if (all_done && follow_ups_.empty() && background_pending_ == 0) break;
    }
    // Precise waits (a time, a follow-up) spin their last millisecond; polls
    // of live state and idle waits only sleep.
    Nanos coarse = polling && !all_done ? Now() + poll_.count() : kNever;
    if (next == kNever && coarse == kNever) coarse = Now() + 50'000'000;
    if (next != kNever && (coarse == kNever || next <= coarse)) {
      if (next > Now()) SleepUntil(next);
    } else {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, epoch_ + Duration(coarse), [this] { return stop_ || wake_; });
    }
  }
  // Stopped: what never fired is recorded; follow-ups (SIGCONT, SIGKILL, a
  // block's release) are not left undone, nor background jobs unfinished.
  // The follow-ups go first: a second block waits for the first's locks.
  RunFollowUps(kNever);
  if (background_.joinable()) background_.join();
  RunFollowUps(kNever);
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    if (done_[i]) continue;
    // A load change has nothing to act on once the run is over (the load
    // ends with it), like a fault meant only for a running target.
    if (faults_[i].if_running || std::holds_alternative<LoadStop>(faults_[i].action) ||
        std::holds_alternative<LoadRate>(faults_[i].action)) {
      records_[i].skipped = true;
    } else if (records_[i].error.empty()) {
      records_[i].error = "the run ended before its trigger was met";
    }
  }
  finished_ = true;
}

}  // namespace gracecheck
