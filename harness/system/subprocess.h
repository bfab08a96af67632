// A child process started from an argv list (never through a shell), on top
// of Boost.Process v2: its own process group, optional privilege drop, output
// to files, a parent-death signal so that it does not outlive the harness,
// signals by number to the process or its group, and waits with a deadline.
//
// Threading: a Subprocess is used from one thread at a time. Start it from a
// thread that lives as long as the child should (the parent-death signal
// fires when the *thread* that forked exits, not only the process).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "duration.h"

namespace gracecheck {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is resolved on PATH if not absolute
  std::vector<std::string> env;   // "K=V" entries; the child sees only these
  bool inherit_env = true;        // start from the harness's environment, then `env`
  std::string working_dir;        // empty: the harness's
  std::string stdout_path;        // empty: inherit; else created/truncated
  std::string stderr_path;        // empty: inherit; "=stdout": same file as stdout
  int stdout_fd = -1;             // if >= 0: used instead of stdout_path (not taken over)
  bool new_process_group = true;  // setpgid(0, 0): signals to the group reach only it
  std::optional<uid_t> uid;       // drop to this user (and its groups) before exec
  std::optional<gid_t> gid;
  int parent_death_signal = 9;  // sent to the child if the harness dies; 0: none
};

// How a process ended, from waitpid's status.
struct ExitStatus {
  bool signaled = false;  // true: killed by `signal`; false: exited with `code`
  int code = 0;
  int signal = 0;
  std::string ToString() const;  // "exit 0", "signal SIGKILL"
};

class SpawnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Subprocess {
 public:
  // Throws SpawnError with the reason (e.g. "cannot run 'x': No such file or directory").
  static std::unique_ptr<Subprocess> Start(const SpawnOptions& options);
  ~Subprocess();  // SIGKILLs the group (or process) if still running, then reaps

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  pid_t pgid() const { return pgid_; }
  // Readable (POLLIN) once the process has ended; for callers that wait on
  // several things at once. Owned by the Subprocess.
  int pidfd() const { return pidfd_; }

  // Sends `sig` to the process, or to its whole group. Returns false if the
  // target no longer exists (ESRCH).
  bool Signal(int sig);
  bool SignalGroup(int sig);

  // Waits up to `timeout` for the process to end; nullopt if still running.
  std::optional<ExitStatus> WaitFor(Duration timeout);
  // Nonblocking.
  std::optional<ExitStatus> Poll() { return WaitFor(Duration::zero()); }
  // SIGKILL to the group (and the process), then reap. Returns how it ended.
  ExitStatus Kill();
  // The status once reaped.
  const std::optional<ExitStatus>& exit_status() const { return status_; }

 private:
  Subprocess(pid_t pid, pid_t pgid, int pidfd) : pid_(pid), pgid_(pgid), pidfd_(pidfd) {}
  bool Reap(bool block);

  pid_t pid_;
  pid_t pgid_;  // == pid_ when started in its own group, else 0
  int pidfd_;
  std::optional<ExitStatus> status_;
};

// Runs a command to completion, output captured (stdout and stderr together).
// Throws SpawnError if it cannot start or does not end within `timeout`.
struct CommandResult {
  ExitStatus status;
  std::string output;
};
CommandResult RunCommand(SpawnOptions options, Duration timeout);

// True if `pid` exists and has not ended (a zombie counts as ended).
bool ProcessAlive(pid_t pid);

// Resolves a program name on PATH; returns it unchanged if it has a '/'.
std::optional<std::string> FindProgram(const std::string& name);

}  // namespace gracecheck
