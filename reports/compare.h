// The side-by-side table of `gracecheck compare`: one column per target, one
// row per check and per key figure, over every repeat of every scenario.
// Checks show a pass rate ("20/20", "✗ dropped in 3 of 20 runs") with one
// line of evidence from the first failing run; figures show the median over
// the repeats. Built from the JSON report's runs only, like every renderer.
//
// Pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report_view.h"

namespace gracecheck {

struct CompareTable {
  struct Row {
    std::string scenario;  // the scenario the row is about
    std::string label;     // a check name, or a figure ("dropped (median)")
    bool is_check = false;
    std::vector<std::string> cells;     // one per target
    std::vector<bool> failed;           // per target: a check that failed in some run
    std::vector<std::string> evidence;  // per target: one line from the first failing run
  };
  std::vector<std::string> targets;  // in the order they first appear
  std::vector<Row> rows;
};

CompareTable BuildCompareTable(const ReportView& report);
nlohmann::json CompareJson(const CompareTable& table);
// Fixed-width text for the console (no colors).
std::string CompareText(const CompareTable& table);
std::string CompareMarkdown(const CompareTable& table);

}  // namespace gracecheck
