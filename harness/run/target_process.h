// The target: the server under test, as one child process in its own process
// group. Spawned from an argv list (never through a shell unless the
// scenario's command is `shell: true`), stdout/stderr to files in the run's
// output dir, ready when an HTTP GET answers 2xx, signalled by name or number
// to the process or its group, reaped by a thread of its own so that the exit
// time is exact, and, after the verdict, its whole group killed so that
// nothing outlives the run.
//
// Threading: every method may be called from any thread (one mutex).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "subprocess.h"
#include "timeline.h"

namespace gracecheck {

// The target could not be started or never became ready: exit code 3.
class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TargetOptions {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // added to the harness's environment
  std::string stdout_path;
  std::string stderr_path;
  int port = 0;  // for the readiness probe, on 127.0.0.1
  std::string ready_path = "/healthz";
  Duration ready_timeout = std::chrono::seconds(10);
  Duration ready_interval = std::chrono::milliseconds(50);
  // Each output file keeps its first `output_cap` bytes and what came in the
  // last 20 ms: a target (or a child of it) that floods its output cannot
  // fill the disk. Checked every 20 ms until the group is gone.
  long long output_cap = 64LL << 20;
};

// The target as a run drives it (run.h); TargetProcess is the real one, a
// unit test's fake stands in for it (run_seams_test.cc).
class Target {
 public:
  virtual ~Target() = default;

  virtual int pid() const = 0;
  // Polls the ready probe until 2xx; throws TargetError (with the log's
  // tail) if the target exits first or the timeout passes.
  virtual Nanos WaitReady() = 0;
  // Sends `sig`; false if there was nobody to send it to. Recorded as an event.
  virtual bool Signal(int sig, bool group) = 0;
  virtual bool exited() const = 0;
  // Waits for the exit; true if it happened within `timeout`.
  virtual bool WaitExit(Duration timeout) = 0;
  virtual Nanos exit_time() const = 0;
  virtual std::optional<ExitStatus> exit_status() const = 0;
  // The processes of its group and of `also` still alive, the target itself
  // left out while it runs.
  virtual std::vector<int> Leftovers(const std::set<int>& also) const = 0;
  // After the target exited (or to end it): SIGKILL the process group and any
  // process in `also` that is still alive. Returns the pids that were still
  // alive (the orphans).
  virtual std::vector<int> KillLeftovers(const std::set<int>& also) = 0;
  virtual std::vector<ProcessEvent> events() const = 0;
  // The last `lines` lines of stdout and stderr, prefixed, for error messages
  // (with a line saying how much was dropped, if an output passed its cap).
  virtual std::string LogTail(int lines) const = 0;
};

class TargetProcess : public Target {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws TargetError if it cannot start.
  TargetProcess(const TargetOptions& options, Clock::time_point epoch);
  ~TargetProcess() override;  // kills the group if anything is left

  Nanos WaitReady() override;
  bool Signal(int sig, bool group) override;
  bool exited() const override;
  bool WaitExit(Duration timeout) override;
  Nanos exit_time() const override;
  std::optional<ExitStatus> exit_status() const override;
  std::vector<int> Leftovers(const std::set<int>& also) const override;
  std::vector<int> KillLeftovers(const std::set<int>& also) override;
  int pid() const override { return pid_; }
  std::vector<ProcessEvent> events() const override;
  std::string LogTail(int lines) const override;
  // Bytes dropped from each output file (stdout, stderr) by the cap.
  std::pair<long long, long long> output_dropped() const;

 private:
  Nanos Now() const { return (Clock::now() - epoch_).count(); }
  void Record(ProcessEvent::Kind kind, int value, std::string detail = {});
  void Reap();
  void CapOutputs();

  TargetOptions options_;
  Clock::time_point epoch_;
  std::unique_ptr<Subprocess> process_;
  int pid_ = 0;
  mutable std::mutex mu_;
  std::condition_variable exited_cv_;
  std::optional<ExitStatus> status_;
  Nanos exit_time_ = kNever;
  std::vector<ProcessEvent> events_;
  std::thread reaper_;
  int wake_fd_ = -1;               // eventfd: tells the reaper to give up
  long long dropped_[2] = {0, 0};  // by the output cap; under mu_
};

// One GET on 127.0.0.1:port; the status, or nullopt if there was no complete
// response within `timeout`.
std::optional<int> HttpGetStatus(int port, const std::string& path, Duration timeout);

// Pids of the live processes in process group `pgid` (from /proc).
std::vector<int> ProcessGroupMembers(int pgid);

}  // namespace gracecheck
