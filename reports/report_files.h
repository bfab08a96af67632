// The report files of one gracecheck invocation: where each format goes, and
// writing them all from one JSON report. `gracecheck run` (after its runs)
// and `gracecheck report RESULT.json` both end here, so a report rendered
// from a saved file is the same as the one written by the run itself.
//
// Threading: writes files; no shared state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gracecheck {

// Paths; an empty one is not written.
struct ReportFiles {
  std::string json;      // gracecheck/report/v1
  std::string html;      // self-contained, with a timeline chart per run
  std::string junit;     // JUnit XML
  std::string markdown;  // a CI job summary
};

// Writes every file named in `files` from `report` (a gracecheck/report/v1
// document). Throws std::runtime_error naming the path it cannot write.
void WriteReportFiles(const nlohmann::json& report, const ReportFiles& files);

// Creates (or truncates) `path` for writing and returns its fd. In a
// directory others can write to, a symlink at `path` is refused, not
// followed. Throws std::runtime_error "cannot write to <path>: <reason>".
int OpenOutputFile(const std::string& path);

// Writes `text` to `path` (replacing it; OpenOutputFile); on failure throws
// std::runtime_error "cannot write <what> to <path>: <reason>".
void WriteReportFile(const std::string& path, const std::string& text, const std::string& what);

}  // namespace gracecheck
