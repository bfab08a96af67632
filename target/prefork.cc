#include "prefork.h"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "api.h"
#include "phase_log.h"
#include "signals.h"

namespace gracecheck::refapi {

namespace {

constexpr int kExitFailure = 1;
using Clock = std::chrono::steady_clock;

// How long the workers get beyond their own lame duck and drain timeout.
constexpr auto kWorkerExitSlack = std::chrono::seconds(5);
// How long they get to go after a second signal.
constexpr auto kForcedExitLimit = std::chrono::seconds(1);

// The listening socket every worker inherits: close-on-exec (the workers
// never exec), SO_REUSEADDR and not SO_REUSEPORT, backlog SOMAXCONN, as the
// single-process server's (http_server.cc). Returns -1 with `error` set.
int BindListener(const ListenAddress& address, int* port, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(address.port);
  if (int rc = ::getaddrinfo(address.host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    *error = ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      *error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return -1;
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  *port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

// How a worker ended, as a shell reports it: its code, or 128 + signal.
int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitFailure;
}

class Master {
 public:
  Master(const Options& options, int listener) : options_(options), listener_(listener) {}

  // Forks the workers; false if one could not be forked (those forked are
  // stopped and reaped).
  bool Fork(const WorkerMain& serve) {
    for (std::size_t i = 0; i < options_.worker_processes; ++i) {
      std::fflush(nullptr);  // nothing buffered is written twice
      const pid_t pid = ::fork();
      if (pid < 0) {
        LogError(fmt::format("cannot fork worker {}: {}", i + 1, std::strerror(errno)));
        Forward(SIGTERM);
        while (!live_.empty()) Wait(std::nullopt);
        return false;
      }
      if (pid == 0) ServeAsWorker(i, serve);
      live_.push_back(pid);
      LogPhase("worker_started", fmt::format("pid={} n={}", pid, i + 1));
    }
    return true;
  }

  int Supervise() {
    int signals = 0;
    std::optional<Clock::time_point> deadline;
    while (!live_.empty()) {
      const int sig = Wait(deadline);
      if (sig == SIGCHLD) {  // one or more workers left
        if (failed_ && !deadline)
          deadline = Clock::now() + options_.drain_timeout + kWorkerExitSlack;
        continue;
      }
      if (sig == 0) {  // the deadline passed
        LogPhase("workers_killed", fmt::format("n={}", live_.size()));
        Forward(SIGKILL);
        failed_ = true;
        deadline.reset();
        continue;
      }
      LogSignal(sig);
      if (++signals == 1) {
        if (options_.bugs.Has(Bug::kNoForward)) {
          LogPhase("exit", fmt::format("code={}", options_.exit_code));
          ::_exit(options_.exit_code);
        }
        CloseListener();
        Forward(sig);
        deadline = Clock::now() + options_.lame_duck + options_.drain_timeout + kWorkerExitSlack;
      } else {
        Forward(sig);
        LogPhase("forced_exit");
        failed_ = true;
        deadline = Clock::now() + kForcedExitLimit;
      }
    }
    int code = failed_ ? kExitFailure : options_.exit_code;
    for (int worker : codes_) {
      if (code == options_.exit_code && worker != options_.exit_code) code = worker;
    }
    LogPhase("exit", fmt::format("code={}", code));
    return code;
  }

 private:
  [[noreturn]] void ServeAsWorker(std::size_t index, const WorkerMain& serve) {
    ::prctl(PR_SET_NAME, "refapi-worker");
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    ::sigprocmask(SIG_UNBLOCK, &child, nullptr);
    Options worker = options_;
    worker.worker_processes = 0;
    if (options_.buggy_workers != 0 && index >= options_.buggy_workers) worker.bugs = BugSet();
    int code = kExitFailure;
    try {
      code = serve(worker, listener_);
    } catch (const std::exception& e) {
      LogError(fmt::format("worker {}: {}", index + 1, e.what()));
    }
    std::fflush(nullptr);
    ::_exit(code);
  }

  // Waits for a shutdown signal or a worker's exit, until `deadline`;
  // returns the signal (SIGCHLD: workers exited, and were reaped), or 0 once
  // the deadline passed.
  int Wait(std::optional<Clock::time_point> deadline) {
    sigset_t set = ShutdownSignalSet();
    sigaddset(&set, SIGCHLD);
    for (;;) {
      siginfo_t info{};
      int sig;
      if (deadline) {
        const auto left = std::max(Clock::duration::zero(), *deadline - Clock::now());
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                         static_cast<long>(ns % 1'000'000'000)};
        sig = ::sigtimedwait(&set, &info, &timeout);
      } else {
        sig = ::sigwaitinfo(&set, &info);
      }
      if (sig < 0 && errno == EAGAIN) return 0;
      if (sig < 0) continue;  // EINTR
      if (sig != SIGCHLD) return sig;
      if (Reap()) return SIGCHLD;
    }
  }

  // Reaps every worker that exited; true if one did. One that exits while
  // the rest still serve ends the server.
  bool Reap() {
    bool any = false;
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = std::find(live_.begin(), live_.end(), pid);
      if (it == live_.end()) continue;
      live_.erase(it);
      any = true;
      const int code = ExitCodeOf(status);
      codes_.push_back(code);
      LogPhase("worker_exited", fmt::format("pid={} code={}", pid, code));
      if (listener_ >= 0) {  // before any signal
        LogError(fmt::format("worker {} exited while serving; stopping the others", pid));
        failed_ = true;
        CloseListener();
        Forward(SIGTERM);
      }
    }
    return any;
  }

  void CloseListener() {
    if (listener_ < 0) return;
    ::close(listener_);
    listener_ = -1;
    LogPhase("master_closed_listener");
  }

  void Forward(int sig) {
    for (pid_t pid : live_) ::kill(pid, sig);
  }

  const Options& options_;
  int listener_;
  std::vector<pid_t> live_;
  std::vector<int> codes_;
  bool failed_ = false;
};

}  // namespace

int RunPrefork(const Options& options, const WorkerMain& serve) {
  try {  // once, before the workers' pools prepare statements on it; closed before they fork
    pqxx::connection connection(options.db_url);
    CreateSchema(connection);
  } catch (const std::exception& e) {
    LogError(fmt::format("cannot create the schema: {}", e.what()));
    return kExitFailure;
  }
  int port = 0;
  std::string error;
  const int listener = BindListener(options.listen, &port, &error);
  if (listener < 0) {
    LogError(fmt::format("cannot listen on {}: {}",
                         FormatHostPort(options.listen.host, options.listen.port), error));
    return kExitFailure;
  }
  const std::string address = FormatHostPort(options.listen.host, port);
  std::printf("listening on %s\n", address.c_str());
  std::fflush(stdout);
  LogPhase("listening", fmt::format("addr={} workers={}", address, options.worker_processes));

  // SIGCHLD is taken with sigwaitinfo, like the shutdown signals.
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child, nullptr);
  Master master(options, listener);
  if (!master.Fork(serve)) return kExitFailure;
  return master.Supervise();
}

}  // namespace gracecheck::refapi
