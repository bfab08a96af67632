#include "procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace gracecheck {

std::string ReadProcFile(const std::string& path, std::size_t max) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (out.size() > max) out.resize(max);
  return out;
}

int CountEntries(const std::string& dir, std::vector<std::string>* names) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ++n;
    if (names) names->push_back(e->d_name);
  }
  ::closedir(d);
  return n;
}

namespace {

void CollectDescendantsFrom(int pid, std::set<int>* out, int depth) {
  if (depth > 16) return;
  std::vector<std::string> tasks;
  const std::string base = "/proc/" + std::to_string(pid) + "/task/";
  if (CountEntries(base, &tasks) < 0) return;
  for (const std::string& tid : tasks) {
    std::istringstream children(ReadProcFile(base + tid + "/children"));
    for (int child; children >> child;) {
      if (out->insert(child).second) CollectDescendantsFrom(child, out, depth + 1);
    }
  }
}

}  // namespace

void CollectDescendants(int pid, std::set<int>* out) { CollectDescendantsFrom(pid, out, 0); }

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  // "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS MINFLT CMINFLT
  // MAJFLT CMAJFLT UTIME STIME CUTIME CSTIME PRIORITY NICE NUM_THREADS
  // ITREALVALUE STARTTIME ...": fields 3, 4, 20 and 22 (proc(5)).
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return std::nullopt;
  std::istringstream rest(std::string(text.substr(close + 2)));
  ProcStat st;
  std::string field;
  if (!(rest >> st.state >> st.ppid >> st.pgrp)) return std::nullopt;
  for (int i = 6; i < 20; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  long long itreal = 0;
  if (!(rest >> st.threads >> itreal >> st.start_ticks)) return std::nullopt;
  return st;
}

std::optional<ProcStat> ReadProcStat(int pid) {
  const std::string text = ReadProcFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (text.empty()) return std::nullopt;
  return ParseProcStat(text);
}

std::optional<std::uint64_t> SigwaitSetAddress(std::string_view syscall_line) {
  // "NR ARG1 ARG2 ... SP PC", or "running", or "-1 SP PC" outside a call.
  const std::size_t space = syscall_line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string nr(syscall_line.substr(0, space));
  char* end = nullptr;
  const long number = std::strtol(nr.c_str(), &end, 10);
  if (end == nr.c_str() || *end != '\0' || number != SYS_rt_sigtimedwait) return std::nullopt;
  const std::string rest(syscall_line.substr(space + 1));
  const unsigned long long address = std::strtoull(rest.c_str(), &end, 16);
  if (end == rest.c_str() || address == 0) return std::nullopt;
  return address;
}

std::optional<std::uint64_t> SigwaitSetAddress(int pid) {
  return SigwaitSetAddress(ReadProcFile("/proc/" + std::to_string(pid) + "/syscall", 512));
}

std::optional<std::uint64_t> ReadSigwaitSet(int pid, std::uint64_t address) {
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::uint64_t set = 0;
  const ssize_t n = ::pread(fd, &set, sizeof set, static_cast<off_t>(address));
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof set)) return std::nullopt;
  return set;
}

std::string ReadCommandLine(int pid, std::size_t max) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::string line = ReadProcFile(base + "/cmdline", max + 1);
  while (!line.empty() && line.back() == '\0') line.pop_back();
  for (char& c : line) {
    if (c == '\0') c = ' ';
  }
  if (line.empty()) {
    std::string comm = ReadProcFile(base + "/comm", 64);
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    return comm.empty() ? std::string() : "[" + comm + "]";
  }
  if (line.size() > max) {
    line.resize(max);
    line += "…";
  }
  return line;
}

std::vector<int> ListenersOn(int port, const std::set<int>& pids) {
  // /proc/net/tcp{,6}: "sl local_address rem_address st ... inode": the
  // local port in hex after the colon, state 0A is LISTEN.
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(ReadProcFile(table));
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      if (!(f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode))
        continue;
      const std::size_t colon = local.rfind(':');
      if (st != "0A" || colon == std::string::npos) continue;
      if (std::strtol(local.c_str() + colon + 1, nullptr, 16) == port) inodes.insert(inode);
    }
  }
  std::vector<int> holders;
  if (inodes.empty()) return holders;
  for (int pid : pids) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    std::vector<std::string> fds;
    if (CountEntries(dir, &fds) < 0) continue;
    for (const std::string& fd : fds) {
      char buf[128];
      const std::string link = dir + "/" + fd;
      const ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
      if (n <= 0) continue;
      const std::string target(buf, static_cast<std::size_t>(n));
      // "socket:[12345]"
      if (target.rfind("socket:[", 0) == 0 &&
          inodes.count(target.substr(8, target.size() - 9)) != 0) {
        holders.push_back(pid);
        break;
      }
    }
  }
  return holders;
}

int KillProcessesWorkingIn(const std::string& dir) {
  if (dir.empty() || dir == "/") return 0;
  int killed = 0;
  DIR* proc = ::opendir("/proc");
  if (!proc) return 0;
  while (dirent* e = ::readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    char buf[4096];
    const std::string link = "/proc/" + std::string(e->d_name) + "/cwd";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
    if (n <= 0) continue;
    std::string cwd(buf, static_cast<std::size_t>(n));
    const std::string deleted = " (deleted)";
    if (cwd.size() > deleted.size() &&
        cwd.compare(cwd.size() - deleted.size(), deleted.size(), deleted) == 0) {
      cwd.resize(cwd.size() - deleted.size());
    }
    if (cwd == dir || (cwd.size() > dir.size() && cwd.compare(0, dir.size(), dir) == 0 &&
                       cwd[dir.size()] == '/')) {
      if (::kill(pid, SIGKILL) == 0) ++killed;
    }
  }
  ::closedir(proc);
  return killed;
}

std::vector<int> ProcessesWithEnvironment(const std::string& entry) {
  std::vector<int> pids;
  DIR* proc = ::opendir("/proc");
  while (dirent* e = proc ? ::readdir(proc) : nullptr) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    const std::string env = ReadProcFile("/proc/" + std::to_string(pid) + "/environ");
    bool found = false;
    for (std::size_t at = 0; at < env.size() && !found;) {  // NUL-separated entries
      std::size_t end = env.find('\0', at);
      if (end == std::string::npos) end = env.size();
      found = env.compare(at, end - at, entry) == 0;
      at = end + 1;
    }
    if (!found) continue;
    // A zombie has no environ to read, so whatever matched is alive.
    pids.push_back(pid);
  }
  if (proc) ::closedir(proc);
  return pids;
}

}  // namespace gracecheck
