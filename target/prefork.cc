#include "prefork.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// The socket every worker inherits, bound but not yet listening (the master
// listens once every worker is ready): close-on-exec (the workers never
// exec), SO_REUSEADDR and not SO_REUSEPORT, as the single-process server's
// (http_server.cc). Returns -1 with `error` set.
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
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
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

// A worker's side of the startup pipes: a byte on `ready` once it can
// serve; then one byte from `go`, kGo once the master listens (EOF: the
// master gave up starting).
constexpr char kReady = 'r';
constexpr char kGo = 'g';

class PipeGate : public StartGate {
 public:
  PipeGate(int ready, int go) : ready_(ready), go_(go) {}
  ~PipeGate() override {
    if (ready_ >= 0) ::close(ready_);
    if (go_ >= 0) ::close(go_);
  }
  void Ready() override {
    while (::write(ready_, &kReady, 1) < 0 && errno == EINTR) {
    }
    ::close(ready_);
    ready_ = -1;
  }
  bool WaitForGo() override {
    char byte = 0;
    ssize_t n;
    while ((n = ::read(go_, &byte, 1)) < 0 && errno == EINTR) {  // the accept kick
    }
    ::close(go_);
    go_ = -1;
    return n == 1 && byte == kGo;
  }

 private:
  int ready_;
  int go_;
};

class Master {
 public:
  Master(const Options& options, int listener) : options_(options), listener_(listener) {}
  ~Master() {
    for (int fd : {ready_read_, ready_write_, go_read_, go_write_}) {
      if (fd >= 0) ::close(fd);
    }
  }

