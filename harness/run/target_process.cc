#include "target_process.h"

#include <dirent.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

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

// The TCP addresses the processes in `pids` listen on ("127.0.0.1:8080",
// "[::]:8080"), from their fds and /proc/net/tcp{,6}: for a target that is
// not ready, where it listens instead.
std::vector<std::string> ListeningAddresses(const std::vector<int>& pids) {
  std::set<std::string> inodes;
  for (int pid : pids) {
    const std::string dir = fmt::format("/proc/{}/fd", pid);
    DIR* d = ::opendir(dir.c_str());
    while (dirent* e = d ? ::readdir(d) : nullptr) {
      char link[64];
      const ssize_t n = ::readlink((dir + "/" + e->d_name).c_str(), link, sizeof(link) - 1);
      if (n <= 0) continue;
      const std::string target(link, static_cast<std::size_t>(n));
      if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
    if (d) ::closedir(d);
  }
  std::vector<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream in(ReadProcFile(table));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
            inode)) {
        continue;
      }
      if (state != "0A" || inodes.count(inode) == 0) continue;  // 0A: LISTEN
      const std::size_t colon = local.find(':');
      if (colon == std::string::npos) continue;
      const unsigned long port = std::stoul(local.substr(colon + 1), nullptr, 16);
      const std::string addr = local.substr(0, colon);
      if (addr.size() == 8) {  // IPv4, little-endian hex
        const unsigned long a = std::stoul(addr, nullptr, 16);
        out.push_back(fmt::format("{}.{}.{}.{}:{}", a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff,
                                  a >> 24, port));
      } else {
        const bool any = addr.find_first_not_of('0') == std::string::npos;
        out.push_back(fmt::format("[{}]:{}", any ? "::" : "ipv6", port));
      }
    }
  }
  return out;
}

// Why a target that never answered on its port might not have: what it
// listens on instead, or that nothing of it listens at all.
std::string ListeningHint(int pgid, int port) {
  const std::vector<std::string> addresses = ListeningAddresses(ProcessGroupMembers(pgid));
  if (addresses.empty()) return fmt::format("; it listens on no TCP port (it was given {})", port);
  return fmt::format("; it listens on {} instead of 127.0.0.1:{}", fmt::join(addresses, ", "),
                     port);
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
    const std::optional<ProcStat> st = ReadProcStat(pid);
    if (st && st->pgrp == pgid && st->state != 'Z' && st->state != 'X') pids.push_back(pid);
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
  TargetProcess::KillLeftovers({});  // not virtually: this is a destructor
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
  // Also caps the output files, every 20 ms, until the destructor wakes it:
  // after the target exits, what is left of its group may still write.
  pollfd fds[2] = {{process_->pidfd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    int r = ::poll(fds, 2, 20);
    CapOutputs();
    if (r < 0 && errno == EINTR) continue;
    if (fds[1].revents) return;
    if (fds[0].fd < 0 || !fds[0].revents) continue;
    fds[0].fd = -1;  // poll() skips it from now on
    Nanos t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::optional<ExitStatus> s = process_->Poll();
      t = Now();
      if (!s) continue;  // cannot happen: the pidfd said it ended
      status_ = s;
      exit_time_ = t;
      events_.push_back({t, s->signaled ? ProcessEvent::Kind::kKilled : ProcessEvent::Kind::kExited,
                         s->signaled ? s->signal : s->code, s->ToString()});
    }
    exited_cv_.notify_all();
  }
}

void TargetProcess::CapOutputs() {
  // The files are opened O_APPEND, so the writers' next bytes go to the new
  // end after a truncate.
  const std::string* paths[2] = {&options_.stdout_path, &options_.stderr_path};
  for (int i = 0; i < 2; ++i) {
    if (paths[i]->empty() || *paths[i] == "=stdout") continue;
    struct stat st {};
    if (::stat(paths[i]->c_str(), &st) != 0 || st.st_size <= options_.output_cap) continue;
    if (::truncate(paths[i]->c_str(), options_.output_cap) != 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    dropped_[i] += st.st_size - options_.output_cap;
  }
}

std::pair<long long, long long> TargetProcess::output_dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {dropped_[0], dropped_[1]};
}

void TargetProcess::Record(ProcessEvent::Kind kind, int value, std::string detail) {
  events_.push_back({Now(), kind, value, std::move(detail)});
}

Nanos TargetProcess::WaitReady() {
  const auto deadline = Clock::now() + options_.ready_timeout;
  while (true) {
    interrupt::ThrowIfRequested();
    if (exited()) {
      // A server that forks into the background (daemonizes) exits at once
      // and leaves its child serving: say so, the child is killed anyway.
      const std::vector<int> left = ProcessGroupMembers(pid_);
      const std::string daemon =
          left.empty() ? ""
                       : fmt::format(
                             " and left {} of its group running (pid {}): does it fork "
                             "into the background? run it in the foreground",
                             left.size() == 1 ? "a process" : "processes", fmt::join(left, ", "));
      throw TargetError(fmt::format("the target exited before it was ready ({}){}; its output:\n{}",
                                    exit_status()->ToString(), daemon, LogTail(20)));
    }
    std::optional<int> status = HttpGetStatus(options_.port, options_.ready_path, 1s);
    if (status && *status >= 200 && *status < 300) {
      std::lock_guard<std::mutex> lock(mu_);
      Record(ProcessEvent::Kind::kReady, *status);
      return events_.back().t;
    }
    if (Clock::now() >= deadline) {
      throw TargetError(fmt::format(
          "the target was not ready within {} (GET {} on 127.0.0.1:{}: {}{}); its output:\n{}",
          FormatDuration(options_.ready_timeout), options_.ready_path, options_.port,
          status ? fmt::format("status {}", *status) : "no answer",
          status ? "" : ListeningHint(pid_, options_.port), LogTail(20)));
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

std::vector<int> TargetProcess::Leftovers(const std::set<int>& also) const {
  std::set<int> alive;
  for (int pid : ProcessGroupMembers(pid_)) alive.insert(pid);
  for (int pid : also) {
    if (ProcessAlive(pid)) alive.insert(pid);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_) alive.erase(pid_);  // the target itself is not an orphan
  return {alive.begin(), alive.end()};
}

std::vector<int> TargetProcess::KillLeftovers(const std::set<int>& also) {
  const std::vector<int> alive = TargetProcess::Leftovers(also);
  std::lock_guard<std::mutex> lock(mu_);
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
  const auto [out_dropped, err_dropped] = output_dropped();
  const long long dropped[2] = {out_dropped, err_dropped};
  const char* names[2] = {"stdout", "stderr"};
  const std::string* paths[2] = {&options_.stdout_path, &options_.stderr_path};
  for (int i = 0; i < 2; ++i) {
    if (paths[i]->empty()) continue;
    if (dropped[i] > 0) {
      out += fmt::format(
          "  | (gracecheck: the target's {} passed {} MiB; {} bytes after that were "
          "dropped, the last lines are below)\n",
          names[i], options_.output_cap >> 20, dropped[i]);
    }
    std::string tail = TailOf(*paths[i], lines);
    if (tail.empty()) continue;
    std::istringstream in(tail);
    for (std::string line; std::getline(in, line);) out += "  | " + line + "\n";
  }
  return out.empty() ? "  | (no output)\n" : out;
}

}  // namespace gracecheck
