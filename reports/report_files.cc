#include "report_files.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "html.h"
#include "json.h"
#include "junit.h"
#include "markdown.h"

namespace gracecheck {

int OpenOutputFile(const std::string& path) {
  // In a directory others may write to (/tmp, a shared CI workspace), the
  // name may be a symlink someone planted to make gracecheck overwrite a
  // file of theirs choosing: there the last component is never followed.
  // Elsewhere a symlink is the user's own (e.g. --json /dev/stdout).
  const std::size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  const bool shared = ::stat(dir.c_str(), &st) == 0 && (st.st_mode & (S_IWOTH | S_IWGRP)) != 0;
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  if (shared) flags |= O_NOFOLLOW;
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0 && errno == ELOOP) {
    throw std::runtime_error(fmt::format(
        "cannot write to {}: it is a symlink in a directory others can write to (not followed)",
        path));
  }
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write to {}: {}", path, std::strerror(errno)));
  return fd;
}

void WriteReportFile(const std::string& path, const std::string& text, const std::string& what) {
  int fd;
  try {
    fd = OpenOutputFile(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("cannot write {}: {}", what, e.what()));
  }
  std::size_t at = 0;
  while (at < text.size()) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw std::runtime_error(fmt::format("cannot write {} to {}: {}", what, path,
                                           n < 0 ? std::strerror(err) : "write failed"));
    }
    at += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    throw std::runtime_error(
        fmt::format("cannot write {} to {}: {}", what, path, std::strerror(errno)));
  }
}

void WriteReportFiles(const nlohmann::json& report, const ReportFiles& files) {
  if (!files.json.empty()) WriteJsonReport(files.json, report);
  if (!files.html.empty()) WriteReportFile(files.html, HtmlReport(report), "the HTML report");
  if (!files.junit.empty()) WriteReportFile(files.junit, JunitReport(report), "the JUnit report");
  if (!files.markdown.empty()) {
    WriteReportFile(files.markdown, MarkdownReport(report), "the Markdown report");
  }
}

}  // namespace gracecheck
