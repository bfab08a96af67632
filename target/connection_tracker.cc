#include "connection_tracker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace gracecheck::refapi {

namespace {

int MakeEventFd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

ConnectionTracker::ConnectionTracker() : wakeup_fd_(MakeEventFd()) {}

ConnectionTracker::~ConnectionTracker() { ::close(wakeup_fd_); }

std::size_t& ConnectionTracker::CountOf(State s) {
  switch (s) {
    case State::kQueued:
      return counts_.queued;
    case State::kFresh:
      return counts_.fresh;
    case State::kActive:
      return counts_.active;
    case State::kIdle:
      return counts_.idle;
  }
  return counts_.idle;
}

// Only shutdown waits on cv_, so while serving, the per-request bookkeeping
// costs one uncontended lock and no wakeups.
void ConnectionTracker::NotifyLocked() {
  if (waiters_ > 0) cv_.notify_all();
}

void ConnectionTracker::Queued() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.queued;
}

void ConnectionTracker::Move(State from, State to) {
  std::lock_guard<std::mutex> lock(mu_);
  --CountOf(from);
  ++CountOf(to);
  NotifyLocked();
}

void ConnectionTracker::Closed(State from, bool by_close_idle) {
  std::lock_guard<std::mutex> lock(mu_);
  --CountOf(from);
  if (by_close_idle) ++counts_.closed_idle;
  NotifyLocked();
}

void ConnectionTracker::StopKeepAlive() {
  std::lock_guard<std::mutex> lock(mu_);
  keep_alive_stopped_ = true;
}

bool ConnectionTracker::keep_alive_stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keep_alive_stopped_;
}

void ConnectionTracker::CloseIdle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_idle_ = true;
  }
  // Never read back: the eventfd stays readable, so every idle wait from now
  // on returns at once.
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wakeup_fd_, &one, sizeof one);
}

bool ConnectionTracker::closing_idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closing_idle_;
}

ConnectionTracker::Counts ConnectionTracker::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

bool ConnectionTracker::WaitUntil(const std::function<bool(const Counts&)>& done,
                                  std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  ++waiters_;
  bool ok = cv_.wait_until(lock, deadline, [&] { return done(counts_); });
  --waiters_;
  return ok;
}

}  // namespace gracecheck::refapi
