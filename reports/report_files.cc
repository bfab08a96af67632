#include "report_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>

#include "github.h"
#include "html.h"
#include "json.h"
#include "junit.h"
#include "markdown.h"

namespace gracecheck {

int OpenOutputFile(const std::string& path, bool append) {
  // In a directory others may write to (/tmp, a shared CI workspace), the
  // name may be a symlink someone planted to make gracecheck overwrite a
  // file of theirs choosing: there the last component is never followed.
  // Elsewhere a symlink is the user's own (e.g. --json /dev/stdout).
  const std::size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  const bool shared = ::stat(dir.c_str(), &st) == 0 && (st.st_mode & (S_IWOTH | S_IWGRP)) != 0;
  if (path.rfind("/dev/", 0) == 0 || path.rfind("/proc/self/fd/", 0) == 0) append = true;
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  if (shared) flags |= O_NOFOLLOW;
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0 && errno == ELOOP) {
    throw std::runtime_error(fmt::format(
        "cannot write to {}: it is a symlink in a directory others can write to (not followed)",
        path));
  }
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot write to {}: {}", path, std::strerror(errno)));
  return fd;
}

void WriteReportFile(const std::string& path, const std::string& text, const std::string& what,
                     bool append) {
  int fd;
  try {
    fd = OpenOutputFile(path, append);
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

const std::vector<ReportFormat>& ReportFormats() {
  static const std::vector<ReportFormat> table = {
      {"json", "--json", "report.json", "write the JSON report here", "the JSON report",
       /*from_saved_report=*/false, [](const nlohmann::json& r) { return JsonReportText(r); }},
      {"html", "--html", "report.html", "write the HTML report (timeline charts) here",
       "the HTML report", true, [](const nlohmann::json& r) { return HtmlReport(r); }},
      {"junit", "--junit", "junit.xml", "write JUnit XML here (one test case per check)",
       "the JUnit report", true, [](const nlohmann::json& r) { return JunitReport(r); }},
      {"markdown", "--markdown", "report.md",
       "write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY, which is appended to)",
       "the Markdown report", true, [](const nlohmann::json& r) { return MarkdownReport(r); },
       "--markdown-append", "append the Markdown summary to its file instead of replacing it",
       "GITHUB_STEP_SUMMARY"},
      {"github-annotations", "--github-annotations", "",
       "write GitHub Actions annotations here (default when GITHUB_ACTIONS=true: stdout)",
       "the GitHub annotations", true, [](const nlohmann::json& r) { return GithubAnnotations(r); },
       "", "", nullptr, "GITHUB_ACTIONS"},
  };
  return table;
}

bool ReportFiles::appends(const std::string& format) const {
  auto it = appends_.find(format);
  return it != appends_.end() && it->second;
}

ReportFiles ReportFiles::WithEnvironment() const {
  ReportFiles out = *this;
  for (const ReportFormat& f : ReportFormats()) {
    const char* on = f.stdout_when_env ? std::getenv(f.stdout_when_env) : nullptr;
    std::string& p = out[f.name];
    if (p.empty() && on && std::string(on) == "true") p = "/dev/stdout";
  }
  return out;
}

namespace {

// Whether `path` is the file `env` names (both resolved).
bool IsEnvFile(const std::string& path, const char* env) {
  const char* named = env ? std::getenv(env) : nullptr;
  if (!named || !*named) return false;
  std::error_code ec1, ec2;
  const std::filesystem::path a = std::filesystem::weakly_canonical(path, ec1);
  const std::filesystem::path b = std::filesystem::weakly_canonical(named, ec2);
  return !ec1 && !ec2 && a == b;
}

}  // namespace

std::string ReportFiles::path(const std::string& format) const {
  auto it = paths_.find(format);
  return it == paths_.end() ? std::string() : it->second;
}

bool ReportFiles::any() const {
  return std::any_of(paths_.begin(), paths_.end(), [](const auto& p) { return !p.second.empty(); });
}

ReportFiles ReportFiles::InDirectory(const std::string& dir) const {
  ReportFiles out = *this;
  if (dir.empty()) return out;
  for (const ReportFormat& f : ReportFormats()) {
    std::string& p = out[f.name];
    if (p.empty() && !f.out_file.empty()) p = (std::filesystem::path(dir) / f.out_file).string();
  }
  return out;
}

std::vector<OutputPath> ReportFiles::Outputs(const ReportFiles& given) const {
  std::vector<OutputPath> outputs;
  for (const ReportFormat& f : ReportFormats()) {
    const std::string p = path(f.name);
    if (p.empty()) continue;
    outputs.push_back({given.path(f.name).empty() ? "--out" : f.flag, p});
  }
  return outputs;
}

std::vector<std::string> WriteReportFiles(const nlohmann::json& report, const ReportFiles& files,
                                          std::vector<std::string>* written) {
  std::vector<std::string> errors;
  std::fflush(stdout);  // what the console printed comes before a report sent to stdout
  for (const ReportFormat& f : ReportFormats()) {
    const std::string path = files.path(f.name);
    if (path.empty()) continue;
    try {
      WriteReportFile(path, f.render(report), f.what,
                      files.appends(f.name) || IsEnvFile(path, f.append_env));
      if (written) written->push_back(path);
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  return errors;
}

std::vector<std::string> OutputProblems(const std::vector<OutputPath>& outputs) {
  namespace fs = std::filesystem;
  std::vector<std::string> problems;
  std::vector<std::pair<fs::path, const OutputPath*>> seen;  // normalized path -> its output
  std::vector<std::string> new_dirs;  // --out DIRs gracecheck will create, normalized, with "/"
  for (const OutputPath& o : outputs) {
    if (o.path.empty()) continue;
    std::error_code ec;
    fs::path normal = fs::weakly_canonical(fs::absolute(o.path, ec), ec);
    if (ec) normal = fs::path(o.path).lexically_normal();
    auto same =
        std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == normal; });
    if (same != seen.end()) {
      problems.push_back(fmt::format("{} {}: also the path of {}: give each output its own", o.flag,
                                     o.path, same->second->flag));
      continue;
    }
    seen.emplace_back(normal, &o);
    const fs::file_status st = fs::status(o.path, ec);
    if (!o.directory && fs::is_directory(st)) {
      problems.push_back(fmt::format("{} {}: is a directory (give a file name{})", o.flag, o.path,
                                     o.flag == "--out" ? "" : ", or --out DIR for every report"));
      continue;
    }
    if (o.directory && fs::exists(st) && !fs::is_directory(st)) {
      problems.push_back(fmt::format("{} {}: exists and is not a directory", o.flag, o.path));
      continue;
    }
    // A file inside a --out DIR gracecheck creates: fine.
    if (std::any_of(new_dirs.begin(), new_dirs.end(),
                    [&](const std::string& d) { return normal.string().rfind(d, 0) == 0; })) {
      continue;
    }
    // Written in: an existing --out DIR itself; a new one (created with its
    // missing parents) in the nearest directory that exists; a file in its
    // parent directory.
    // A file that exists is written in place: the file itself must be
    // writable (/dev/stdout is, in a directory only root may write to).
    if (!o.directory && fs::exists(st)) {
      if (::access(o.path.c_str(), W_OK) != 0) {
        problems.push_back(
            fmt::format("{} {}: cannot write to it: {}", o.flag, o.path, std::strerror(errno)));
      }
      continue;
    }
    fs::path parent = fs::path(o.path).parent_path();
    if (o.directory && fs::exists(st)) parent = o.path;
    if (o.directory && !fs::exists(st)) {
      new_dirs.push_back(normal.string() + "/");
      while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.parent_path()) {
        parent = parent.parent_path();
      }
    }
    const std::string dir = parent.empty() ? "." : parent.string();
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      problems.push_back(
          fmt::format("{} {}: cannot write in {}: {}", o.flag, o.path, dir, std::strerror(errno)));
    }
  }
  return problems;
}

}  // namespace gracecheck
