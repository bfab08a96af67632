#include "junit.h"

#include <fmt/format.h>

#include <iterator>
#include <map>
#include <utility>

#include "figures.h"
#include "markup.h"

namespace gracecheck {

namespace {

std::string Attr(std::string_view text) { return EscapeXml(text, /*attribute=*/true); }

// Seconds with millisecond precision, as JUnit's time attributes want them.
std::string Seconds(Nanos d) {
  return fmt::format("{:.3f}", d <= 0 ? 0.0 : static_cast<double>(d) / 1e9);
}

// Ant's timestamp: ISO 8601 without a zone (ours is UTC).
std::string Timestamp(const RunView& run) {
  return FormatUnixMillis(run.epoch_unix_ms).substr(0, 19);
}

// JUnit wants names: a report that lacks one (hand-made, truncated) still
// validates.
std::string NameOr(const std::string& name) { return name.empty() ? "unnamed" : name; }

// "sigterm-mid-load (refapi)", and ", run 2" when the same pair ran again.
// Each run's names, unique in the report: its testsuite's ("sigterm-idle
// (refapi)", "... (refapi, run 2)") and the classname of its test cases
// ("sigterm-idle.refapi", "sigterm-idle.refapi.run2"). CI systems key a test
// by classname and name; `compare` judges every check once per target, and
// they all had the scenario's name for classname.
struct RunNames {
  std::string suite;
  std::string classname;
};
std::vector<RunNames> NamesOfRuns(const ReportView& report) {
  std::map<std::pair<std::string, std::string>, int> total, seen;
  for (const RunView& r : report.runs) ++total[{r.scenario, r.target}];
  std::vector<RunNames> names;
  for (const RunView& r : report.runs) {
    const int n = ++seen[{r.scenario, r.target}];
    const bool repeated = total[{r.scenario, r.target}] > 1;
    RunNames x;
    x.suite = repeated ? fmt::format("{} ({}, run {})", NameOr(r.scenario), NameOr(r.target), n)
                       : fmt::format("{} ({})", NameOr(r.scenario), NameOr(r.target));
    x.classname = repeated ? fmt::format("{}.{}.run{}", NameOr(r.scenario), NameOr(r.target), n)
                           : fmt::format("{}.{}", NameOr(r.scenario), NameOr(r.target));
    names.push_back(std::move(x));
  }
  return names;
}

Nanos RunTime(const RunView& r) {
  const Nanos last = r.LastMoment();
  if (last == kNever) return 0;
  return last - (r.spawned == kNever ? 0 : r.spawned);
}

// The test case an invalid run adds (DESIGN.md, "Decisions"): CI systems
// list it among the checks, as an error rather than a failure.
constexpr const char* kHarnessCase = "harness";
// ... and the one a target that never became ready has instead of checks.
constexpr const char* kTargetStartedCase = "target started";

int Tests(const RunView& r) { return static_cast<int>(r.checks.size()) + (r.error() ? 1 : 0); }

}  // namespace

std::string JunitReport(const ReportView& report) {
  std::string out;
  auto it = std::back_inserter(out);
  int tests = 0;
  int failures = 0;
  Nanos time = 0;
  for (const RunView& r : report.runs) {
    tests += Tests(r);
    failures += r.FailedChecks();
    time += RunTime(r);
  }
  fmt::format_to(it, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fmt::format_to(it,
                 "<testsuites name=\"gracecheck\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
                 "time=\"{}\">\n",
                 tests, failures, report.Count(RunVerdict::kError), Seconds(time));
  const std::vector<RunNames> names = NamesOfRuns(report);
  for (std::size_t i = 0; i < report.runs.size(); ++i) {
    const RunView& r = report.runs[i];
    fmt::format_to(
        it,
        "  <testsuite name=\"{}\" package=\"{}\" id=\"{}\" tests=\"{}\" failures=\"{}\" "
        "errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\" hostname=\"localhost\">\n",
        Attr(names[i].suite), Attr(NameOr(r.scenario)), i, Tests(r), r.FailedChecks(),
        r.error() ? 1 : 0, r.SkippedChecks(), Seconds(RunTime(r)), Timestamp(r));
    fmt::format_to(it, "    <properties>\n");
    const std::pair<const char*, std::string> properties[] = {
        {"scenario", r.scenario},
        {"target", r.target},
        {"seed", std::to_string(r.seed)},
        {"started", r.epoch},
        {"target_pid", std::to_string(r.target_pid)},
        {"verdict", RunVerdictName(r.verdict)},
        {"gracecheck_version", report.gracecheck_version},
        // The suite was cut short: the runs after this one never ran.
        {"interrupted", report.interrupted ? "true" : "false"},
    };
    for (const auto& [name, value] : properties) {
      fmt::format_to(it, "      <property name=\"{}\" value=\"{}\"/>\n", name, Attr(value));
    }
    fmt::format_to(it, "    </properties>\n");
    for (const CheckResult& c : r.checks) {
      fmt::format_to(it, "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                     Attr(names[i].classname), Attr(NameOr(c.name)));
      if (c.passed()) {
        fmt::format_to(it, "/>\n");
        continue;
      }
      if (c.skipped()) {
        fmt::format_to(it, ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                       Attr(fmt::format("{} (expected {})", c.observed, c.expected)));
        continue;
      }
      std::string body = fmt::format("expected: {}\nobserved: {}\n", c.expected, c.observed);
      if (!c.evidence.empty()) body += "evidence:\n";
      for (const std::string& line : c.evidence) body += "  " + line + "\n";
      fmt::format_to(it,
                     ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                     Attr(c.name), Attr(fmt::format("{} (expected {})", c.observed, c.expected)),
                     EscapeXml(body));
    }
    auto error_case = [&](const char* name, const char* type, const std::string& message,
                          const std::string& body) {
      fmt::format_to(it,
                     "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n      <error "
                     "type=\"{}\" message=\"{}\">{}</error>\n    </testcase>\n",
                     Attr(names[i].classname), name, type, Attr(message), EscapeXml(body));
    };
    if (!r.start_error.empty()) {
      error_case(kTargetStartedCase, "target", "the target did not start: " + r.start_error,
                 r.start_error + "\n");
    } else if (r.error()) {
      std::string body;
      for (const std::string& line : r.harness_errors) body += line + "\n";
      const std::string message =
          r.harness_errors.size() == 1
              ? fmt::format("invalid run: {}", r.harness_errors.front())
              : fmt::format("invalid run: {} (and {} more)", r.harness_errors.front(),
                            r.harness_errors.size() - 1);
      error_case(kHarnessCase, "harness", message, body);
    }
    std::string figures;
    for (const Figure& f : KeyFigures(r)) figures += fmt::format("{:<13} {}\n", f.label, f.text);
    fmt::format_to(it, "    <system-out>{}</system-out>\n", EscapeXml(figures));
    fmt::format_to(it, "    <system-err>{}</system-err>\n", EscapeXml(r.target_log_tail));
    fmt::format_to(it, "  </testsuite>\n");
  }
  fmt::format_to(it, "</testsuites>\n");
  return out;
}

std::string JunitReport(const nlohmann::json& report) { return JunitReport(ReadReport(report)); }

}  // namespace gracecheck
