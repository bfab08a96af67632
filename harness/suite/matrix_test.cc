// The detection matrix (target/detection-matrix.yaml), end to end: every
// refapi --bug against the scenario that provokes it, through the real
// gracecheck binary and its JSON report. Each bug must make the checks meant
// for it fail and leave the others it names passing; the whole matrix is
// printed (ctest label "pg"). DetectionMatrixExternalTest runs the same rows
// against a second cluster the test starts and passes as --pg-url, an
// external server to gracecheck (no server log read): each check's
// behaviour there is proven, and a row that cannot be caught there says why
// in the matrix (`external: skip: …`).
//
// Also, skipped unless GRACECHECK_SOAK_RUNS=N is set: every shipped scenario
// N times against the correct refapi, which must never fail a check (the
// false-alarm soak; docs/DESIGN.md has the figures).
#include <dirent.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "postgres.h"
#include "procfs.h"
#include "subprocess.h"

namespace gracecheck {
namespace {

namespace fs = std::filesystem;

struct Row {
  // A refapi --bug, or (`shape: NAME`) a target of another shape, run with
  // `target` (a --target NAME=CMD; empty: the scenario's own command).
  std::string bug;
  bool shape = false;
  std::string target;
  std::string scenario;  // a shipped scenario's name, or a path to a .yaml
  std::string args;      // extra target arguments, before --bug
  int runs = 1;
  std::vector<std::string> fail;  // must fail together in at least one run
  std::vector<std::string> pass;  // must pass in every run
  int external_runs = 0;          // runs on an external server; 0: `runs`
  std::string external_skip;      // why the row cannot be caught on an external server
};

std::vector<Row> LoadMatrix(const fs::path& path) {
  std::vector<Row> rows;
  const YAML::Node doc = YAML::LoadFile(path.string());
  for (const YAML::Node& n : doc) {
    Row r;
    r.shape = static_cast<bool>(n["shape"]);
    r.bug = (r.shape ? n["shape"] : n["bug"]).as<std::string>();
    if (n["target"]) r.target = n["target"].as<std::string>();
    r.scenario = n["scenario"].as<std::string>();
    if (n["args"]) r.args = n["args"].as<std::string>();
    if (n["runs"]) r.runs = n["runs"].as<int>();
    r.fail = n["fail"].as<std::vector<std::string>>();
    if (n["pass"]) r.pass = n["pass"].as<std::vector<std::string>>();
    if (n["external_runs"]) r.external_runs = n["external_runs"].as<int>();
    if (n["external"]) {
      const std::string external = n["external"].as<std::string>();
      const std::string skip = "skip: ";
      if (external.rfind(skip, 0) != 0 || external.size() == skip.size()) {
        throw std::runtime_error(r.bug + ": external wants \"skip: why\", not " + external);
      }
      r.external_skip = external.substr(skip.size());
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<int> EnvInt(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::atoi(v);
}

// What one `gracecheck run … --repeat N` observed: per run, the failed checks.
struct Observed {
  std::string status;  // gracecheck's exit status
  std::string error;   // why there is no usable report, if there is none
  std::vector<std::set<std::string>> failed;
  std::vector<std::set<std::string>> present;  // checks each run reported
  std::vector<std::string> failures;           // "run N: check: observed" of each failed check
  std::vector<std::string> skipped;            // "run N: check skipped: why" likewise
  std::string stderr_tail;
};

class GracecheckRunner {
 public:
  GracecheckRunner() {
    std::string pattern = (fs::temp_directory_path() / "gc-matrix-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    // The embedded cluster runs as 'postgres' when the test runs as root.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    marker_ = fmt::format("GC_MATRIX_TEST_MARKER={:x}", std::random_device{}());
  }
  ~GracecheckRunner() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& marker() const { return marker_; }

  // `pg_url`: an external server for gracecheck (--pg-url); empty: its
  // embedded cluster. `jobs` > 1: the repetitions that many at a time.
  Observed Run(const std::string& scenario, const std::string& target, int repeat,
               const std::string& pg_url = "", int jobs = 1) {
    fs::create_directories(dir_ / "tmp");
    fs::permissions(dir_ / "tmp", fs::perms::all | fs::perms::sticky_bit);
    const fs::path json = dir_ / "report.json";
    fs::remove(json);
    std::vector<std::string> argv = {
        GRACECHECK_BIN,
        "run",
        scenario.size() > 5 && scenario.compare(scenario.size() - 5, 5, ".yaml") == 0
            ? scenario
            : "scenarios/" + scenario + ".yaml",
        "--repeat",
        std::to_string(repeat),
        "--json",
        json.string()};
    if (jobs > 1) {
      argv.push_back("--jobs");
      argv.push_back(std::to_string(jobs));
    }
    if (!target.empty()) {
      argv.push_back("--target");
      argv.push_back(target);
    }
    if (!pg_url.empty()) {
      argv.push_back("--pg-url");
      argv.push_back(pg_url);
    }
    auto p = Subprocess::Start(
        {.argv = argv,
         .env = {marker_, "NO_COLOR=1", "GRACECHECK_TMPDIR=" + (dir_ / "tmp").string()},
         .working_dir = SOURCE_DIR,
         .stdout_path = (dir_ / "stdout").string(),
         .stderr_path = (dir_ / "stderr").string()});
    Observed o;
    const Duration timeout = std::chrono::seconds(60 + 30 * repeat);
    std::optional<ExitStatus> s = p->WaitFor(timeout);
    if (!s) {
      p->Kill();
      o.status = "timeout";
      o.error = fmt::format("gracecheck did not finish within {}", FormatDuration(timeout));
      return o;
    }
    o.status = s->ToString();
    const std::string err = ReadFile(dir_ / "stderr");
    o.stderr_tail = err.size() > 2000 ? err.substr(err.size() - 2000) : err;
    if (!fs::exists(json)) {
      o.error = "no JSON report";
      return o;
    }
    const nlohmann::json report = nlohmann::json::parse(ReadFile(json), nullptr, false);
    if (!report.is_object() || !report.contains("runs")) {
      o.error = "unreadable JSON report";
      return o;
    }
    for (const auto& run : report["runs"]) {
      std::set<std::string> failed, present;
      for (const auto& [name, check] : run["checks"].items()) {
        present.insert(name);
        // A skipped check (not measurable) is not a failure of the target.
        const std::string status =
            check.value("status", std::string(check.value("passed", false) ? "passed" : "failed"));
        if (status == "failed") {
          failed.insert(name);
          // With its evidence: a rare false alarm must be diagnosable from
          // the one run that showed it.
          std::string line =
              fmt::format("run {}: {}: {}", o.failed.size() + 1, name, check.value("observed", ""));
          for (const auto& e : check.value("evidence", nlohmann::json::array())) {
            line += "\n      " + e.get<std::string>();
          }
          o.failures.push_back(std::move(line));
        } else if (status == "skipped") {
          o.skipped.push_back(fmt::format("run {}: {} skipped: {}", o.failed.size() + 1, name,
                                          check.value("observed", "")));
        }
      }
      o.failed.push_back(std::move(failed));
      o.present.push_back(std::move(present));
    }
    if (static_cast<int>(o.failed.size()) != repeat) {
      o.error = fmt::format("{} runs in the report, {} asked", o.failed.size(), repeat);
    }
    return o;
  }

 private:
  fs::path dir_;
  std::string marker_;
};

struct RowResult {
  const Row* row = nullptr;
  int runs = 0;
  int detected = 0;                       // runs in which every `fail` check failed
  std::map<std::string, int> failed;      // check -> runs it failed in
  std::map<std::string, int> false_pass;  // `pass` checks that failed (or were missing)
  std::string error;
  // A row with no `fail` checks is a correct target: it holds when no
  // `pass` check failed.
  bool ok() const {
    return error.empty() && (detected > 0 || row->fail.empty()) && false_pass.empty();
  }
};

RowResult Judge(const Row& row, const Observed& o) {
  RowResult r;
  r.row = &row;
  r.runs = static_cast<int>(o.failed.size());
  r.error = o.error;
  if (o.status != "exit 0" && o.status != "exit 1" && r.error.empty()) {
    r.error = "gracecheck " + o.status;
  }
  for (std::size_t i = 0; i < o.failed.size(); ++i) {
    for (const std::string& c : o.failed[i]) ++r.failed[c];
    bool all = true;
    for (const std::string& c : row.fail) all = all && o.failed[i].count(c) > 0;
    if (all) ++r.detected;
    for (const std::string& c : row.pass) {
      if (o.failed[i].count(c) > 0) ++r.false_pass[c];
      if (o.present[i].count(c) == 0) ++r.false_pass[c + " (missing)"];
    }
  }
  return r;
}

// "sigterm-mid-load", "prefork" (of target/examples/prefork.yaml).
std::string ScenarioName(const std::string& scenario) { return fs::path(scenario).stem().string(); }

std::string MatrixTable(const std::vector<RowResult>& results) {
  std::string out = fmt::format("{:<22} {:<22} {:>9}  {:<9} {}\n", "bug or shape", "scenario",
                                "detected", "verdict", "failing checks observed (runs)");
  for (const RowResult& r : results) {
    std::vector<std::string> failed;
    for (const auto& [name, n] : r.failed) failed.push_back(fmt::format("{} ({})", name, n));
    std::string verdict = r.ok() && r.row->fail.empty() ? "passed"
                          : r.ok()                      ? "caught"
                          : !r.error.empty()            ? "ERROR"
                          : r.detected == 0             ? "MISSED"
                                                        : "WRONG";
    out += fmt::format("{:<22} {:<22} {:>9}  {:<9} {}\n", r.row->bug, ScenarioName(r.row->scenario),
                       fmt::format("{}/{}", r.detected, r.runs), verdict,
                       failed.empty() ? "none" : fmt::format("{}", fmt::join(failed, ", ")));
    if (!r.error.empty()) out += fmt::format("{:<22} error: {}\n", "", r.error);
    if (r.detected == 0 && r.error.empty()) {
      out +=
          fmt::format("{:<22} expected to fail together: {}\n", "", fmt::join(r.row->fail, ", "));
    }
    for (const auto& [name, n] : r.false_pass) {
      out += fmt::format("{:<22} must pass, failed in {} of {} runs: {}\n", "", n, r.runs, name);
    }
  }
  return out;
}

// The comma-separated names in $`name` (GRACECHECK_MATRIX_ONLY=a,b); empty
// when unset.
std::set<std::string> EnvList(const char* name) {
  std::set<std::string> only;
  if (const char* v = std::getenv(name)) {
    std::stringstream s(v);
    for (std::string b; std::getline(s, b, ',');) only.insert(b);
  }
  return only;
}

std::string BugTarget(const std::string& args, const std::string& bug) {
  std::string target =
      fmt::format("{}={{refapi}} --listen 127.0.0.1:{{port}} --db {{database_url}} {}",
                  bug.empty() ? "refapi" : "bug", args);
  if (!bug.empty()) target += " --bug=" + bug;
  return target;
}

// Every row of the matrix (GRACECHECK_MATRIX_ONLY: those rows), on
// gracecheck's embedded cluster or, with `pg_url`, on that server as an
// external one (rows marked `external: skip` are listed, not run).
void RunMatrix(const std::string& pg_url) {
  const std::vector<Row> rows =
      LoadMatrix(fs::path(SOURCE_DIR) / "target" / "detection-matrix.yaml");
  ASSERT_FALSE(rows.empty());
  const std::set<std::string> only = EnvList("GRACECHECK_MATRIX_ONLY");
  const std::optional<int> runs = EnvInt("GRACECHECK_MATRIX_RUNS");
  const char* where = pg_url.empty() ? "" : " (external server)";
  GracecheckRunner runner;
  std::vector<RowResult> results;
  std::vector<std::string> skipped;
  for (const Row& row : rows) {
    if (!only.empty() && only.count(row.bug) == 0) continue;
    if (!pg_url.empty() && !row.external_skip.empty()) {
      skipped.push_back(
          fmt::format("{:<22} {:<22} skipped: {}", row.bug, row.scenario, row.external_skip));
      std::cout << "[matrix] " << skipped.back() << "\n" << std::flush;
      continue;
    }
    const int row_runs = !pg_url.empty() && row.external_runs > 0 ? row.external_runs : row.runs;
    const Observed o =
        runner.Run(row.scenario, row.shape ? row.target : BugTarget(row.args, row.bug),
                   runs.value_or(row_runs), pg_url);
    results.push_back(Judge(row, o));
    const RowResult& r = results.back();
    std::cout << fmt::format("[matrix] {} on {}{}: detected in {}/{} runs{}\n", row.bug,
                             row.scenario, where, r.detected, r.runs, r.ok() ? "" : " — NOT OK")
              << std::flush;
    for (const std::string& f : o.failures) std::cout << "[matrix]   " << f << "\n";
    if (!r.ok()) {
      // A check the row needs may have been skipped rather than passed.
      for (const std::string& f : o.skipped) std::cout << "[matrix]   " << f << "\n";
      std::cout << o.stderr_tail << "\n";
    }
  }
  EXPECT_TRUE(ProcessesWithEnvironment(runner.marker()).empty())
      << "a process of a run outlived it";
  std::string table = MatrixTable(results);
  for (const std::string& line : skipped) table += line + "\n";
  std::cout << fmt::format("\nDetection matrix{} (bug → scenario → failing checks):\n{}", where,
                           table)
            << std::flush;
  for (const RowResult& r : results) {
    EXPECT_TRUE(r.ok()) << r.row->bug << " on " << r.row->scenario << where
                        << " is not as the matrix says; the whole matrix:\n"
                        << table;
  }
}

TEST(DetectionMatrixTest, EveryBugFailsItsChecksAndOnlyThose) { RunMatrix(""); }

// A second cluster, started here (as the embedded one would be), is an
// external server to gracecheck: no server log, pg_stat_activity and
// pg_stat_database only.
class DetectionMatrixExternalTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = OpenPostgres(std::nullopt); }
  void TearDown() override { server_.reset(); }
  std::unique_ptr<PostgresServer> server_;
};

TEST_F(DetectionMatrixExternalTest, EveryBugFailsItsChecksOnAnExternalServerToo) {
  RunMatrix(server_->AdminConnString());
}

// The false-alarm side of the external rules: the correct refapi on the
// scenario of most rows (GRACECHECK_MATRIX_CORRECT_RUNS times, 3 by default)
// fails no check.
TEST_F(DetectionMatrixExternalTest, CorrectRefapiPassesSigtermMidLoadOnAnExternalServer) {
  const int runs = EnvInt("GRACECHECK_MATRIX_CORRECT_RUNS").value_or(3);
  GracecheckRunner runner;
  const Observed o =
      runner.Run("sigterm-mid-load", BugTarget("--pool 16", ""), runs, server_->AdminConnString());
  ASSERT_TRUE(o.error.empty()) << o.error << "\n" << o.stderr_tail;
  EXPECT_EQ(o.status, "exit 0") << fmt::format("{}", fmt::join(o.failures, "\n")) << "\n"
                                << o.stderr_tail;
  for (const std::string& f : o.failures) std::cout << "[matrix]   " << f << "\n";
  EXPECT_TRUE(o.failures.empty()) << fmt::format("{}", fmt::join(o.failures, "\n"));
  EXPECT_TRUE(ProcessesWithEnvironment(runner.marker()).empty())
      << "a process of a run outlived it";
}

// Every shipped scenario against the correct refapi, GRACECHECK_SOAK_RUNS
// times each: no check may fail. Slow (about 4 s a run): skipped unless asked.
TEST(FalseAlarmSoakTest, CorrectRefapiPassesEveryShippedScenarioEveryTime) {
  const std::optional<int> runs = EnvInt("GRACECHECK_SOAK_RUNS");
  if (!runs || *runs <= 0) GTEST_SKIP() << "set GRACECHECK_SOAK_RUNS=N to run";
  std::vector<std::string> scenarios;
  for (const auto& e : fs::directory_iterator(fs::path(SOURCE_DIR) / "scenarios")) {
    if (e.path().extension() == ".yaml") scenarios.push_back(e.path().stem().string());
  }
  std::sort(scenarios.begin(), scenarios.end());
  if (const std::set<std::string> only = EnvList("GRACECHECK_SOAK_ONLY"); !only.empty()) {
    scenarios.erase(std::remove_if(scenarios.begin(), scenarios.end(),
                                   [&](const std::string& n) { return only.count(n) == 0; }),
                    scenarios.end());
  }
  // GRACECHECK_SOAK_JOBS=2: each scenario's runs two at a time (--jobs 2).
  const int jobs = EnvInt("GRACECHECK_SOAK_JOBS").value_or(1);
  GracecheckRunner runner;
  std::string table =
      fmt::format("{:<28} {:>6} {:>7}  {}\n", "scenario", "runs", "failed", "failed checks (runs)");
  int total = 0, failures = 0;
  for (const std::string& name : scenarios) {
    const Observed o = runner.Run(name, "", *runs, "", jobs);
    std::map<std::string, int> failed;
    int failed_runs = 0;
    for (const auto& f : o.failed) {
      failed_runs += f.empty() ? 0 : 1;
      for (const std::string& c : f) ++failed[c];
    }
    total += static_cast<int>(o.failed.size());
    failures += failed_runs;
    std::vector<std::string> names;
    for (const auto& [c, n] : failed) names.push_back(fmt::format("{} ({})", c, n));
    const std::string line =
        fmt::format("{:<28} {:>6} {:>7}  {}{}\n", name, o.failed.size(), failed_runs,
                    names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")),
                    o.error.empty() ? "" : " ERROR: " + o.error);
    table += line;
    std::cout << "[soak] " << line << std::flush;
    for (const std::string& f : o.failures) std::cout << "[soak]   " << f << "\n" << std::flush;
    EXPECT_TRUE(o.error.empty()) << name << ": " << o.error << "\n" << o.stderr_tail;
    EXPECT_EQ(failed_runs, 0) << name << ": " << line;
  }
  std::cout << fmt::format("\nFalse-alarm soak: {} runs, {} with a failed check\n{}", total,
                           failures, table)
            << std::flush;
  EXPECT_TRUE(ProcessesWithEnvironment(runner.marker()).empty())
      << "a process of a run outlived it";
}

// The correct targets of other shapes (the matrix's `shape` rows with no
// `fail` checks: a pre-fork server, one behind a wrapper, ...),
// GRACECHECK_SOAK_RUNS times each: none of their `pass` checks may fail.
TEST(FalseAlarmSoakTest, CorrectShapesPassTheirChecksEveryTime) {
  const std::optional<int> runs = EnvInt("GRACECHECK_SOAK_RUNS");
  if (!runs || *runs <= 0) GTEST_SKIP() << "set GRACECHECK_SOAK_RUNS=N to run";
  const int jobs = EnvInt("GRACECHECK_SOAK_JOBS").value_or(1);
  const std::set<std::string> only = EnvList("GRACECHECK_SOAK_ONLY");
  GracecheckRunner runner;
  int total = 0, failures = 0;
  for (const Row& row : LoadMatrix(fs::path(SOURCE_DIR) / "target" / "detection-matrix.yaml")) {
    if (!row.shape || !row.fail.empty()) continue;
    if (!only.empty() && only.count(row.bug) == 0) continue;
    const Observed o = runner.Run(row.scenario, row.target, *runs, "", jobs);
    const RowResult r = Judge(row, o);
    int failed_runs = 0;
    for (const auto& f : o.failed) {
      bool any = false;
      for (const std::string& c : row.pass) any = any || f.count(c) > 0;
      failed_runs += any ? 1 : 0;
    }
    total += r.runs;
    failures += failed_runs;
    std::cout << fmt::format("[soak] {:<28} {:>6} {:>7}{}\n", row.bug, r.runs, failed_runs,
                             r.error.empty() ? "" : " ERROR: " + r.error)
              << std::flush;
    for (const std::string& f : o.failures) std::cout << "[soak]   " << f << "\n" << std::flush;
    EXPECT_TRUE(r.ok()) << row.bug << ":\n" << MatrixTable({r}) << o.stderr_tail;
  }
  std::cout << fmt::format(
                   "\nFalse-alarm soak of the other shapes: {} runs, {} with a failed "
                   "check they must pass\n",
                   total, failures)
            << std::flush;
  EXPECT_TRUE(ProcessesWithEnvironment(runner.marker()).empty())
      << "a process of a run outlived it";
}

}  // namespace
}  // namespace gracecheck
