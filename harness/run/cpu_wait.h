// How long the target's threads waited for a CPU.
//
// A server that decides a keep-alive connection is idle and is then kept off
// the CPU closes it that much later. Seen from the client, the close comes
// late, like a server that took the request and dropped it (a close with the
// request unread is a reset on Linux, and so is an abortive close after
// reading it). The load generator's race window leaves out the generator's
// own stalls (its heartbeat); these waits let it leave out the server's too
// (ExcuseServerCpuWaits, load.h).
//
// Linux counts, per thread, the time it spent runnable on a run queue but
// not running: /proc/PID/task/TID/schedstat, second number ("run_delay",
// ns; CONFIG_SCHED_INFO, on in Debian's kernels). CpuWaitProbe reads it for
// every thread of the target and of its descendants, every `interval`, and
// every `dense_interval` after SetDense (the first signal: when servers
// close their idle connections). It keeps each file open and rereads it; a
// sweep costs about 1.2 us a thread (160 us for 131 threads, measured here),
// which is why it is not as dense as ProcProbe. Threads are listed again
// every 20 ms. At most kCpuWaitFiles files are held (they are
// fds of gracecheck's, counted in fd_limit.h's kFdsPerRun); a thread beyond
// them is not sampled, so its waits excuse nothing (a false alarm may stay
// there, never a silent pass).
//
// Threading: the probe samples on its own thread; Start/SetDense/Stop from
// any other; TakeWaits after Stop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "probes.h"
#include "timeline.h"

namespace gracecheck {

// Each thread's cumulative run delay at every sample (a value is stored only
// when it changed).
class CpuWaits {
 public:
  // One sweep, read between `began` and `ended` (after the last one): every
  // thread seen, its key -> its cumulative run delay in ns. A key is one
  // thread: a tid that comes back after its thread was gone (pid_max is
  // 32768 here, so tids are reused) needs another key (CpuWaitProbe adds a
  // generation above the tid); a run delay that falls is taken for a new
  // thread all the same and counts nothing.
  void AddSample(Nanos began, Nanos ended,
                 const std::vector<std::pair<std::int64_t, std::uint64_t>>& threads);

  // How long at least one thread (the one that waited longest) spent
  // waiting for a CPU within [from, to]; 0 if no sample shows it. Never
  // more than happened, so it cannot excuse more than that: Linux adds a
  // wait to run_delay when it ends (the thread got its CPU back), so a rise
  // between two samples is waits that ended between the first's read and
  // the second's; of each rise, only what must lie within [from, to]
  // wherever it ended in that stretch is counted. A wait that ends just
  // before `to` (a server that gets its CPU back and at once closes a
  // connection) shows in the first sample after `to`; a thread's last wait
  // is lost if it exits before that sample.
  Nanos LongestWait(Nanos from, Nanos to) const;

  std::size_t samples() const { return began_.size(); }
  // How many samples were read wholly within [from, to]. With none, no
  // wait can be placed inside (the probe itself was starved meanwhile).
  std::size_t SamplesWithin(Nanos from, Nanos to) const;

 private:
  struct Thread {
    std::size_t first = 0;                                       // sample of its first sighting
    std::vector<std::pair<std::size_t, std::uint64_t>> changes;  // (sample, delay), ascending
  };
  std::vector<Nanos> began_, ended_;
  std::map<std::int64_t, Thread> threads_;
};

constexpr int kCpuWaitFiles = 64;

// The probe as a run drives it (run.h); a unit test's fake stands in for it.
class CpuWatch {
 public:
  virtual ~CpuWatch() = default;
  virtual void Start() = 0;
  virtual void SetDense() = 0;
  virtual void Stop() = 0;
  virtual CpuWaits TakeWaits() = 0;
};

class CpuWaitProbe : public CpuWatch {
 public:
  using Clock = std::chrono::steady_clock;
  // `descendants`: the processes besides `pid` whose threads count, asked
  // at each listing (ProcProbe::Descendants: its walk of the tree already
  // costs a file per thread; a second one here cost as much as the
  // sampling); none: the target's own threads only.
  CpuWaitProbe(int pid, Clock::time_point epoch, Duration interval = std::chrono::milliseconds(10),
               Duration dense_interval = std::chrono::milliseconds(2),
               std::function<std::set<int>()> descendants = {});
  ~CpuWaitProbe() override;  // stops

  CpuWaitProbe(const CpuWaitProbe&) = delete;
  CpuWaitProbe& operator=(const CpuWaitProbe&) = delete;

  void Start() override;
  void SetDense() override;
  void Stop() override;
  CpuWaits TakeWaits() override;

 private:
  void Loop();
  void Sweep();

  int pid_;
  Clock::time_point epoch_;
  std::function<std::set<int>()> descendants_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  ProbeSchedule schedule_;  // under mu_
  Clock::time_point last_listed_{};
  std::map<int, int> files_;        // tid -> its open schedstat
  std::map<int, int> generations_;  // tid -> how many of its threads were lost so far
  CpuWaits waits_;
};

}  // namespace gracecheck