  // Forks the first worker (it creates the schema), then the others once it
  // is ready; listens once they all are, and lets them serve. False if a
  // worker could not be forked or exited meanwhile, or a signal came: the
  // others are told to stop, and Supervise() waits for them.
  bool Start(const WorkerMain& serve, const std::string& address) {
    int ready[2];
    int go[2];
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) {
      LogError(fmt::format("cannot create the startup pipes: {}", std::strerror(errno)));
      return false;
    }
    ready_read_ = ready[0];
    ready_write_ = ready[1];
    go_read_ = go[0];
    go_write_ = go[1];
    const std::size_t n = options_.worker_processes;
    const bool up = Fork(0, 1, serve) && AwaitReady(1) && Fork(1, n, serve) && AwaitReady(n - 1);
    if (!up) {
      AbandonStart();
      return false;
    }
    if (::listen(listener_, SOMAXCONN) != 0) {
      LogError(fmt::format("cannot listen on {}: {}", address, std::strerror(errno)));
      failed_ = true;
      AbandonStart();
      return false;
    }
    std::printf("listening on %s\n", address.c_str());
    std::fflush(stdout);
    LogPhase("listening", fmt::format("addr={} workers={}", address, n));
    const std::string go_bytes(n, kGo);
    std::size_t sent = 0;
    while (sent < go_bytes.size()) {
      const ssize_t w = ::write(go_write_, go_bytes.data() + sent, go_bytes.size() - sent);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      sent += static_cast<std::size_t>(w);
    }
    CloseFd(&go_write_);
    serving_ = true;
    return true;
  }

  int Supervise() {
    while (!live_.empty()) {
      const int sig = Wait(deadline_);
      if (sig == SIGCHLD) {  // one or more workers left
        if (failed_ && !deadline_)
          deadline_ = Clock::now() + options_.drain_timeout + kWorkerExitSlack;
        continue;
      }
      if (sig == 0) {  // the deadline passed
        LogPhase("workers_killed", fmt::format("n={}", live_.size()));
        Forward(SIGKILL);
        failed_ = true;
        deadline_.reset();
        continue;
      }
      OnSignal(sig);
    }
    int code = failed_ ? kExitFailure : options_.exit_code;
    for (int worker : codes_) {
      if (code == options_.exit_code && worker != options_.exit_code) code = worker;
    }
    LogPhase("exit", fmt::format("code={}", code));
    return code;
  }

 private:
  // Forks workers [from, to); false if one could not be forked.
  bool Fork(std::size_t from, std::size_t to, const WorkerMain& serve) {
    for (std::size_t i = from; i < to; ++i) {
      std::fflush(nullptr);  // nothing buffered is written twice
      const pid_t pid = ::fork();
      if (pid < 0) {
        LogError(fmt::format("cannot fork worker {}: {}", i + 1, std::strerror(errno)));
        failed_ = true;
        return false;
      }
      if (pid == 0) ServeAsWorker(i, serve);
      live_.push_back(pid);
      LogPhase("worker_started", fmt::format("pid={} n={}", pid, i + 1));
    }
    return true;
  }

  // Reads `n` ready bytes, taking signals and workers' exits meanwhile;
  // false if a worker exited or a signal came first.
  bool AwaitReady(std::size_t n) {
    constexpr int kPollMs = 5;
    while (n > 0) {
      pollfd p{ready_read_, POLLIN, 0};
      if (::poll(&p, 1, kPollMs) > 0) {
        char bytes[64];
        const ssize_t got = ::read(ready_read_, bytes, std::min(n, sizeof bytes));
        if (got > 0) n -= static_cast<std::size_t>(got);
      }
      const int sig = Wait(Clock::now());  // what is pending, without waiting
      if (sig == SIGCHLD) return false;    // Reap() said which and stopped the others
      if (sig != 0) {
        OnSignal(sig);
        failed_ = true;  // nothing was served; the master says it did not start
        return false;
      }
    }
    return true;
  }

  // The workers left waiting at their gate read EOF and stop.
  void AbandonStart() {
    LogPhase("start_abandoned", fmt::format("workers={}", live_.size()));
    CloseFd(&go_write_);
    CloseListener();
    Forward(SIGTERM);
    failed_ = true;
    if (!deadline_) deadline_ = Clock::now() + options_.drain_timeout + kWorkerExitSlack;
  }

  void OnSignal(int sig) {
    LogSignal(sig);
    if (++signals_ == 1) {
      if (options_.bugs.Has(Bug::kNoForward)) {
        LogPhase("exit", fmt::format("code={}", options_.exit_code));
        ::_exit(options_.exit_code);
      }
      CloseListener();
      Forward(sig);
      deadline_ = Clock::now() + options_.lame_duck + options_.drain_timeout + kWorkerExitSlack;
    } else {
      Forward(sig);
      LogPhase("forced_exit");
      failed_ = true;
      deadline_ = Clock::now() + kForcedExitLimit;
    }
  }

  [[noreturn]] void ServeAsWorker(std::size_t index, const WorkerMain& serve) {
    ::prctl(PR_SET_NAME, "refapi-worker");
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    ::sigprocmask(SIG_UNBLOCK, &child, nullptr);
    // The master's ends: a worker holding the go pipe's write end would
    // keep every gate from seeing the master give up.
    CloseFd(&ready_read_);
    CloseFd(&go_write_);
    PipeGate gate(std::exchange(ready_write_, -1), std::exchange(go_read_, -1));
    Options worker = options_;
    worker.worker_processes = 0;
    if (options_.buggy_workers != 0 && index >= options_.buggy_workers) worker.bugs = BugSet();
    int code = kExitFailure;
    try {
      code = serve(worker, listener_, /*create_schema=*/index == 0, gate);
    } catch (const std::exception& e) {
      LogError(fmt::format("worker {}: {}", index + 1, e.what()));
    }
    std::fflush(nullptr);
    ::_exit(code);
  }

  static void CloseFd(int* fd) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
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
        LogError(fmt::format("worker {} exited while {}; stopping the others", pid,
                             serving_ ? "serving" : "starting"));
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
  int ready_read_ = -1;
  int ready_write_ = -1;
  int go_read_ = -1;
  int go_write_ = -1;
  std::vector<pid_t> live_;
  std::vector<int> codes_;
  std::optional<Clock::time_point> deadline_;
  int signals_ = 0;
  bool serving_ = false;
  bool failed_ = false;
};

}  // namespace

int RunPrefork(const Options& options, const WorkerMain& serve) {
  int port = 0;
  std::string error;
  const int listener = BindListener(options.listen, &port, &error);
  if (listener < 0) {
    LogError(fmt::format("cannot listen on {}: {}",
                         FormatHostPort(options.listen.host, options.listen.port), error));
    return kExitFailure;
  }
  // SIGCHLD is taken with sigwaitinfo, like the shutdown signals.
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child, nullptr);
  Master master(options, listener);
  master.Start(serve, FormatHostPort(options.listen.host, port));
  return master.Supervise();
}

}  // namespace gracecheck::refapi
