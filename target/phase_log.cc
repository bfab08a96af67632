#include "phase_log.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace gracecheck::refapi {

namespace {

void WriteAll(const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr is gone; nothing better to do
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string Timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto micros = duration_cast<microseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(micros / 1'000'000);
  struct tm utc {};
  gmtime_r(&secs, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     micros % 1'000'000);
}

}  // namespace

void LogPhase(std::string_view phase, std::string_view fields) {
  std::string line = fmt::format("refapi[{}] {} phase={}", ::getpid(), Timestamp(), phase);
  if (!fields.empty()) {
    line += ' ';
    line += fields;
  }
  line += '\n';
  WriteAll(line);
}

void LogError(std::string_view message) {
  // libpq's messages span lines ("...failed: Connection refused\n\tIs the
  // server running..."): fold them into one.
  std::string line = "refapi: error: ";
  bool space = false;
  for (char ch : message) {
    if (ch == '\n' || ch == '\t' || ch == '\r' || ch == ' ') {
      space = true;
      continue;
    }
    if (space && line.back() != ' ') line += ' ';
    space = false;
    line += ch;
  }
  line += '\n';
  WriteAll(line);
}

}  // namespace gracecheck::refapi
