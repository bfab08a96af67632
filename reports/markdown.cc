#include "markdown.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "compare.h"
#include "figures.h"
#include "json.h"
#include "markup.h"

namespace gracecheck {

namespace {

constexpr const char* kPass = "✅";
constexpr const char* kFail = "❌";
constexpr const char* kSkipped = "➖";     // a check that could not measure
constexpr const char* kError = "⚠️";  // an invalid run: the harness failed

const char* Mark(const CheckResult& c) {
  return c.passed() ? kPass : c.skipped() ? kSkipped : kFail;
}

const char* Mark(RunVerdict v) {
  return v == RunVerdict::kPass ? kPass : v == RunVerdict::kFail ? kFail : kError;
}

std::string Cell(std::string_view text) { return EscapeMarkdownCell(text); }

// A code fence longer than any run of backticks in `text`.
std::string Fence(const std::string& text) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

std::string CodeBlock(const std::string& text) {
  std::string body = text;
  if (!body.empty() && body.back() != '\n') body += '\n';
  const std::string fence = Fence(body);
  return fence + "text\n" + CleanText(body) + fence + "\n";
}

std::string Latency(const LatencySummary& l) { return LatencyCell(l, " · "); }

void Run(const RunView& r, std::string* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "### {} {}\n\n", Mark(r.verdict), Cell(RunTitle(r)));
  fmt::format_to(it, "seed `{}` · started {} · pid {}\n\n", r.seed, Cell(r.epoch), r.target_pid);
  if (!r.start_error.empty()) {
    fmt::format_to(it, "**{} ERROR: the target did not start**, so nothing was judged: {}\n\n",
                   kError, Cell(r.start_error));
  } else if (r.error()) {
    fmt::format_to(it,
                   "**{} ERROR: invalid run.** The harness failed, so its checks prove "
                   "nothing:\n\n",
                   kError);
    for (const std::string& line : r.harness_errors) fmt::format_to(it, "- {}\n", Cell(line));
    fmt::format_to(it, "\n");
  }
  for (const std::string& w : r.warnings)
    fmt::format_to(it, "> ⚠️ **warning:** {}\n\n", Cell(w));

  fmt::format_to(it, "| | check | observed | expected |\n| :---: | --- | --- | --- |\n");
  for (const CheckResult& c : r.checks) {
    fmt::format_to(it, "| {} | `{}` | {} | {} |\n", Mark(c), c.name, Cell(c.observed),
                   Cell(c.expected));
  }
  fmt::format_to(it, "\n");
  for (const CheckResult& c : r.checks) {
    if (!c.failed() || c.evidence.empty()) continue;
    std::string lines;
    for (const std::string& line : c.evidence) lines += line + "\n";
    fmt::format_to(it, "**{} `{}`**\n\n{}\n", kFail, c.name, CodeBlock(lines));
  }

  const Summary& s = r.summary;
  if (s.all.total > 0) {
    fmt::format_to(it,
                   "| requests | before the signal | after the signal |\n| --- | ---: | ---: |\n");
    for (int i = 0; i < kOutcomeCount; ++i) {
      const Outcome o = static_cast<Outcome>(i);
      if (s.before.count(o) == 0 && s.after.count(o) == 0) continue;
      fmt::format_to(it, "| {} | {} | {} |\n", OutcomeName(o), s.before.count(o), s.after.count(o));
    }
    fmt::format_to(it, "| **total** | **{}** | **{}** |\n", s.before.total, s.after.total);
    fmt::format_to(it, "| **dropped** | **{}** | **{}** |\n", s.before.dropped, s.after.dropped);
    fmt::format_to(it, "| latency of ok: p50 · p90 · p99 · max | {} | {} |\n\n",
                   Latency(s.before.latency), Latency(s.after.latency));
  } else {
    fmt::format_to(it, "No request was sent.\n\n");
  }
  fmt::format_to(it, "- **signal → exit:** {}\n", Cell(SignalToExitText(r)));
  fmt::format_to(it, "- **threads:** {}\n", Cell(ThreadsText(r)));
  fmt::format_to(it, "- **DB sessions:** {}\n", Cell(DbSessionsText(r)));
  if (!r.pooler.empty()) fmt::format_to(it, "- **pooler:** {}\n", Cell(PoolerText(r)));
  fmt::format_to(it, "\n");

  if (!r.passed() && !r.target_log_tail.empty()) {
    fmt::format_to(it, "<details><summary>{}'s last output lines</summary>\n\n{}\n</details>\n\n",
                   EscapeXml(r.target), CodeBlock(r.target_log_tail));
  }
}

}  // namespace

std::string MarkdownReport(const ReportView& report) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "## {} gracecheck: {}\n\n", report.interrupted ? kError : Mark(report.Worst()),
                 RunsVerdictText(report));
  fmt::format_to(it,
                 "| run | verdict | checks | requests before / after the signal | dropped | "
                 "signal → exit |\n| --- | :---: | --- | ---: | ---: | --- |\n");
  for (const RunView& r : report.runs) {
    fmt::format_to(it, "| {} | {} {} | {} | {} / {} | {} | {} |\n", Cell(RunTitle(r)),
                   Mark(r.verdict), RunVerdictName(r.verdict), ChecksCell(r),
                   r.summary.before.total, r.summary.after.total, r.summary.all.dropped,
                   Cell(ExitText(r)));
  }
  fmt::format_to(it, "\n");
  for (const RunView& r : report.runs) Run(r, &out);
  fmt::format_to(it, "<sub>gracecheck {} · {}</sub>\n", Cell(report.gracecheck_version),
                 kReportSchema);
  return out;
}

std::string MarkdownReport(const nlohmann::json& report) {
  const ReportView view = ReadReport(report);
  std::string out = MarkdownReport(view);
  // A compare report: the side-by-side table after the headline.
  if (report.contains("compare")) {
    const std::size_t end_of_headline = out.find("\n\n");
    const std::string table =
        "\n### Side by side\n" + CompareMarkdown(BuildCompareTable(view)) + "\n";
    out.insert(end_of_headline == std::string::npos ? out.size() : end_of_headline + 1, table);
  }
  return out;
}

}  // namespace gracecheck
