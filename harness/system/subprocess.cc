#include "subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
// Boost 1.81's header-only mode forgets this definition (process_environment::
// on_setup); it is inline there, so including it here is enough.
#include <fmt/format.h>

#include <boost/process/v2/impl/environment.ipp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include "procfs.h"
#include "signal_names.h"
extern char** environ;

namespace gracecheck {

namespace bp2 = boost::process::v2;

namespace {

// Runs in the child between fork and exec. Only async-signal-safe calls here:
// the harness is multithreaded.
struct ChildSetup {
  bool new_process_group;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  int parent_death_signal;
  pid_t parent;

  template <typename Launcher>
  boost::system::error_code on_exec_setup(Launcher&, const bp2::filesystem::path&,
                                          const char* const*&) const {
    auto fail = [] { return boost::system::error_code(errno, boost::system::system_category()); };
    if (new_process_group && ::setpgid(0, 0) != 0) return fail();
    if (gid) {
      if (::setgroups(1, &*gid) != 0 || ::setgid(*gid) != 0) return fail();
    }
    if (uid && ::setuid(*uid) != 0) return fail();
    // After the credential change: changing the uid clears the death signal.
    if (parent_death_signal != 0) {
      if (::prctl(PR_SET_PDEATHSIG, parent_death_signal) != 0) return fail();
      if (::getppid() != parent) ::_exit(127);  // the harness died before prctl
    }
    // Signals the harness blocks for its own sigwait thread must not stay
    // blocked in the target.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // The harness ignores SIGPIPE; an ignored signal stays ignored across exec.
    ::signal(SIGPIPE, SIG_DFL);
    CloseEverythingButStdioAtExec();
    return {};
  }

