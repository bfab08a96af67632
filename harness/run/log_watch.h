// Watches the target's output files for lines matching regexes ({log: REGEX}
// triggers): a thread tails the files (every 1 ms) and remembers, for each
// pattern, when the first matching line appeared.
//
// Threading: Matched() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "timeline.h"

namespace gracecheck {

class LogWatch {
 public:
  using Clock = std::chrono::steady_clock;
  LogWatch(std::vector<std::string> paths, const std::vector<std::string>& patterns,
           Clock::time_point epoch);
  ~LogWatch();

  // pattern -> time of the first matching line (only patterns that matched).
  std::map<std::string, Nanos> Matched() const;

 private:
  void Loop();
  void Scan(std::size_t file, const std::string& chunk);

  std::vector<std::string> paths_;
  std::vector<std::pair<std::string, std::regex>> patterns_;
  Clock::time_point epoch_;
  std::vector<std::string> partial_;  // per file: the unfinished last line
  std::vector<long long> offsets_;
  mutable std::mutex mu_;
  std::map<std::string, Nanos> matched_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gracecheck
