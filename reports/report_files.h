// The report files of one gracecheck invocation: where each format goes, and
// writing them all from one JSON report. `gracecheck run` (after its runs)
// and `gracecheck report RESULT.json` both end here, so a report rendered
// from a saved file is the same as the one written by the run itself.
//
// Threading: writes files; no shared state.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gracecheck {

// One output a command line asks for: the flag that names it and its path;
// `directory` for --out DIR, a file otherwise.
struct OutputPath {
  std::string flag;  // "--json"
  std::string path;
  bool directory = false;
};

// A report format: how the command line names it and how it is rendered.
// ReportFormats() is the table of them; adding a format is its renderer
// (a file of its own in reports/) and a row there: the flags of `run` and
// `report`, --out's file names, the check before anything runs and the
// "wrote" lines all derive from the table.
struct ReportFormat {
  std::string name;      // "html"
  std::string flag;      // "--html"
  std::string out_file;  // its name in --out DIR: "report.html"; empty: not written there
  std::string help;      // the flag's help
  std::string what;      // in messages: "the HTML report"
  // `gracecheck report RESULT.json` renders it (not the JSON: that is its input).
  bool from_saved_report = true;
  std::string (*render)(const nlohmann::json& report);  // a gracecheck/report/v1 document
  // A flag that makes it append to its file instead of replacing it
  // ("--markdown-append"); empty: none.
  std::string append_flag = {};
  std::string append_help = {};
  // The file this environment variable names is appended to, never
  // replaced (GITHUB_STEP_SUMMARY: GitHub's convention for a job summary,
  // which other steps write too); nullptr: none.
  const char* append_env = nullptr;
  // When this environment variable is "true" and no path was given, the
  // format goes to standard output (GITHUB_ACTIONS: the runner turns the
  // annotations on a step's stdout into annotations); nullptr: never.
  const char* stdout_when_env = nullptr;
};

// In the order they are written and listed: json, html, junit, markdown,
// github-annotations.
const std::vector<ReportFormat>& ReportFormats();

// Paths by format name; an absent or empty one is not written.
class ReportFiles {
 public:
  std::string& operator[](const std::string& format) { return paths_[format]; }
  // Set: that format is appended to its file (its append_flag).
  bool& append(const std::string& format) { return appends_[format]; }
  bool appends(const std::string& format) const;
  std::string path(const std::string& format) const;
  bool any() const;
  // These files, and every format not named here in `dir` under its
  // out_file name (an empty `dir`: unchanged).
  ReportFiles InDirectory(const std::string& dir) const;
  // For OutputProblems: each path with the flag that named it (`--out` for
  // one InDirectory filled in, as against `given`).
  std::vector<OutputPath> Outputs(const ReportFiles& given) const;
  // These files, and /dev/stdout for every format not named here whose
  // stdout_when_env is "true" in the environment.
  ReportFiles WithEnvironment() const;

 private:
  std::map<std::string, std::string> paths_;
  std::map<std::string, bool> appends_;
};

// Writes every file named in `files` from `report` (a gracecheck/report/v1
// document), replacing it or, when the format appends (its flag, or the file
// its append_env names), after what it holds; each on its own: one that cannot be written does not
// keep the others from being written. Returns what went wrong, one line per file
// ("cannot write the HTML report to x.html: …"), and puts the paths
// written in *written (if given), in the table's order.
std::vector<std::string> WriteReportFiles(const nlohmann::json& report, const ReportFiles& files,
                                          std::vector<std::string>* written = nullptr);

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
// `append`: opened for appending, not truncated. A path under /dev/ or
// /proc/self/fd/ (--json /dev/stdout) is always appended to: truncating it
// would erase what the console already wrote when stdout is a file.
int OpenOutputFile(const std::string& path, bool append = false);

// Writes `text` to `path` (replacing it; OpenOutputFile); on failure throws
// std::runtime_error "cannot write <what> to <path>: <reason>".
void WriteReportFile(const std::string& path, const std::string& text, const std::string& what,
                     bool append = false);

}  // namespace gracecheck
