#include "target_process.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "http_response.h"
#include "interrupt.h"
#include "procfs.h"
#include "watchdog.h"

namespace gracecheck {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string TailOf(const std::string& path, int lines) {
  std::ifstream in(path);
  if (!in) return {};
  // Read at most the last 64 KiB: a target may have flooded its log.
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(size > 65536 ? size - 65536 : 0);
  std::vector<std::string> kept;
  std::string line;
  while (std::getline(in, line)) {
    kept.push_back(line);
    if (static_cast<int>(kept.size()) > lines) kept.erase(kept.begin());
  }
  std::string out;
  for (const std::string& l : kept) out += l + "\n";
  return out;
}

}  // namespace

std::optional<int> HttpGetStatus(int port, const std::string& path, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::nullopt;
  auto wait = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
  };
  std::optional<int> status;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  int r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = 0;
  socklen_t len = sizeof(err);
  if (r != 0 && errno == EINPROGRESS && wait(POLLOUT)) {
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    r = err == 0 ? 0 : -1;
  }
  if (r == 0) {
    const std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: gracecheck-ready\r\n"
        "Connection: close\r\n\r\n",
        path, port);
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      ResponseParser parser;
      parser.Reset();
      char buf[4096];
      while (!parser.complete() && !parser.failed() && wait(POLLIN)) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
          parser.FinishAtEof();
          break;
        }
        parser.Feed(buf, static_cast<std::size_t>(n));
      }
      if (parser.complete()) status = parser.status();
    }
  }
  ::close(fd);
  return status;
}

std::vector<int> ProcessGroupMembers(int pgid) {
  std::vector<int> pids;
  if (pgid <= 0) return pids;
  DIR* proc = ::opendir("/proc");
  if (!proc) return pids;
  while (dirent* e = ::readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    const std::string text = ReadProcFile(fmt::format("/proc/{}/stat", pid));
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(text.substr(paren + 2));
    char state;
    int ppid, pgrp;
    if (!(rest >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

TargetProcess::TargetProcess(const TargetOptions& options, Clock::time_point epoch)
    : options_(options), epoch_(epoch) {
  SpawnOptions spawn{.argv = options.argv,
                     .env = options.env,
                     .stdout_path = options.stdout_path,
                     .stderr_path = options.stderr_path,
                     .new_process_group = true,
                     .parent_death_signal = SIGKILL};
  try {
    process_ = Subprocess::Start(spawn);
  } catch (const SpawnError& e) {
    throw TargetError(fmt::format("cannot start the target: {}", e.what()));
  }
  pid_ = process_->pid();
  watchdog::WatchGroup(pid_);
  Record(ProcessEvent::Kind::kSpawned, pid_);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  reaper_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "gc-reaper");
    Reap();
  });
}

TargetProcess::~TargetProcess() {
  KillLeftovers();
  watchdog::ForgetGroup(pid_);
  if (reaper_.joinable()) {
    std::uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    (void)n;
    reaper_.join();
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void TargetProcess::Reap() {
  pollfd fds[2] = {{process_->pidfd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (fds[1].revents) return;
    if (fds[0].revents) break;
  }
  std::function<void(Nanos)> callback;
  Nanos t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<ExitStatus> s = process_->Poll();
    t = Now();
    if (!s) return;  // cannot happen: the pidfd said it ended
    status_ = s;
    exit_time_ = t;
    events_.push_back({t, s->signaled ? ProcessEvent::Kind::kKilled : ProcessEvent::Kind::kExited,
                       s->signaled ? s->signal : s->code, s->ToString()});
    callback = on_exit_;
  }
  exited_cv_.notify_all();
  if (callback) callback(t);
}

void TargetProcess::OnExit(std::function<void(Nanos)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_exit_ = std::move(callback);
}

void TargetProcess::Record(ProcessEvent::Kind kind, int value, std::string detail) {
  events_.push_back({Now(), kind, value, std::move(detail)});
}

Nanos TargetProcess::WaitReady() {
  const auto deadline = Clock::now() + options_.ready_timeout;
  while (true) {
    interrupt::ThrowIfRequested();
    if (exited()) {
      throw TargetError(fmt::format("the target exited before it was ready ({}); its output:\n{}",
                                    exit_status()->ToString(), LogTail()));
    }
    std::optional<int> status = HttpGetStatus(options_.port, options_.ready_path, 1s);
    if (status && *status >= 200 && *status < 300) {
      std::lock_guard<std::mutex> lock(mu_);
      Record(ProcessEvent::Kind::kReady, *status);
      return events_.back().t;
    }
    if (Clock::now() >= deadline) {
      throw TargetError(fmt::format(
          "the target was not ready within {} (GET {} on 127.0.0.1:{}: {}); its output:\n{}",
          FormatDuration(options_.ready_timeout), options_.ready_path, options_.port,
          status ? fmt::format("status {}", *status) : "no answer", LogTail()));
    }
    std::unique_lock<std::mutex> lock(mu_);
    exited_cv_.wait_for(lock, options_.ready_interval, [this] { return status_.has_value(); });
  }
}

bool TargetProcess::Signal(int sig, bool group) {
  std::lock_guard<std::mutex> lock(mu_);
  bool sent;
  if (group) {
    sent = ::kill(-pid_, sig) == 0;  // the group may outlive its leader
  } else {
    sent = !status_ && process_->Signal(sig);
  }
  if (sent) {
    Record(ProcessEvent::Kind::kSignalSent, sig, group ? "group" : "process");
  }
  return sent;
}

bool TargetProcess::exited() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_.has_value();
}

bool TargetProcess::WaitExit(Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return exited_cv_.wait_for(lock, timeout, [this] { return status_.has_value(); });
}

Nanos TargetProcess::exit_time() const {
  std::lock_guard<std::mutex> lock(mu_);
  return exit_time_;
}

std::optional<ExitStatus> TargetProcess::exit_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::vector<int> TargetProcess::KillLeftovers(const std::set<int>& also) {
  std::set<int> alive;
  for (int pid : ProcessGroupMembers(pid_)) alive.insert(pid);
  for (int pid : also) {
    if (ProcessAlive(pid)) alive.insert(pid);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_) alive.erase(pid_);  // the target itself is not an orphan
  ::kill(-pid_, SIGKILL);
  for (int pid : alive) {
    ::kill(pid, SIGKILL);
    Record(ProcessEvent::Kind::kOrphanKilled, pid);
  }
  if (!status_) process_->Signal(SIGKILL);
  return {alive.begin(), alive.end()};
}

std::vector<ProcessEvent> TargetProcess::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::string TargetProcess::LogTail(int lines) const {
  std::string out;
  for (const std::string& path : {options_.stdout_path, options_.stderr_path}) {
    if (path.empty()) continue;
    std::string tail = TailOf(path, lines);
    if (tail.empty()) continue;
    std::istringstream in(tail);
    for (std::string line; std::getline(in, line);) out += "  | " + line + "\n";
  }
  return out.empty() ? "  | (no output)\n" : out;
}

}  // namespace gracecheck
