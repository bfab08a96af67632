#include "html.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>

#include "figures.h"
#include "json.h"
#include "markup.h"
#include "timeline_chart.h"

namespace gracecheck {

namespace {

std::string Esc(std::string_view text) { return EscapeXml(text); }

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
       color: #1d1d1d; background: #f4f5f7; margin: 0; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 4px 0 2px; }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.meta, footer { color: #5f6368; font-size: 13px; }
section.card { background: #fff; border: 1px solid #dcdfe4; border-radius: 6px; padding: 16px 18px;
               margin: 16px 0; }
section.failures { border-left: 5px solid #c62828; }
.badge { display: inline-block; font-size: 12px; font-weight: 700; letter-spacing: .04em;
         padding: 1px 8px; border-radius: 10px; color: #fff; vertical-align: 2px; }
.badge.pass { background: #2e7d32; } .badge.fail { background: #c62828; }
.badge.error { background: #6a1b9a; }
.ok { color: #2e7d32; } .bad { color: #c62828; } .skip { color: #8a6d00; }
section.errors { border-left: 5px solid #6a1b9a; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
th { color: #5f6368; font-weight: 600; border-bottom: 1px solid #dcdfe4; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fdecea; }
tr.skip td { background: #fbf6e3; }
table.runs td, table.checks td { border-bottom: 1px solid #f0f1f3; }
.check { margin: 8px 0 12px; }
.check .name, code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
.expected { color: #5f6368; }
pre { background: #f6f8fa; border: 1px solid #e3e6ea; border-radius: 4px; padding: 8px 10px;
      margin: 4px 0 0; overflow-x: auto; font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.cols { display: flex; flex-wrap: wrap; gap: 28px; margin-top: 10px; }
.cols > div { flex: 2 1 420px; }
.cols > div:first-child { flex: 3 1 560px; }
table.checks code { white-space: nowrap; }
table.checks td.expected { min-width: 11em; }
figure { margin: 12px 0 4px; }
svg.timeline { width: 100%; height: auto; display: block; }
svg .hit { fill: #000; fill-opacity: 0; }
svg .hit:hover { fill-opacity: .08; }
svg .marker:hover line { stroke-opacity: .85; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; vertical-align: 0; }
dl.figures { display: grid; grid-template-columns: max-content auto; gap: 3px 14px; margin: 10px 0 0; }
dl.figures dt { color: #5f6368; } dl.figures dd { margin: 0; }
details { margin-top: 10px; } summary { cursor: pointer; color: #5f6368; }
)";

std::string Badge(RunVerdict v) {
  switch (v) {
    case RunVerdict::kPass:
      return "<span class=\"badge pass\">PASS</span>";
    case RunVerdict::kFail:
      return "<span class=\"badge fail\">FAIL</span>";
    case RunVerdict::kError:
      return "<span class=\"badge error\">ERROR</span>";
  }
  return "";
}

// Why a run is invalid: the harness's own failures, one per line (or the
// target that never started).
void HarnessErrors(const RunView& r, std::string* out) {
  auto it = std::back_inserter(*out);
  if (!r.start_error.empty()) {
    fmt::format_to(it,
                   "<p><b>The target did not start</b>, so nothing was judged:</p>\n"
                   "<ul class=\"harness-errors\">\n<li>{}</li>\n</ul>\n",
                   Esc(r.start_error));
    return;
  }
  fmt::format_to(it,
                 "<p><b>Invalid run:</b> the harness failed, so its checks prove nothing.</p>\n"
                 "<ul class=\"harness-errors\">\n");
  for (const std::string& line : r.harness_errors) fmt::format_to(it, "<li>{}</li>\n", Esc(line));
  fmt::format_to(it, "</ul>\n");
}

std::string Latency(const LatencySummary& l) { return LatencyCell(l, " / "); }

void FailedCheck(const CheckResult& c, std::string* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it,
                 "<div class=\"check\"><span class=\"bad\">✗</span> <span class=\"name\">{}</span> "
                 "{} <span class=\"expected\">(expected {})</span>\n",
                 Esc(c.name), Esc(c.observed), Esc(c.expected));
  if (!c.evidence.empty()) {
    std::string lines;
    for (const std::string& line : c.evidence) lines += line + "\n";
    fmt::format_to(it, "<pre>{}</pre>", Esc(lines));
  }
  fmt::format_to(it, "</div>\n");
}

void Run(const RunView& r, std::size_t index, const ChartFrame& frame,
         const std::optional<ChartFrame>& zoom, std::string* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "<section class=\"card run\" id=\"run-{}\">\n<h2>{} {}</h2>\n", index + 1,
                 Badge(r.verdict), Esc(RunTitle(r)));
  fmt::format_to(it, "<p class=\"meta\">seed {} · started {} · pid {} · signal → exit: {}</p>\n",
                 r.seed, Esc(r.epoch), r.target_pid, Esc(ExitText(r)));
  if (r.error()) HarnessErrors(r, out);
  if (!r.warnings.empty()) {
    fmt::format_to(it, "<ul class=\"warnings\">\n");
    for (const std::string& w : r.warnings)
      fmt::format_to(it, "<li><b>warning:</b> {}</li>\n", Esc(w));
    fmt::format_to(it, "</ul>\n");
  }
  fmt::format_to(it, "<figure>\n{}</figure>\n", TimelineSvg(r, frame));
  if (zoom && r.first_signal != kNever) {
    fmt::format_to(it,
                   "<h3>The shutdown, close up <span class=\"meta\">from {} before the signal; y "
                   "scales fitted to this window</span></h3>\n<figure>\n{}</figure>\n",
                   FormatMillis(-zoom->from), TimelineSvg(r, *zoom));
  }

  fmt::format_to(it, "<div class=\"cols\">\n<div>\n<h3>Checks</h3>\n<table class=\"checks\">\n");
  fmt::format_to(it, "<tr><th></th><th>check</th><th>observed</th><th>expected</th></tr>\n");
  for (const CheckResult& c : r.checks) {
    const char* row = c.passed() ? "" : c.skipped() ? " class=\"skip\"" : " class=\"fail\"";
    const char* cls = c.passed() ? "ok" : c.skipped() ? "skip" : "bad";
    const char* mark = c.passed() ? "✓" : c.skipped() ? "–" : "✗";
    fmt::format_to(it,
                   "<tr{}><td class=\"{}\" title=\"{}\">{}</td><td><code>{}</code></td><td>{}</td>"
                   "<td class=\"expected\">{}</td></tr>\n",
                   row, cls, CheckStatusName(c.status), mark, Esc(c.name), Esc(c.observed),
                   Esc(c.expected));
  }
  fmt::format_to(it, "</table>\n</div>\n<div>\n<h3>Requests</h3>\n");
  const Summary& s = r.summary;
  if (s.all.total == 0) {
    fmt::format_to(it, "<p>No request was sent.</p>\n");
  } else {
    fmt::format_to(it,
                   "<table class=\"requests\">\n<tr><th>outcome</th><th class=\"n\">before the "
                   "signal</th><th class=\"n\">after</th></tr>\n");
    for (int i = 0; i < kOutcomeCount; ++i) {
      const Outcome o = static_cast<Outcome>(i);
      if (s.before.count(o) == 0 && s.after.count(o) == 0) continue;
      fmt::format_to(it,
                     "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td "
                     "class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                     OutcomeColor(o), OutcomeName(o), s.before.count(o), s.after.count(o));
    }
    fmt::format_to(
        it,
        "<tr><th>total</th><td class=\"n\"><b>{}</b></td><td class=\"n\"><b>{}</b></td></tr>\n"
        "<tr><th>dropped</th><td class=\"n\"><b>{}</b></td><td class=\"n\"><b>{}</b></td></tr>\n"
        "<tr><th>latency of ok, p50 / p90 / p99 / max</th><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td></tr>\n</table>\n",
        s.before.total, s.after.total, s.before.dropped, s.after.dropped, Latency(s.before.latency),
        Latency(s.after.latency));
  }
  fmt::format_to(it, "<dl class=\"figures\">\n");
  fmt::format_to(it, "<dt>rate</dt><dd>{:.1f} requests/s over {}</dd>\n", s.requests_per_second,
                 FormatMillis(s.load_duration));
  fmt::format_to(it, "<dt>signal → exit</dt><dd>{}</dd>\n", Esc(SignalToExitText(r)));
  fmt::format_to(it, "<dt>threads</dt><dd>{}</dd>\n", Esc(ThreadsText(r)));
  fmt::format_to(it, "<dt>DB sessions</dt><dd>{}</dd>\n", Esc(DbSessionsText(r)));
  if (!r.pooler.empty()) fmt::format_to(it, "<dt>pooler</dt><dd>{}</dd>\n", Esc(PoolerText(r)));
  fmt::format_to(it, "</dl>\n</div>\n</div>\n");
  if (!r.target_log_tail.empty()) {
    fmt::format_to(it,
                   "<details{}><summary>{}'s last output lines</summary><pre>{}</pre></details>\n",
                   r.passed() ? "" : " open", Esc(r.target), Esc(r.target_log_tail));
  }
  fmt::format_to(it, "</section>\n");
}

}  // namespace

std::string HtmlReport(const ReportView& report) {
  std::string out;
  auto it = std::back_inserter(out);
  const std::string verdict = RunsVerdictText(report);
  const int errors = report.Count(RunVerdict::kError);

  fmt::format_to(it,
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>gracecheck: {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n",
                 Esc(verdict), kStyle);
  fmt::format_to(
      it, "<h1>{} gracecheck: {}</h1>\n",
      report.interrupted ? "<span class=\"badge error\">INTERRUPTED</span>" : Badge(report.Worst()),
      Esc(verdict));
  fmt::format_to(it,
                 "<p class=\"meta\">Times are relative to each run's first fault (the signal); "
                 "hover a chart for its numbers.</p>\n");

  // Every run in one table.
  fmt::format_to(it,
                 "<section class=\"card\">\n<table class=\"runs\">\n<tr><th></th><th>run</th>"
                 "<th>checks</th><th class=\"n\">requests before / after the signal</th>"
                 "<th class=\"n\">dropped</th><th>signal → exit</th></tr>\n");
  for (std::size_t i = 0; i < report.runs.size(); ++i) {
    const RunView& r = report.runs[i];
    const std::string checks = ChecksCell(r);
    fmt::format_to(it,
                   "<tr><td>{}</td><td><a href=\"#run-{}\">{}</a></td><td>{}</td><td "
                   "class=\"n\">{} / {}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                   Badge(r.verdict), i + 1, Esc(RunTitle(r)), checks, r.summary.before.total,
                   r.summary.after.total, r.summary.all.dropped, Esc(ExitText(r)));
  }
  fmt::format_to(it, "</table>\n</section>\n");

  if (errors > 0) {
    fmt::format_to(it, "<section class=\"card errors\">\n<h2>Invalid runs</h2>\n");
    for (std::size_t i = 0; i < report.runs.size(); ++i) {
      const RunView& r = report.runs[i];
      if (!r.error()) continue;
      fmt::format_to(it,
                     "<h3><a href=\"#run-{}\">{}</a> <span class=\"meta\">seed {}</span></h3>\n",
                     i + 1, Esc(RunTitle(r)), r.seed);
      HarnessErrors(r, &out);
    }
    fmt::format_to(it, "</section>\n");
  }
  if (std::any_of(report.runs.begin(), report.runs.end(),
                  [](const RunView& r) { return r.FailedChecks() > 0; })) {
    fmt::format_to(it, "<section class=\"card failures\">\n<h2>Failed checks</h2>\n");
    for (std::size_t i = 0; i < report.runs.size(); ++i) {
      const RunView& r = report.runs[i];
      if (r.FailedChecks() == 0) continue;
      fmt::format_to(it,
                     "<h3><a href=\"#run-{}\">{}</a> <span class=\"meta\">seed {}</span></h3>\n",
                     i + 1, Esc(RunTitle(r)), r.seed);
      for (const CheckResult& c : r.checks) {
        if (c.failed()) FailedCheck(c, &out);
      }
    }
    fmt::format_to(it, "</section>\n");
  }

  const ChartFrame frame = FrameFor(report.runs);
  const std::optional<ChartFrame> zoom = ShutdownFrame(frame, report.runs);
  for (std::size_t i = 0; i < report.runs.size(); ++i) Run(report.runs[i], i, frame, zoom, &out);

  fmt::format_to(it, "<footer>gracecheck {} · {}</footer>\n</main>\n</body>\n</html>\n",
                 Esc(report.gracecheck_version), kReportSchema);
  return out;
}

std::string HtmlReport(const nlohmann::json& report) { return HtmlReport(ReadReport(report)); }

}  // namespace gracecheck
