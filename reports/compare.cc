#include "compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "summary.h"

namespace gracecheck {

namespace {

// The median of the known values, or kNever.
Nanos Median(std::vector<Nanos> v) {
  v.erase(std::remove(v.begin(), v.end(), kNever), v.end());
  if (v.empty()) return kNever;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string Count(Nanos n) { return n == kNever ? "-" : std::to_string(n); }

struct Figure {
  const char* label;
  bool duration;                       // formatted as a span, else a count
  Nanos (*value)(const RunView& run);  // kNever when unknown
};

const Figure kFigures[] = {
    {"requests (median)", false, [](const RunView& r) -> Nanos { return r.summary.all.total; }},
    {"dropped (median)", false, [](const RunView& r) -> Nanos { return r.summary.all.dropped; }},
    {"lost writes (median)", false,
     [](const RunView& r) -> Nanos {
       return r.writes.verified ? static_cast<Nanos>(r.writes.lost.size()) : kNever;
     }},
    {"signal → exit (median)", true, [](const RunView& r) { return r.summary.fault_to_exit; }},
    {"p99 latency before the signal", true,
     [](const RunView& r) { return r.summary.before.latency.p99; }},
    {"p99 latency during the drain", true,
     [](const RunView& r) { return r.summary.after.latency.p99; }},
    {"peak threads", false,
     [](const RunView& r) -> Nanos {
       return r.summary.threads.peak == Timeline::kUnknown ? kNever : r.summary.threads.peak;
     }},
    {"peak DB sessions", false,
     [](const RunView& r) -> Nanos {
       return r.summary.db.known_peak ? r.summary.db.peak.total() : kNever;
     }},
};

std::string Pad(const std::string& s, std::size_t width) {
  // Width in characters: count UTF-8 lead bytes only.
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return chars >= width ? s : s + std::string(width - chars, ' ');
}

std::string MdCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

CompareTable BuildCompareTable(const ReportView& report) {
  CompareTable table;
  std::vector<std::string> scenarios;
  // scenario -> target -> runs
  std::map<std::string, std::map<std::string, std::vector<const RunView*>>> runs;
  for (const RunView& r : report.runs) {
    if (std::find(table.targets.begin(), table.targets.end(), r.target) == table.targets.end()) {
      table.targets.push_back(r.target);
    }
    if (std::find(scenarios.begin(), scenarios.end(), r.scenario) == scenarios.end()) {
      scenarios.push_back(r.scenario);
    }
    runs[r.scenario][r.target].push_back(&r);
  }
  const std::size_t n = table.targets.size();
  for (const std::string& scenario : scenarios) {
    auto& by_target = runs[scenario];
    // Pass rate of the whole run first, then each check, then the figures.
    CompareTable::Row verdict{scenario, "all checks passed", true, {}, {}, {}};
    for (const std::string& t : table.targets) {
      const auto& rs = by_target[t];
      const auto passed =
          std::count_if(rs.begin(), rs.end(), [](const RunView* r) { return r->passed(); });
      verdict.cells.push_back(rs.empty() ? "-" : fmt::format("{}/{} runs", passed, rs.size()));
      verdict.failed.push_back(static_cast<std::size_t>(passed) != rs.size());
      verdict.evidence.emplace_back();
    }
    table.rows.push_back(std::move(verdict));
    for (const std::string& check : CheckOrder()) {
      CompareTable::Row row{scenario, check, true, {}, {}, {}};
      bool present = false;
      for (const std::string& t : table.targets) {
        int ran = 0, failed = 0, skipped = 0;
        std::string evidence;
        for (const RunView* r : by_target[t]) {
          for (const CheckResult& c : r->checks) {
            if (c.name != check) continue;
            ++ran;
            if (c.skipped()) ++skipped;
            if (c.failed()) {
              ++failed;
              if (evidence.empty()) {
                evidence = c.observed;
                if (!c.evidence.empty()) evidence += " — " + c.evidence.front();
              }
            }
          }
        }
        present = present || ran > 0;
        std::string cell;
        if (ran == 0) {
          cell = "-";
        } else if (failed > 0) {
          cell = fmt::format("✗ failed in {} of {} runs", failed, ran);
        } else if (skipped == ran) {
          cell = fmt::format("– skipped in {} of {} runs", skipped, ran);
        } else {
          cell = fmt::format("✓ {}/{}", ran - skipped, ran);
          if (skipped > 0) cell += fmt::format(", {} skipped", skipped);
        }
        row.cells.push_back(std::move(cell));
        row.failed.push_back(failed > 0);
        row.evidence.push_back(evidence);
      }
      if (present) table.rows.push_back(std::move(row));
    }
    for (const Figure& f : kFigures) {
      CompareTable::Row row{
          scenario, f.label, false, {}, std::vector<bool>(n, false), std::vector<std::string>(n)};
      for (const std::string& t : table.targets) {
        std::vector<Nanos> values;
        for (const RunView* r : by_target[t]) values.push_back(f.value(*r));
        const Nanos m = Median(values);
        row.cells.push_back(f.duration ? FormatMillis(m) : Count(m));
      }
      table.rows.push_back(std::move(row));
    }
  }
  return table;
}

nlohmann::json CompareJson(const CompareTable& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : table.rows) {
    nlohmann::json cells = nlohmann::json::object();
    for (std::size_t i = 0; i < table.targets.size(); ++i) {
      nlohmann::json cell = {{"value", row.cells[i]}};
      if (row.is_check) cell["failed"] = static_cast<bool>(row.failed[i]);
      if (!row.evidence[i].empty()) cell["evidence"] = row.evidence[i];
      cells[table.targets[i]] = cell;
    }
    rows.push_back({{"scenario", row.scenario},
                    {"row", row.label},
                    {"kind", row.is_check ? "check" : "figure"},
                    {"targets", cells}});
  }
  return {{"targets", table.targets}, {"rows", rows}};
}

std::string CompareText(const CompareTable& table) {
  std::size_t label_w = 10;
  std::vector<std::size_t> widths(table.targets.size(), 0);
  for (std::size_t i = 0; i < table.targets.size(); ++i) widths[i] = table.targets[i].size();
  for (const auto& row : table.rows) {
    label_w = std::max(label_w, row.label.size() + 2);
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      widths[i] = std::max(widths[i], row.cells[i].size());
    }
  }
  std::string out;
  std::string scenario;
  for (const auto& row : table.rows) {
    if (row.scenario != scenario) {
      scenario = row.scenario;
      out += "\n" + Pad(scenario, label_w);
      for (std::size_t i = 0; i < table.targets.size(); ++i) {
        out += "  " + Pad(table.targets[i], widths[i]);
      }
      out += "\n";
    }
    out += Pad("  " + row.label, label_w);
    for (std::size_t i = 0; i < row.cells.size(); ++i) out += "  " + Pad(row.cells[i], widths[i]);
    out += "\n";
    for (std::size_t i = 0; i < row.evidence.size(); ++i) {
      if (!row.evidence[i].empty()) {
        out += fmt::format("      {}: {}\n", table.targets[i], row.evidence[i]);
      }
    }
  }
  return out;
}

std::string CompareMarkdown(const CompareTable& table) {
  std::string out;
  std::string scenario;
  for (const auto& row : table.rows) {
    if (row.scenario != scenario) {
      scenario = row.scenario;
      out += fmt::format("\n**{}**\n\n| |", MdCell(scenario));
      for (const std::string& t : table.targets) out += " " + MdCell(t) + " |";
      out += "\n| --- |";
      for (std::size_t i = 0; i < table.targets.size(); ++i) out += " --- |";
      out += "\n";
    }
    out += "| " + MdCell(row.is_check ? "`" + row.label + "`" : row.label) + " |";
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      std::string cell = row.cells[i];
      if (!row.evidence[i].empty()) cell += "<br>" + row.evidence[i];
      out += " " + MdCell(cell) + " |";
    }
    out += "\n";
  }
  return out;
}

}  // namespace gracecheck
