#include "console.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "figures.h"

namespace gracecheck {

namespace {

// ANSI styles; empty strings when color is off.
struct Style {
  explicit Style(bool color)
      : green(color ? "\033[32m" : ""),
        red(color ? "\033[31m" : ""),
        yellow(color ? "\033[33m" : ""),
        bold(color ? "\033[1m" : ""),
        dim(color ? "\033[2m" : ""),
        reset(color ? "\033[0m" : "") {}
  const char* green;
  const char* red;
  const char* yellow;
  const char* bold;
  const char* dim;
  const char* reset;
};

}  // namespace

std::string ConsoleReport(const RunView& run, bool color) {
  const Style st(color);
  std::string out;
  auto it = std::back_inserter(out);

  fmt::format_to(it, "{}{}{} against {}{}{} (seed {}, started {}, pid {})\n", st.bold, run.scenario,
                 st.reset, st.bold, run.target, st.reset, run.seed, run.epoch, run.target_pid);

  std::size_t width = 0;
  for (const CheckResult& c : run.checks) width = std::max(width, c.name.size());
  std::string failed_names;
  std::string skipped_names;
  for (const CheckResult& c : run.checks) {
    const char* style = c.passed() ? st.green : c.skipped() ? st.yellow : st.red;
    const char* mark = c.passed() ? "✓" : c.skipped() ? "–" : "✗";
    fmt::format_to(it, "  {}{}{} {:<{}}  {}  {}(expected {}){}\n", style, mark, st.reset, c.name,
                   width, c.observed, st.dim, c.expected, st.reset);
    if (c.skipped()) skipped_names += (skipped_names.empty() ? "" : ", ") + c.name;
    if (!c.failed()) continue;
    failed_names += (failed_names.empty() ? "" : ", ") + c.name;
    for (const std::string& line : c.evidence) fmt::format_to(it, "      {}\n", line);
  }

  // fmt pads by display width ("signal→exit" has a 3-byte arrow).
  for (const Figure& f : KeyFigures(run)) fmt::format_to(it, "  {:<13} {}\n", f.label, f.text);
  for (const std::string& w : run.warnings) {
    fmt::format_to(it, "  {}{}warning{}: {}\n", st.bold, st.yellow, st.reset, w);
  }

  const int n = static_cast<int>(run.checks.size());
  const int failed = run.FailedChecks();
  const int skipped = run.SkippedChecks();
  const std::string skipped_text =
      skipped == 0 ? "" : fmt::format(", {} skipped ({})", skipped, skipped_names);
  if (!run.start_error.empty()) {
    fmt::format_to(it, "{}{}ERROR{}: the target did not start, so nothing was judged: {}\n",
                   st.bold, st.red, st.reset, run.start_error);
  } else if (run.error()) {
    fmt::format_to(it,
                   "{}{}ERROR{}: invalid run: the harness failed, so its checks ({}) prove "
                   "nothing:\n",
                   st.bold, st.red, st.reset, StatusCounts(run.checks));
    for (const std::string& line : run.harness_errors) fmt::format_to(it, "  - {}\n", line);
  } else if (failed == 0 && skipped == 0) {
    fmt::format_to(it, "{}{}PASS{}: {} {} passed\n", st.bold, st.green, st.reset, n,
                   n == 1 ? "check" : "checks");
  } else if (failed == 0) {
    fmt::format_to(it, "{}{}PASS{}: {} passed{}\n", st.bold, st.green, st.reset, n - skipped,
                   skipped_text);
  } else {
    fmt::format_to(it, "{}{}FAIL{}: {} of {} {} failed ({}){}\n", st.bold, st.red, st.reset, failed,
                   n, n == 1 ? "check" : "checks", failed_names, skipped_text);
  }
  return out;
}

std::string ConsoleReport(const nlohmann::json& run, bool color) {
  return ConsoleReport(ReadRun(run), color);
}

void PrintConsoleReport(FILE* out, const nlohmann::json& run, bool color) {
  const std::string text = ConsoleReport(run, color);
  std::fwrite(text.data(), 1, text.size(), out);
}

std::string SuiteTally(const ReportView& report, std::chrono::nanoseconds wall,
                       const std::string& where) {
  const std::size_t runs = report.runs.size();
  int skipped = 0;
  for (const RunView& run : report.runs) {
    for (const CheckResult& c : run.checks) skipped += c.skipped() ? 1 : 0;
  }
  // Tenths of a second: "12.3s", and minutes past one: "2m05.1s".
  const double seconds = std::chrono::duration<double>(wall).count();
  const std::string took =
      seconds < 60
          ? fmt::format("{:.1f}s", seconds)
          : fmt::format("{}m{:04.1f}s", static_cast<long>(seconds / 60),
                        seconds - 60.0 * static_cast<double>(static_cast<long>(seconds / 60)));
  std::string line = fmt::format(
      "gracecheck: {}{} run{} in {}: {} passed, {} failed, {} error{}; {} check{} skipped; ",
      report.interrupted ? "interrupted after " : "", runs, runs == 1 ? "" : "s", took,
      report.Count(RunVerdict::kPass), report.Count(RunVerdict::kFail),
      report.Count(RunVerdict::kError), report.Count(RunVerdict::kError) == 1 ? "" : "s", skipped,
      skipped == 1 ? "" : "s");
  line += where.empty() ? "no report files (--out DIR keeps them)" : "reports in " + where;
  return line;
}

}  // namespace gracecheck
