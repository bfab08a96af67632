#include "watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "procfs.h"
#include "subprocess.h"

namespace gracecheck::watchdog {

namespace {

std::mutex g_mu;
int g_fd = -1;
pid_t g_pid = -1;

void Tell(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_fd < 0) return;
  const std::string msg = line + "\n";
  ssize_t n = ::write(g_fd, msg.data(), msg.size());
  (void)n;
}

// The watchdog process itself.
[[noreturn]] void Watch(int fd) {
  ::setpgid(0, 0);  // not in gracecheck's group: a Ctrl-C is gracecheck's to handle
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  std::set<pid_t> groups;
  std::map<std::string, pid_t> dirs;
  std::string pending;
  char buf[4096];
  bool goodbye = false;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.size() < 2) continue;
      const std::string arg = line.substr(2);
      switch (line[0]) {
        case 'G':
          groups.insert(static_cast<pid_t>(std::atol(arg.c_str())));
          break;
        case 'g':
          groups.erase(static_cast<pid_t>(std::atol(arg.c_str())));
          break;
        case 'D': {
          const std::size_t sp = arg.find(' ');
          dirs[arg.substr(sp + 1)] = static_cast<pid_t>(std::atol(arg.substr(0, sp).c_str()));
          break;
        }
        case 'd':
          dirs.erase(arg);
          break;
        case 'B':
          goodbye = true;
          break;
      }
    }
  }
  if (!goodbye) {
    for (pid_t g : groups) ::kill(-g, SIGKILL);
    for (const auto& [dir, pid] : dirs) {
      if (pid > 0) {
        ::kill(pid, SIGQUIT);  // its parent-death signal did the same; be sure
        for (int i = 0; i < 500 && ProcessAlive(pid); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(-pid, SIGKILL);
      }
      KillProcessesWorkingIn(dir);
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  ::_exit(0);
}

}  // namespace

bool Start() {
  // For tests of the second line of defence (stale-cluster removal).
  if (const char* off = std::getenv("GRACECHECK_NO_WATCHDOG"); off && *off == '1') return false;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[1]);
    // Close everything else gracecheck had open (e.g. a test's pipes), so
    // that nobody waits on the watchdog holding them.
    for (int fd = 3; fd < 1024; ++fd) {
      if (fd != fds[0]) ::close(fd);
    }
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3 && null >= 0; ++fd) ::dup2(null, fd);
    Watch(fds[0]);
  }
  ::close(fds[0]);
  std::lock_guard<std::mutex> lock(g_mu);
  g_fd = fds[1];
  g_pid = pid;
  return true;
}

void WatchGroup(pid_t pgid) { Tell("G " + std::to_string(pgid)); }
void ForgetGroup(pid_t pgid) { Tell("g " + std::to_string(pgid)); }
void WatchDir(const std::string& dir, pid_t wait_pid) {
  Tell("D " + std::to_string(wait_pid) + " " + dir);
}
void ForgetDir(const std::string& dir) { Tell("d " + dir); }

void Goodbye() {
  Tell("B x");
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_fd >= 0) ::close(g_fd);
  g_fd = -1;
  // Wait for it to leave (it exits on reading the goodbye): gracecheck
  // leaves no process behind, not even its watchdog for a few ms. (A test
  // that looked for leftovers right after a usage error, exit 2 in 70 ms,
  // found it still there once in a clean-clone run of the suite.) Bounded:
  // 2 s, polled.
  if (g_pid > 0) {
    for (int i = 0; i < 2000; ++i) {
      const pid_t r = ::waitpid(g_pid, nullptr, WNOHANG);
      if (r == g_pid || (r < 0 && errno != EINTR)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    g_pid = -1;
  }
}

}  // namespace gracecheck::watchdog
