// The report files of one gracecheck invocation: where each format goes, and
// writing them all from one JSON report. `gracecheck run` (after its runs)
// and `gracecheck report RESULT.json` both end here, so a report rendered
// from a saved file is the same as the one written by the run itself.
//
// Threading: writes files; no shared state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gracecheck {

// Paths; an empty one is not written.
struct ReportFiles {
  std::string json;      // gracecheck/report/v1
  std::string html;      // self-contained, with a timeline chart per run
  std::string junit;     // JUnit XML
  std::string markdown;  // a CI job summary
};

// Writes every file named in `files` from `report` (a gracecheck/report/v1
// document), each on its own: one that cannot be written does not keep the
// others from being written. Returns what went wrong, one line per file
// ("cannot write the HTML report to x.html: …"), and puts the paths
// written in *written (if given), in the order json, html, junit, markdown.
std::vector<std::string> WriteReportFiles(const nlohmann::json& report, const ReportFiles& files,
                                          std::vector<std::string>* written = nullptr);

// One output a command line asks for: the flag that names it and its path;
// `directory` for --out DIR, a file otherwise.
struct OutputPath {
  std::string flag;  // "--json"
  std::string path;
  bool directory = false;
};
// What would keep any of `outputs` from being written, one line each,
// checked before anything runs: a file that is an existing directory, a
// directory that is an existing file, a parent directory that is missing or
// not writable, and two outputs on one path (the second named with the
// first). Empty paths are skipped; files inside a --out DIR that does not
// exist yet are fine (it is created).
std::vector<std::string> OutputProblems(const std::vector<OutputPath>& outputs);

// Creates (or truncates) `path` for writing and returns its fd. In a
// directory others can write to, a symlink at `path` is refused, not
// followed. Throws std::runtime_error "cannot write to <path>: <reason>".
int OpenOutputFile(const std::string& path);

// Writes `text` to `path` (replacing it; OpenOutputFile); on failure throws
// std::runtime_error "cannot write <what> to <path>: <reason>".
void WriteReportFile(const std::string& path, const std::string& text, const std::string& what);

}  // namespace gracecheck
