#include "cpu_wait.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "procfs.h"

namespace gracecheck {

void CpuWaits::AddSample(Nanos began, Nanos ended,
                         const std::vector<std::pair<std::int64_t, std::uint64_t>>& threads) {
  const std::size_t index = began_.size();
  began_.push_back(began);
  ended_.push_back(ended);
  for (const auto& [tid, delay] : threads) {
    auto [it, fresh] = threads_.try_emplace(tid);
    Thread& th = it->second;
    if (fresh) th.first = index;
    if (fresh || th.changes.back().second != delay) th.changes.emplace_back(index, delay);
  }
}

namespace {

// The least of a wait of `w` that lies within [from, to], when it ended
// somewhere in [end0, end1]. The overlap is concave in the end, so its
// least is at one of the two.
Nanos LeastOverlap(Nanos w, Nanos end0, Nanos end1, Nanos from, Nanos to) {
  auto overlap = [&](Nanos end) { return std::min(end, to) - std::max(end - w, from); };
  return std::max<Nanos>(0, std::min(overlap(end0), overlap(end1)));
}

}  // namespace

Nanos CpuWaits::LongestWait(Nanos from, Nanos to) const {
  Nanos longest = 0;
  for (const auto& [tid, th] : threads_) {
    Nanos total = 0;
    // changes[0] is the first sighting: what it shows waited before.
    for (std::size_t k = 1; k < th.changes.size(); ++k) {
      const std::size_t at = th.changes[k].first;  // risen since sample at - 1
      if (ended_[at] < from) continue;             // ended before: none of it within
      if (th.changes[k].second <= th.changes[k - 1].second) continue;  // another thread
      const Nanos w = static_cast<Nanos>(th.changes[k].second - th.changes[k - 1].second);
      total += LeastOverlap(w, began_[at - 1], ended_[at], from, to);
    }
    longest = std::max(longest, total);
  }
  return longest;
}

std::size_t CpuWaits::SamplesWithin(Nanos from, Nanos to) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < began_.size(); ++i) n += began_[i] >= from && ended_[i] <= to;
  return n;
}

CpuWaitProbe::CpuWaitProbe(int pid, Clock::time_point epoch, Duration interval,
                           Duration dense_interval, std::function<std::set<int>()> descendants)
    : pid_(pid),
      epoch_(epoch),
      descendants_(std::move(descendants)),
      schedule_(interval, dense_interval) {}

CpuWaitProbe::~CpuWaitProbe() {
  CpuWaitProbe::Stop();
  for (const auto& [tid, fd] : files_) ::close(fd);
}

void CpuWaitProbe::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "gc-cpuwait");
    Loop();
  });
}

void CpuWaitProbe::SetDense() { schedule_.SetDense(mu_, cv_); }

void CpuWaitProbe::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CpuWaits CpuWaitProbe::TakeWaits() { return std::move(waits_); }

void CpuWaitProbe::Loop() {
  while (!stop_) {
    Sweep();
    std::unique_lock<std::mutex> lock(mu_);
    if (!schedule_.WaitNext(lock, cv_, stop_)) break;
  }
}

void CpuWaitProbe::Sweep() {
  const Clock::time_point at = Clock::now();
  const Nanos began = (at - epoch_).count();
  if (at - last_listed_ >= std::chrono::milliseconds(20)) {
    last_listed_ = at;
    std::set<int> processes = descendants_ ? descendants_() : std::set<int>{};
    processes.insert(pid_);
    for (int pid : processes) {
      const std::string base = "/proc/" + std::to_string(pid) + "/task/";
      std::vector<std::string> tids;
      CountEntries(base, &tids);
      for (const std::string& name : tids) {
        const int tid = std::atoi(name.c_str());
        if (tid <= 0 || files_.count(tid)) continue;
        if (files_.size() >= static_cast<std::size_t>(kCpuWaitFiles)) break;
        const int fd = ::open((base + name + "/schedstat").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) files_.emplace(tid, fd);
      }
    }
  }
  std::vector<std::pair<std::int64_t, std::uint64_t>> threads;
  threads.reserve(files_.size());
  char buf[96];
  for (auto it = files_.begin(); it != files_.end();) {
    // "run_time run_delay timeslices\n"; a thread that is gone reads nothing.
    const ssize_t n = ::pread(it->second, buf, sizeof(buf) - 1, 0);
    char* space = nullptr;
    if (n > 0) {
      buf[n] = '\0';
      space = std::strchr(buf, ' ');
    }
    if (!space) {
      ::close(it->second);
      ++generations_[it->first];  // a thread with this tid later is another one
      it = files_.erase(it);
      continue;
    }
    const std::int64_t key = (static_cast<std::int64_t>(generations_[it->first]) << 32) | it->first;
    threads.emplace_back(key, std::strtoull(space + 1, nullptr, 10));
    ++it;
  }
  waits_.AddSample(began, (Clock::now() - epoch_).count(), threads);
}

}  // namespace gracecheck
