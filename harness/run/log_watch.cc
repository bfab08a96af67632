#include "log_watch.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace gracecheck {

LogWatch::LogWatch(std::vector<std::string> paths, const std::vector<std::string>& patterns,
                   Clock::time_point epoch)
    : paths_(std::move(paths)), epoch_(epoch), partial_(paths_.size()), offsets_(paths_.size(), 0) {
  for (const std::string& p : patterns) patterns_.emplace_back(p, std::regex(p));
  if (!patterns_.empty()) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "gc-logwatch");
      Loop();
    });
  }
}

LogWatch::~LogWatch() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, Nanos> LogWatch::Matched() const {
  std::lock_guard<std::mutex> lock(mu_);
  return matched_;
}

void LogWatch::Scan(std::size_t file, const std::string& chunk) {
  const Nanos t = (Clock::now() - epoch_).count();
  std::string& line = partial_[file];
  for (char c : chunk) {
    if (c != '\n') {
      if (line.size() < 64 * 1024) line += c;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [text, re] : patterns_) {
      if (!matched_.count(text) && std::regex_search(line, re)) matched_[text] = t;
    }
    line.clear();
  }
}

void LogWatch::Loop() {
  std::vector<int> fds(paths_.size(), -1);
  char buf[16384];
  while (!stop_) {
    for (std::size_t i = 0; i < paths_.size(); ++i) {
      if (fds[i] < 0) fds[i] = ::open(paths_[i].c_str(), O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0) continue;
      ssize_t n;
      while ((n = ::pread(fds[i], buf, sizeof(buf), offsets_[i])) > 0) {
        offsets_[i] += n;
        Scan(i, std::string(buf, static_cast<std::size_t>(n)));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (matched_.size() == patterns_.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

}  // namespace gracecheck
