#include "github.h"

#include <fmt/format.h>

namespace gracecheck {

namespace {

// A workflow command's message: %, CR and LF escaped.
std::string Data(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

// A property's value (title=…): also : and , escaped.
std::string Property(const std::string& s) {
  std::string out;
  for (char c : Data(s)) {
    if (c == ':')
      out += "%3A";
    else if (c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

// `file` and `where` (line 0: none) put the annotation on the scenario's
// line in the pull request's diff and the run's summary.
void Command(std::string* out, const char* level, const std::string& title,
             const std::string& message, const std::string& file = "", SourcePos where = {}) {
  std::string properties;
  if (!file.empty()) {
    properties += "file=" + Property(file) + ",";
    if (where.line > 0) properties += fmt::format("line={},col={},", where.line, where.col);
  }
  *out += fmt::format("::{} {}title={}::{}\n", level, properties, Property(title), Data(message));
}

}  // namespace

std::string GithubAnnotations(const ReportView& report) {
  std::string out;
  if (report.interrupted) {
    Command(&out, "warning", "gracecheck",
            fmt::format("the suite was interrupted: {} run{} judged before it, the rest never ran",
                        report.runs.size(), report.runs.size() == 1 ? "" : "s"));
  }
  for (const RunView& run : report.runs) {
    const std::string title = fmt::format("gracecheck: {} against {}", run.scenario, run.target);
    if (!run.start_error.empty()) {
      Command(&out, "error", title,
              "the target did not start, so nothing was judged: " + run.start_error);
    }
    for (const std::string& e : run.harness_errors) {
      Command(&out, "error", title, "the run is invalid (not the target's fault): " + e);
    }
    for (const std::string& w : run.warnings) Command(&out, "warning", title, w);
    for (const CheckResult& c : run.checks) {
      if (c.failed()) {
        std::string message =
            fmt::format("{} failed: expected {}; observed {}", c.name, c.expected, c.observed);
        for (const std::string& line : c.evidence) message += "\n  " + line;
        Command(&out, "error", title, message, run.scenario_file, c.where);
      } else if (c.skipped()) {
        Command(&out, "notice", title, fmt::format("{} skipped: {}", c.name, c.observed));
      }
    }
  }
  return out;
}

std::string GithubAnnotations(const nlohmann::json& report) {
  return GithubAnnotations(ReadReport(report));
}

}  // namespace gracecheck