  // The child gets stdin, stdout and stderr, nothing else of the harness's:
  // not the load generator's client sockets (Asio opens them without
  // close-on-exec), not a probe's connection caught between libpq's socket()
  // and its fcntl, not another run's pipes. Boost.Process closes only the
  // fds above the highest one it keeps open for itself (its exec-error pipe,
  // which may be fd 500 while a load runs), so it cannot be relied on.
  // Marking them close-on-exec rather than closing them keeps that pipe
  // working until the exec. Linux >= 5.11 does it in one call; before, one
  // fcntl per possible fd (both are async-signal-safe).
  static void CloseEverythingButStdioAtExec() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    rlimit limit{};
    const rlim_t max = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                           ? limit.rlim_cur
                           : 1 << 20;
    for (rlim_t fd = 3; fd < max; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  }
};

int OpenOutput(const std::string& path) {
  // O_APPEND: whoever caps the file (TargetProcess) may truncate it under the
  // writer. O_NOFOLLOW: a symlink planted in a shared dir is refused.
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    throw SpawnError(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
  }
  return fd;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::vector<std::string> BuildEnvironment(const SpawnOptions& options) {
  std::vector<std::string> env;
  if (options.inherit_env) {
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
  }
  for (const std::string& kv : options.env) {
    const std::string key = kv.substr(0, kv.find('=') + 1);
    for (auto it = env.begin(); it != env.end();) {
      it = it->compare(0, key.size(), key) == 0 ? env.erase(it) : it + 1;
    }
    env.push_back(kv);
  }
  return env;
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus s;
  if (WIFSIGNALED(status)) {
    s.signaled = true;
    s.signal = WTERMSIG(status);
  } else {
    s.code = WEXITSTATUS(status);
  }
  return s;
}

}  // namespace

std::string ExitStatus::ToString() const {
  return signaled ? "signal " + SignalName(signal) : fmt::format("exit {}", code);
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
  // A zombie has ended; it only waits for its parent (or init) to reap it.
  const std::optional<ProcStat> st = ReadProcStat(pid);
  return st && st->state != 'Z' && st->state != 'X';
}

std::optional<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::unique_ptr<Subprocess> Subprocess::Start(const SpawnOptions& options) {
  if (options.argv.empty()) throw SpawnError("empty command");
  std::optional<std::string> exe = FindProgram(options.argv[0]);
  if (!exe) throw SpawnError(fmt::format("cannot run '{}': not found on PATH", options.argv[0]));

  Fd out, err;
  if (options.stdout_fd >= 0) {
    out.fd = ::fcntl(options.stdout_fd, F_DUPFD_CLOEXEC, 0);
  } else if (!options.stdout_path.empty()) {
    out.fd = OpenOutput(options.stdout_path);
  }
  if (options.stderr_path == "=stdout") {
    err.fd = ::fcntl(out.fd >= 0 ? out.fd : STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
  } else if (!options.stderr_path.empty()) {
    err.fd = OpenOutput(options.stderr_path);
  }

  boost::asio::io_context ctx;
  std::vector<std::string> args(options.argv.begin() + 1, options.argv.end());
  ChildSetup setup{options.new_process_group, options.uid, options.gid, options.parent_death_signal,
                   ::getpid()};
  bp2::process_stdio stdio{nullptr,
                           out.fd >= 0 ? bp2::detail::process_output_binding(out.fd)
                                       : bp2::detail::process_output_binding(STDOUT_FILENO),
                           err.fd >= 0 ? bp2::detail::process_error_binding(err.fd)
                                       : bp2::detail::process_error_binding(STDERR_FILENO)};
  boost::system::error_code ec;
  pid_t pid = -1;
  try {
    std::string dir = options.working_dir.empty() ? "." : options.working_dir;
    bp2::process proc(ctx, *exe, args, bp2::process_environment(BuildEnvironment(options)),
                      bp2::process_start_dir(dir), stdio, setup);
    pid = proc.id();
    proc.detach();
  } catch (const boost::system::system_error& e) {
    throw SpawnError(fmt::format("cannot run '{}': {}", options.argv[0], e.code().message()));
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    throw SpawnError(fmt::format("pidfd_open({}): {}", pid, std::strerror(errno)));
  }
  ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  return std::unique_ptr<Subprocess>(
      new Subprocess(pid, options.new_process_group ? pid : 0, pidfd));
}

Subprocess::~Subprocess() {
  if (!status_) Kill();
  ::close(pidfd_);
}

bool Subprocess::Signal(int sig) {
  if (status_) return false;
  return ::kill(pid_, sig) == 0;
}

bool Subprocess::SignalGroup(int sig) {
  if (pgid_ <= 0) return Signal(sig);
  // The group can outlive its leader (children that stay behind).
  return ::kill(-pgid_, sig) == 0;
}

bool Subprocess::Reap(bool block) {
  if (status_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = FromWaitStatus(status);
    return true;
  }
  return false;
}

std::optional<ExitStatus> Subprocess::WaitFor(Duration timeout) {
  if (Reap(false)) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left < Duration::zero()) left = Duration::zero();
    timespec ts{static_cast<time_t>(left.count() / 1'000'000'000),
                static_cast<long>(left.count() % 1'000'000'000)};
    pollfd p{pidfd_, POLLIN, 0};
    int r = ::ppoll(&p, 1, &ts, nullptr);
    if (r < 0 && errno != EINTR) break;
    if (Reap(false)) return status_;
    if (left == Duration::zero()) break;
  }
  return std::nullopt;
}

ExitStatus Subprocess::Kill() {
  if (!status_) {
    SignalGroup(SIGKILL);
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
  return *status_;
}

CommandResult RunCommand(SpawnOptions options, Duration timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SpawnError(std::strerror(errno));
  Fd read_end{fds[0]};
  Fd write_end{fds[1]};
  options.stdout_fd = write_end.fd;
  options.stderr_path = "=stdout";
  std::unique_ptr<Subprocess> child = Subprocess::Start(options);
  ::close(write_end.fd);
  write_end.fd = -1;

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> buf;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      child->Kill();
      throw SpawnError(
          fmt::format("'{}' did not finish within {}", options.argv[0], FormatDuration(timeout)));
    }
    pollfd p{read_end.fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::read(read_end.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf.data(), static_cast<std::size_t>(n));
  }
  auto left = deadline - std::chrono::steady_clock::now();
  std::optional<ExitStatus> status =
      child->WaitFor(left > Duration::zero() ? left : Duration::zero());
  if (!status) {
    child->Kill();
    throw SpawnError(
        fmt::format("'{}' did not exit within {}", options.argv[0], FormatDuration(timeout)));
  }
  result.status = *status;
  return result;
}

}  // namespace gracecheck
