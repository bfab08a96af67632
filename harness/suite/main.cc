// The gracecheck command line: a table of subcommands (ninja's kTools), each a
// thin layer over the library.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "checks.h"
#include "command_line.h"
#include "compare.h"
#include "completion.h"
#include "console.h"
#include "exit_codes.h"
#include "fd_limit.h"
#include "interrupt.h"
#include "job_pool.h"
#include "json.h"
#include "machine.h"
#include "manpage.h"
#include "out_dir.h"
#include "postgres.h"
#include "redact.h"
#include "report_files.h"
#include "report_view.h"
#include "requests_out.h"
#include "run.h"
#include "run_plan.h"
#include "scenario.h"
#include "scenario_warnings.h"
#include "sha256.h"
#include "signal_names.h"
#include "subprocess.h"
#include "target_process.h"
#include "watchdog.h"

namespace gracecheck {
namespace {

using namespace std::chrono_literals;

void Error(const std::string& message) { fmt::print(stderr, "gracecheck: error: {}\n", message); }

// What gracecheck left on `server` when it was killed: said, then dropped.
void SweepLeftovers(PostgresServer& server) {
  const std::vector<std::string> swept = SweepRunDatabases(server);
  if (swept.empty()) return;
  fmt::print(stderr,
             "gracecheck: dropped {} run database{} and role{} left by gracecheck processes that "
             "are gone: {}\n",
             swept.size(), swept.size() == 1 ? "" : "s", swept.size() == 1 ? "" : "s",
             fmt::join(swept, ", "));
}

// gracecheck with-db [--pg-url URL] [--label L] -- CMD ARG...
// Runs CMD against a fresh run database (embedded cluster unless --pg-url),
// then drops it and stops the cluster. CMD gets the URL as
// $GRACECHECK_DATABASE_URL and in place of {database_url} in its arguments.
struct WithDb {
  std::optional<std::string> pg_url;
  std::string label = "with_db";
  std::vector<std::string> command;

  void Setup(CLI::App& app) {
    app.add_option("--pg-url", pg_url, "external PostgreSQL (default: embedded cluster)")
        ->envname("GRACECHECK_PG_URL");
    app.add_option("--label", label, "part of the run database's name");
    app.add_option("command", command, "command and arguments (after --)")->required();
  }

  int Run() {
    std::unique_ptr<PostgresServer> server = OpenPostgres(pg_url);
    if (const std::string details = server->StartDetails(); !details.empty()) {
      fmt::print(stderr, "gracecheck: {} {}\n", server->Describe(), details);
    }
    SweepLeftovers(*server);
    interrupt::ThrowIfRequested();
    std::unique_ptr<RunDatabase> db = RunDatabase::Create(*server, label);
    fmt::print(stderr, "gracecheck: run database {} created in {}: {}\n", db->name(),
               FormatDuration(db->create_time()), db->redacted_url());
    interrupt::ThrowIfRequested();

    SpawnOptions opts;
    for (std::string arg : command) {
      for (std::size_t at; (at = arg.find("{database_url}")) != std::string::npos;) {
        arg.replace(at, 14, db->url());
      }
      opts.argv.push_back(arg);
    }
    opts.env = {"GRACECHECK_DATABASE_URL=" + db->url(), "GRACECHECK_DATABASE=" + db->name()};
    std::unique_ptr<Subprocess> child;
    try {
      child = Subprocess::Start(opts);
    } catch (const SpawnError& e) {
      Error(e.what());
      return kExitUsage;
    }
    watchdog::WatchGroup(child->pgid());
    std::optional<ExitStatus> status;
    while (!(status = child->WaitFor(50ms))) {
      if (interrupt::Requested()) {
        child->SignalGroup(interrupt::Signal());
        if (!(status = child->WaitFor(10s))) child->Kill();
        throw interrupt::Interrupted();
      }
    }
    db->Drop();
    return status->signaled ? 128 + status->signal : status->code;
  }
};

namespace fs = std::filesystem;

// Built binaries a scenario may name as placeholders: those next to the
// gracecheck executable (the build's bin/ dir, or an install's), plus --bin.
std::map<std::string, std::string> BuiltBinaries() {
  std::map<std::string, std::string> out;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return out;
  for (const char* name : {"refapi", "go-article", "go-fixed", "go-open-tx"}) {
    const fs::path candidate = self.parent_path() / name;
    if (::access(candidate.c_str(), X_OK) == 0) out[name] = candidate.string();
  }
  return out;
}

bool DumbTerminal() {
  const char* term = std::getenv("TERM");
  return term != nullptr && std::string(term) == "dumb";
}

bool UseColor() {
  const char* no_color = std::getenv("NO_COLOR");
  return (no_color == nullptr || *no_color == '\0') && ::isatty(STDOUT_FILENO) && !DumbTerminal();
}

// Whether stderr can take the refreshing status line (\r and erase-line);
// NO_COLOR does not forbid it (it is about color), TERM=dumb does.
bool LiveStatus() { return ::isatty(STDERR_FILENO) && !DumbTerminal(); }

// The terminal's width: stderr's window size, else $COLUMNS, else 80.
std::size_t TerminalColumns() {
  winsize w{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && n > 0) return static_cast<std::size_t>(n);
  }
  return 80;
}

// The status line redrawn in place, cut to fit: a line wider than the
// terminal wraps, and "\r" then returns only to its last row (22 copies of
// it in one run in an 80-column terminal). Three columns are left free: the
// terminal echoes a Ctrl-C as "^C" after it, and had that wrapped, the
// erase on interrupt would clear the wrong row (seen in tmux). Its text is
// ASCII: bytes are columns.
void DrawStatus(const std::string& line) {
  constexpr std::size_t kFree = 3;
  std::string shown = "  " + line;
  const std::size_t width = TerminalColumns();
  if (shown.size() + kFree > width) shown.resize(width > kFree ? width - kFree : 0);
  fmt::print(stderr, "\r\033[K{}", shown);
}

// Erases the status line, if one is drawn.
void ClearStatus() {
  if (LiveStatus()) fmt::print(stderr, "\r\033[K");
}

void PrintErrors(const std::vector<ScenarioError>& errors) {
  for (const ScenarioError& e : errors) fmt::print(stderr, "{}\n", e.ToString());
}

// The binaries a scenario may name ({refapi}, {NAME} of --bin NAME=PATH):
// those built beside gracecheck and those given. nullopt (said) when a
// --bin is not NAME=PATH.
std::optional<ParseOptions> BinariesOf(const std::vector<std::string>& bins,
                                       std::map<std::string, std::string>* binaries) {
  *binaries = BuiltBinaries();
  for (const std::string& b : bins) {
    const std::size_t eq = b.find('=');
    if (eq == std::string::npos || eq == 0) {
      Error(fmt::format("--bin '{}': expected NAME=PATH", b));
      return std::nullopt;
    }
    (*binaries)[b.substr(0, eq)] = b.substr(eq + 1);
  }
  ParseOptions options;
  options.binaries.clear();
  for (const auto& [name, path] : *binaries) options.binaries.push_back(name);
  if (options.binaries.empty()) options.binaries = {"refapi"};
  return options;
}

// The --target NAME=CMD overrides, each parsed against `options` (its
// placeholders known); false (said, one line) for one that is not, or for
// a name given twice (two targets of one name would be one in every report).
bool TargetsOf(const std::vector<std::string>& targets, const ParseOptions& options,
               std::vector<TargetOverride>* overrides) {
  for (const std::string& t : targets) {
    std::string why;
    std::optional<TargetOverride> o = ParseTargetOverride(t, options, &why);
    if (!o) {
      Error(fmt::format("--target {}: {}", t, why));
      return false;
    }
    for (const TargetOverride& earlier : *overrides) {
      if (earlier.name == o->name) {
        Error(fmt::format("--target {}: the name '{}' is already given to another --target", t,
                          o->name));
        return false;
      }
    }
    overrides->push_back(std::move(*o));
  }
  return true;
}

// gracecheck cleanup [--pg-url URL]
// Drops what killed gracecheck processes left: run databases and roles on
// an external server (--pg-url), or embedded clusters in the temp dir.
struct Cleanup {
  std::optional<std::string> pg_url;
  void Setup(CLI::App& app) {
    app.add_option("--pg-url", pg_url,
                   "the external PostgreSQL to sweep (default: the embedded clusters' temp dir)")
        ->envname("GRACECHECK_PG_URL");
  }
  int Run() {
    if (!pg_url) {
      const fs::path root = EmbeddedPostgres::DefaultTempRoot();
      const int removed = EmbeddedPostgres::RemoveStaleClusters(root);
      fmt::print(
          "gracecheck: removed {} embedded cluster{} left in {} by gracecheck processes "
          "that are gone\n",
          removed, removed == 1 ? "" : "s", root.string());
      return kExitPassed;
    }
    std::unique_ptr<PostgresServer> server = OpenPostgres(pg_url);
    const std::vector<std::string> swept = SweepRunDatabases(*server);
    fmt::print(
        "gracecheck: dropped {} run database{} left on {} by gracecheck processes that "
        "are gone{}{}\n",
        swept.size(), swept.size() == 1 ? "" : "s", server->Describe(), swept.empty() ? "" : ": ",
        fmt::join(swept, ", "));
    return kExitPassed;
  }
};

// gracecheck validate SCENARIO... [--bin NAME=PATH]... [--target NAME=CMD]...
struct Validate {
  std::vector<std::string> files;
  std::vector<std::string> bins;
  std::vector<std::string> targets;
  void Setup(CLI::App& app) {
    app.add_option("scenarios", files, "scenario files")->required();
    app.add_option("--bin", bins, "NAME=PATH: a binary scenarios may name as {NAME} (as for run)");
    app.add_option("--target", targets, "NAME=CMD: check this command as run would take it");
  }
  int Run() {
    std::map<std::string, std::string> binaries;
    std::optional<ParseOptions> options = BinariesOf(bins, &binaries);
    if (!options) return kExitUsage;
    std::vector<TargetOverride> overrides;
    if (!TargetsOf(targets, *options, &overrides)) return kExitUsage;
    std::vector<ScenarioError> warnings;
    std::vector<ScenarioError> errors = ValidateScenarioFiles(files, *options, &warnings);
    PrintErrors(warnings);
    if (!errors.empty()) {
      PrintErrors(errors);
      return kExitUsage;
    }
    fmt::print("{} scenario{} valid\n", files.size(), files.size() == 1 ? "" : "s");
    return kExitPassed;
  }
};

// gracecheck list [DIR]
struct List {
  std::string dir = "scenarios";
  void Setup(CLI::App& app) { app.add_option("dir", dir, "directory of scenario files"); }
  int Run() {
    std::vector<fs::path> paths;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string ext = e.path().extension().string();
      if (ext == ".yaml" || ext == ".yml") paths.push_back(e.path());
    }
    if (ec) {
      Error(fmt::format("cannot read {}: {}", dir, ec.message()));
      return kExitUsage;
    }
    std::sort(paths.begin(), paths.end());
    int status = kExitPassed;
    for (const fs::path& p : paths) {
      ParseResult r = ParseScenarioFile(p.string());
      if (!r.ok()) {
        fmt::print("{:<28} INVALID: {}\n", p.filename().string(), r.errors.front().ToString());
        status = kExitUsage;
        continue;
      }
      std::string what = r.scenario->description;
      what = what.substr(0, what.find_first_of(".\n"));
      fmt::print("{:<28} {}\n", r.scenario->name, what);
    }
    return status;
  }
};

// RLIMIT_NOFILE once raised to its hard limit, at start (fd_limit.h).
FdLimit fd_limit_at_start;

// The judged runs, in report order, leaving out those never judged.
nlohmann::json JudgedInOrder(std::vector<nlohmann::json>* judged) {
  nlohmann::json runs = nlohmann::json::array();
  for (nlohmann::json& run : *judged) {
    if (!run.is_null()) runs.push_back(std::move(run));
  }
  return runs;
}

// gracecheck run SCENARIO... [--target NAME=CMD]... [--repeat N] [--seed S] ...
// gracecheck's own command line, for the reports (secrets masked there).
std::vector<std::string> g_invocation;

// What a report says of how and where it was made, so that `gracecheck
// rerun` can replay a run and say what differs: gracecheck's command line
// and working directory, and the machine (cores, kernel, load average at
// the suite's start).
nlohmann::json Provenance(const MachineInfo& m) {
  nlohmann::json argv = nlohmann::json::array();
  for (const std::string& a : g_invocation) argv.push_back(RedactSecrets(a));
  std::error_code ec;
  nlohmann::json load = nlohmann::json::array();
  for (double l : m.load) load.push_back(l < 0 ? nlohmann::json() : nlohmann::json(l));
  return {{"invocation", {{"argv", argv}, {"cwd", fs::current_path(ec).string()}}},
          {"machine", {{"cores", m.cores}, {"kernel", m.kernel}, {"load_average", load}}}};
}

struct RunCommand {
  bool compare = false;  // gracecheck compare: at least two targets, and the side-by-side table
  std::vector<std::string> files;
  std::vector<std::string> targets;
  std::vector<std::string> bins;
  int repeat = 1;
  int jobs = 1;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> pg_url;
  std::string out_dir;
  ReportFiles report_files;
  std::string requests_out;
  // A request-records file could not be written (set from the runs' jobs).
  mutable std::atomic<bool> records_lost_{false};

  void Setup(CLI::App& app) {
    app.add_option("scenarios", files, "scenario files")->required();
    app.add_option("--target", targets, "NAME=CMD: run this command instead of the scenario's");
    app.add_option("--bin", bins, "NAME=PATH: a binary scenarios may name as {NAME}");
    app.add_option("--repeat", repeat, "run each scenario N times")->check(CLI::Range(1, 10000));
    app.add_option("--jobs,-j", jobs,
                   "run N scenarios at once, each on its own database and port (a scenario with "
                   "a db: restart fault runs alone)")
        ->check(CLI::Range(1, 64));
    app.add_option("--seed", seed, "random seed (printed in every report, to replay a run)")
        ->check(CLI::Validator(
            [](std::string& s) {
              // CLI11 reads "-1" into an unsigned as 2^64-1.
              return !s.empty() && s[0] == '-' ? std::string("a seed is a whole number >= 0")
                                               : std::string();
            },
            "UINT"));
    SetupOutputs(app);
  }

  // Where the runs are made and their reports go: also rerun's options.
  void SetupOutputs(CLI::App& app) {
    app.add_option("--pg-url", pg_url, "external PostgreSQL (default: embedded cluster)")
        ->envname("GRACECHECK_PG_URL");
    std::string names;
    for (const ReportFormat& f : ReportFormats()) {
      if (!f.out_file.empty()) names += f.out_file + ", ";
    }
    app.add_option("--out", out_dir,
                   "keep target logs, the cluster's log and every report here (" + names +
                       "requests.jsonl per run)");
    for (const ReportFormat& f : ReportFormats()) {
      app.add_option(f.flag, report_files[f.name], f.help);
      if (!f.append_flag.empty())
        app.add_flag(f.append_flag, report_files.append(f.name), f.append_help);
    }
    app.add_option("--requests-out", requests_out, "write every request record here (JSON lines)");
  }

  // With --out, every report goes there unless its own flag names a file.
  // GITHUB_ACTIONS=true: the annotations on stdout unless named.
  ReportFiles OutputFiles() const { return report_files.InDirectory(out_dir).WithEnvironment(); }

  int Run() {
    const MachineInfo machine = DescribeMachine();  // the load before ours
    std::map<std::string, std::string> binaries;
    std::optional<ParseOptions> parsed = BinariesOf(bins, &binaries);
    if (!parsed) return kExitUsage;
    const ParseOptions& options = *parsed;

    // Everything is validated before anything starts.
    std::vector<Scenario> scenarios;
    std::vector<ScenarioError> errors;
    for (const std::string& f : files) {
      ParseResult r = ParseScenarioFile(f, options);
      errors.insert(errors.end(), r.errors.begin(), r.errors.end());
      if (r.ok()) scenarios.push_back(std::move(*r.scenario));
    }
    std::vector<TargetOverride> overrides;
    if (!TargetsOf(targets, options, &overrides)) return kExitUsage;
    // What cannot work with --pg-url is said now, not found by the run.
    if (pg_url) {
      std::vector<ScenarioError> problems = ExternalServerProblems(scenarios);
      errors.insert(errors.end(), problems.begin(), problems.end());
    }
    if (!errors.empty()) {
      PrintErrors(errors);
      return kExitUsage;
    }
    for (const Scenario& s : scenarios) PrintErrors(ScenarioWarnings(s));
    if (compare && overrides.size() < 2) {
      Error("compare needs at least two --target NAME=CMD (e.g. --target a='{refapi} ...')");
      return kExitUsage;
    }

    // An output that cannot be written is said now, not after the runs:
    // every problem, one line each.
    {
      std::vector<OutputPath> outputs = OutputFiles().Outputs(report_files);
      outputs.insert(outputs.begin(), {"--out", out_dir, true});
      outputs.push_back({"--requests-out", requests_out});
      const std::vector<std::string> problems = OutputProblems(outputs);
      for (const std::string& p : problems) Error(p);
      if (!problems.empty()) return kExitUsage;
    }
    const std::size_t copies =
        (overrides.empty() ? 1 : overrides.size()) * static_cast<std::size_t>(std::max(repeat, 1));
    if (std::optional<std::string> why =
            SuiteFdShortage(scenarios, copies, jobs, fd_limit_at_start)) {
      Error(*why);
      return kExitInfrastructure;
    }
    if (std::vector<ScenarioError> problems = PoolerProblems(scenarios); !problems.empty()) {
      PrintErrors(problems);
      return kExitInfrastructure;
    }
    const std::uint64_t base_seed = seed ? *seed : std::random_device{}();
    TempOrKeptDir out(out_dir);
    std::unique_ptr<PostgresServer> server = OpenPostgres(pg_url);
    fmt::print(stderr, "gracecheck: {}\n", server->Describe());
    SweepLeftovers(*server);
    // The cluster's JSON-lines log (every connection and disconnection).
    if (!out_dir.empty()) server->KeepLogAs(out.path() / "postgresql.json");

    const RunPlan plan = PlanRuns(scenarios, overrides, repeat, base_seed, out.path());
    const std::vector<PlannedRun>& plans = plan.runs;

    // Each run becomes its part of the JSON report as soon as it is judged;
    // everything shown (console now, the report files at the end) is
    // rendered from that JSON, as `gracecheck report` renders a saved one.
    std::vector<nlohmann::json> judged(plans.size());
    RunVerdict worst = RunVerdict::kPass;
    const auto suite_start = std::chrono::steady_clock::now();
    // The suite's last line: its tally, and where the reports went.
    auto tally = [&](const nlohmann::json& report, const std::vector<std::string>& written) {
      std::string where = out_dir;
      if (where.empty() && !written.empty()) {
        where = written.size() == 1 ? written[0]
                                    : fmt::format("{} and {} more", written[0], written.size() - 1);
      }
      fmt::print(
          stderr, "{}\n",
          SuiteTally(ReadReport(report), std::chrono::steady_clock::now() - suite_start, where));
    };
    // Interrupted (SIGINT/SIGTERM): the runs judged so far still become the
    // report files, marked "interrupted", before gracecheck exits 130.
    try {
      RunAll(plans, *server, binaries, [&](const PlannedRun& p, nlohmann::json run, RunVerdict v) {
        worst = Worse(worst, v);
        judged[static_cast<std::size_t>(p.index)] = std::move(run);
      });
    } catch (const interrupt::Interrupted&) {
      ClearStatus();
      nlohmann::json runs = JudgedInOrder(&judged);
      if (!runs.empty()) {
        const ReportFiles outputs = OutputFiles();
        const std::size_t n = runs.size();
        nlohmann::json report = ReportJsonOfRuns(std::move(runs));
        report.update(Provenance(machine));
        report["interrupted"] = true;
        std::vector<std::string> written;
        for (const std::string& e : WriteReportFiles(report, outputs, &written)) Error(e);
        fmt::print(stderr,
                   "gracecheck: interrupted: the report files hold the {} run{} judged "
                   "before it\n",
                   n, n == 1 ? "" : "s");
        tally(report, written);
      }
      throw;
    }
    nlohmann::json runs = JudgedInOrder(&judged);
    const ReportFiles outputs = OutputFiles();
    nlohmann::json report = ReportJsonOfRuns(std::move(runs));
    report.update(Provenance(machine));
    if (compare) {
      const CompareTable table = BuildCompareTable(ReadReport(report));
      report["compare"] = CompareJson(table);
      fmt::print("\nSide by side ({} run{} per scenario and target):\n{}", repeat,
                 repeat == 1 ? "" : "s", CompareText(table));
      std::fflush(stdout);
    }
    std::vector<std::string> written;
    const std::vector<std::string> write_errors = WriteReportFiles(report, outputs, &written);
    for (const std::string& path : written) fmt::print(stderr, "gracecheck: wrote {}\n", path);
    for (const std::string& e : write_errors) Error(e);
    tally(report, written);
    // A report that could not be written is the harness's failure.
    if (!write_errors.empty() || records_lost_) return kExitInfrastructure;
    return VerdictExitCode(worst);
  }

  using Judged = std::function<void(const PlannedRun&, nlohmann::json run, RunVerdict verdict)>;

  // One run, start to finish: run, judge, print (the console report to
  // `console`, phase lines through `progress`), write its request records.
  void Execute(const PlannedRun& p, PostgresServer& server,
               const std::map<std::string, std::string>& binaries, FILE* console,
               const std::function<void(const std::string&)>& progress,
               const std::function<void(const std::string&)>& status, const Judged& judged) const {
    RunConfig config;
    config.scenario = p.scenario;
    config.target_name = p.target_name;
    config.server = &server;
    config.binaries = binaries;
    config.seed = p.seed;
    fs::create_directories(p.dir);
    config.out_dir = p.dir;
    config.progress = progress;
    config.status = status;
    const Timeline timeline = RunScenario(config);
    std::vector<CheckResult> checks = RunChecks(timeline, p.scenario->expect);
    const RunVerdict verdict = JudgeRun(checks, timeline);
    if (!timeline.start_error.empty()) {
      Error(fmt::format("{}: {}", RunLabel(p), timeline.start_error));
    }
    nlohmann::json run = AsReadBack(RunJson({&timeline, std::move(checks)}));
    PrintConsoleReport(console, run, UseColor());
    if (verdict != RunVerdict::kPass) {
      fmt::print(console, "  {}'s output (last lines; all of it in {}):\n{}", p.target_name,
                 out_dir.empty() ? "--out DIR" : p.dir.string(),
                 run["target_log_tail"].get<std::string>());
    }
    std::fflush(console);
    // Each file on its own: one that cannot be written loses nothing else.
    auto write_records = [&](const std::string& path) {
      try {
        WriteRequestRecords(path, timeline);
      } catch (const std::exception& e) {
        Error(e.what());
        records_lost_ = true;
      }
    };
    if (!requests_out.empty()) {
      write_records(p.index == 0 ? requests_out : fmt::format("{}.{}", requests_out, p.index + 1));
    }
    if (!out_dir.empty()) write_records((p.dir / "requests.jsonl").string());
    judged(p, std::move(run), verdict);
  }

  std::string RunLabel(const PlannedRun& p) const { return gracecheck::RunLabel(p, repeat); }

  std::string RunningLine(const PlannedRun& p) const {
    return fmt::format("gracecheck: running {}\n", RunLabel(p));
  }

  // Makes every run, `jobs` at a time (job_pool.h), and hands each to
  // `judged` (under a lock) once judged.
  void RunAll(const std::vector<PlannedRun>& plans, PostgresServer& server,
              const std::map<std::string, std::string>& binaries, const Judged& judged) const {
    auto alone = [&](std::size_t i) { return RunsAlone(*plans[i].scenario); };
    if (jobs <= 1) {
      // On a terminal, a live status line; otherwise (CI logs) plain phase lines.
      const bool tty = LiveStatus();
      auto progress = [tty](const std::string& line) {
        if (tty) fmt::print(stderr, "\r\033[K");
        fmt::print(stderr, "  {}\n", line);
      };
      std::function<void(const std::string&)> status;
      if (tty) status = DrawStatus;
      RunJobs(plans.size(), 1, alone, [&](std::size_t i) {
        fmt::print(stderr, "{}", RunningLine(plans[i]));
        Execute(plans[i], server, binaries, stdout, progress, status,
                [&](const PlannedRun& done, nlohmann::json run, RunVerdict verdict) {
                  if (tty) fmt::print(stderr, "\r\033[K");
                  judged(done, std::move(run), verdict);
                });
      });
      return;
    }
    std::mutex mu;  // printing, judged
    RunJobs(plans.size(), jobs, alone, [&](std::size_t i) {
      const PlannedRun& p = plans[i];
      {
        std::lock_guard<std::mutex> lock(mu);
        fmt::print(stderr, "{}", RunningLine(p));
      }
      // Phase lines and the report are printed together when it ends.
      std::string lines;
      char* buffer = nullptr;
      std::size_t size = 0;
      FILE* console = ::open_memstream(&buffer, &size);
      if (console == nullptr) throw std::runtime_error("open_memstream failed");
      nlohmann::json run;
      RunVerdict verdict = RunVerdict::kError;
      try {
        Execute(
            p, server, binaries, console,
            [&lines](const std::string& line) { lines += fmt::format("  {}\n", line); }, nullptr,
            [&](const PlannedRun&, nlohmann::json j, RunVerdict v) {
              run = std::move(j);
              verdict = v;
            });
      } catch (...) {
        std::fclose(console);
        std::free(buffer);
        throw;
      }
      std::fclose(console);
      std::unique_ptr<char, void (*)(void*)> text(buffer, &std::free);
      std::lock_guard<std::mutex> lock(mu);
      fmt::print(stderr, "gracecheck: finished {}:\n{}", RunLabel(p), lines);
      std::fwrite(text.get(), 1, size, stdout);
      std::fflush(stdout);
      judged(p, std::move(run), verdict);
    });
  }
};

// gracecheck report RESULT.json [--html F] [--junit F] [--markdown F] [--console]
// Renders a saved JSON report; it never runs anything. Exit by the worst run
// in it (0 every run passed, 1 one failed, 3 one is invalid: a harness
// error), 2 when the file is not a report.
struct ReportCommand {
  std::string input;
  ReportFiles files;
  bool console = false;

  void Setup(CLI::App& app) {
    app.add_option("report", input,
                   "a JSON report (gracecheck run --json F, or --out DIR's report.json)")
        ->required();
    for (const ReportFormat& f : ReportFormats()) {
      if (!f.from_saved_report) continue;
      app.add_option(f.flag, files[f.name], f.help);
      if (!f.append_flag.empty()) app.add_flag(f.append_flag, files.append(f.name), f.append_help);
    }
    app.add_flag("--console", console,
                 "print the console report (the default without other outputs)");
  }

  int Run() {
    nlohmann::json report;
    try {
      report = LoadReportFile(input);
    } catch (const ReportError& e) {
      Error(e.what());
      return kExitUsage;
    }
    const bool named_any = files.any();
    files = files.WithEnvironment();  // GITHUB_ACTIONS=true: the annotations on stdout
    const std::vector<std::string> problems = OutputProblems(files.Outputs(files));
    for (const std::string& p : problems) Error(p);
    if (!problems.empty()) return kExitUsage;
    if (console || !named_any) {
      const bool color = UseColor();
      for (const nlohmann::json& run : report["runs"]) PrintConsoleReport(stdout, run, color);
      std::fflush(stdout);
    }
    const std::vector<std::string> write_errors = WriteReportFiles(report, files);
    for (const std::string& e : write_errors) Error(e);
    if (!write_errors.empty()) return kExitInfrastructure;
    const ReportView view = ReadReport(report, input);
    if (view.interrupted) {
      fmt::print(stderr,
                 "gracecheck: the report is of an interrupted suite ({} run{} judged "
                 "before it)\n",
                 view.runs.size(), view.runs.size() == 1 ? "" : "s");
      return kExitInterrupted;
    }
    return VerdictExitCode(view.Worst());
  }
};

struct Version {
  void Setup(CLI::App&) {}
  int Run() {
    fmt::print("gracecheck {}\n", GRACECHECK_VERSION);
    return kExitPassed;
  }
};

// gracecheck rerun REPORT.json [--run N] [--pg-url URL] [--out DIR]
// Replays one run of a saved report: its scenario file (said if its
// sha256 changed since), its target's command as written, its seed; the
// machine's differences said. Default: the first run that did not pass.
struct Rerun {
  RunCommand* run_command = nullptr;
  std::string report_path;
  std::optional<int> which;
  void Setup(CLI::App& app) {
    app.add_option("report", report_path, "a JSON report gracecheck wrote")->required();
    app.add_option("--run", which,
                   "which of its runs, from 1 (default: the first that did not pass)")
        ->check(CLI::PositiveNumber);
    run_command->SetupOutputs(app);
  }
  int Run() {
    std::ifstream in(report_path);
    const nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
    if (!in || !report.is_object() || !report.contains("runs") || !report["runs"].is_array() ||
        report["runs"].empty()) {
      Error(fmt::format("{}: not a gracecheck JSON report with runs", report_path));
      return kExitUsage;
    }
    const nlohmann::json& runs = report["runs"];
    std::size_t index = 0;
    if (which) {
      index = static_cast<std::size_t>(*which - 1);
      if (index >= runs.size()) {
        Error(fmt::format("--run {}: {} has {} run{}", *which, report_path, runs.size(),
                          runs.size() == 1 ? "" : "s"));
        return kExitUsage;
      }
    } else {
      while (index + 1 < runs.size() && runs[index].value("verdict", "") == "pass") ++index;
    }
    const nlohmann::json& run = runs[index];
    const std::string file = run.value("scenario_file", "");
    const std::vector<std::string> command =
        run.value("target_command", std::vector<std::string>{});
    if (file.empty() || command.empty() || !run.contains("seed")) {
      Error(
          fmt::format("{}: run {} does not say its scenario file, target command and seed "
                      "(a report from before gracecheck could replay)",
                      report_path, index + 1));
      return kExitUsage;
    }
    std::ifstream scenario(file, std::ios::binary);
    if (!scenario) {
      Error(fmt::format(
          "run {}'s scenario {} cannot be read here (run rerun from the directory "
          "the report was made in: {})",
          index + 1, file, report.value("/invocation/cwd"_json_pointer, std::string("unknown"))));
      return kExitUsage;
    }
    std::ostringstream bytes;
    bytes << scenario.rdbuf();
    const std::string sha = Sha256Hex(bytes.str());
    const std::string recorded = run.value("scenario_sha256", "");
    fmt::print(stderr, "gracecheck: replaying run {} of {}: {} against {} (seed {})\n", index + 1,
               report_path, run.value("scenario", ""), run.value("target", ""),
               run["seed"].get<std::uint64_t>());
    if (!recorded.empty() && recorded != sha) {
      fmt::print(stderr,
                 "gracecheck: warning: {} changed since the report (sha256 {} then, {} now)\n",
                 file, recorded.substr(0, 12), sha.substr(0, 12));
    }
    const MachineInfo here = DescribeMachine();
    const unsigned then_cores = report.value("/machine/cores"_json_pointer, 0u);
    const std::string then_kernel = report.value("/machine/kernel"_json_pointer, std::string());
    if ((then_cores != 0 && then_cores != here.cores) ||
        (!then_kernel.empty() && then_kernel != here.kernel)) {
      fmt::print(stderr, "gracecheck: note: the report was made on {} cores, {}; this is {}, {}\n",
                 then_cores, then_kernel, here.cores, here.kernel);
    }
    // The binaries the original named ({mybin} of --bin mybin=PATH).
    const std::vector<std::string> argv =
        report.value("/invocation/argv"_json_pointer, std::vector<std::string>{});
    for (std::size_t i = 0; i < argv.size(); ++i) {
      if (argv[i] == "--bin" && i + 1 < argv.size()) run_command->bins.push_back(argv[++i]);
      if (argv[i].rfind("--bin=", 0) == 0) run_command->bins.push_back(argv[i].substr(6));
    }
    run_command->files = {file};
    run_command->seed = run["seed"].get<std::uint64_t>();
    run_command->targets = {run.value("target", "target") + "=" + JoinCommandLine(command)};
    return run_command->Run();
  }
};

struct CompletionCommand {
  const CLI::App* root = nullptr;
  std::string shell;
  void Setup(CLI::App& app) {
    app.add_option("shell", shell, "bash, zsh or fish")
        ->required()
        ->check(CLI::IsMember(CompletionShells()));
  }
  int Run() {
    fmt::print("{}", CompletionScript(*root, shell));
    return kExitPassed;
  }
};

struct ManPageCommand {
  const CLI::App* root = nullptr;
  void Setup(CLI::App& app) { app.group(""); }  // for packaging, not in --help
  int Run() {
    fmt::print("{}", ManPage(*root, GRACECHECK_VERSION));
    return kExitPassed;
  }
};

struct Subcommand {
  const char* name;
  const char* description;
  std::function<void(CLI::App&)> setup;
  std::function<int()> run;
};

int Main(int argc, char** argv) {
  interrupt::Install();
  // A target that closes a connection must not kill the harness.
  ::signal(SIGPIPE, SIG_IGN);
  g_invocation.assign(argv, argv + argc);
  CLI::App app{
      "gracecheck: proves that HTTP API servers backed by PostgreSQL shut down gracefully"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("gracecheck {}", GRACECHECK_VERSION),
                       "print the version and exit");
  RunCommand run;
  RunCommand compare;
  compare.compare = true;
  Validate validate;
  List list;
  WithDb with_db;
  Cleanup cleanup;
  ReportCommand report;
  Version version;
  RunCommand replay;
  Rerun rerun;
  rerun.run_command = &replay;
  CompletionCommand completion;
  completion.root = &app;
  ManPageCommand manpage;
  manpage.root = &app;
  const std::vector<Subcommand> subcommands = {
      {"run", "run scenarios against their targets and judge the shutdown",
       [&](CLI::App& a) { run.Setup(a); }, [&] { return run.Run(); }},
      {"report", "render a saved JSON report as HTML, JUnit, Markdown or console text",
       [&](CLI::App& a) { report.Setup(a); }, [&] { return report.Run(); }},
      {"rerun", "replay one run of a saved JSON report (its scenario, target command and seed)",
       [&](CLI::App& a) { rerun.Setup(a); }, [&] { return rerun.Run(); }},
      {"compare", "run scenarios against several targets and compare them side by side",
       [&](CLI::App& a) { compare.Setup(a); }, [&] { return compare.Run(); }},
      {"validate", "check scenario files without running them",
       [&](CLI::App& a) { validate.Setup(a); }, [&] { return validate.Run(); }},
      {"list", "list the scenarios in a directory", [&](CLI::App& a) { list.Setup(a); },
       [&] { return list.Run(); }},
      {"with-db", "run a command against a throwaway run database",
       [&](CLI::App& a) { with_db.Setup(a); }, [&] { return with_db.Run(); }},
      {"cleanup", "drop what killed gracecheck processes left (run databases, clusters)",
       [&](CLI::App& a) { cleanup.Setup(a); }, [&] { return cleanup.Run(); }},
      {"version", "print the version", [&](CLI::App& a) { version.Setup(a); },
       [&] { return version.Run(); }},
      {"completion",
       "print a shell completion script (bash, zsh, fish), e.g. source <(gracecheck completion "
       "bash)",
       [&](CLI::App& a) { completion.Setup(a); }, [&] { return completion.Run(); }},
      {"manpage", "print the man page, gracecheck(1), as roff",
       [&](CLI::App& a) { manpage.Setup(a); }, [&] { return manpage.Run(); }},
  };
  std::vector<std::pair<CLI::App*, const Subcommand*>> apps;
  for (const Subcommand& s : subcommands)
    apps.emplace_back(app.add_subcommand(s.name, s.description), &s);
  for (auto& [sub, s] : apps) s->setup(*sub);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    Error(fmt::format("{} (see gracecheck --help)", e.what()));
    return kExitUsage;
  }
  try {
    for (auto& [sub, s] : apps) {
      if (sub->parsed()) return s->run();
    }
  } catch (const interrupt::Interrupted&) {
    fmt::print(stderr, "gracecheck: interrupted by {}\n", SignalName(interrupt::Signal()));
    return kExitInterrupted;
  } catch (const UsageError& e) {
    Error(e.what());
    return kExitUsage;
  } catch (const PostgresError& e) {
    Error(e.what());
    return interrupt::Requested() ? kExitInterrupted : kExitInfrastructure;
  } catch (const TargetError& e) {
    Error(e.what());
    return interrupt::Requested() ? kExitInterrupted : kExitInfrastructure;
  } catch (const std::exception& e) {
    // Anything else that keeps the harness from doing its job (a temp dir it
    // cannot write, a library error) is an infrastructure failure too.
    Error(e.what());
    return interrupt::Requested() ? kExitInterrupted : kExitInfrastructure;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace gracecheck

int main(int argc, char** argv) {
  // First, while gracecheck is one thread: the process that cleans up if
  // gracecheck is SIGKILLed (see watchdog.h).
  gracecheck::watchdog::Start();
  gracecheck::fd_limit_at_start = gracecheck::RaiseFdLimit();
  const int code = gracecheck::Main(argc, argv);
  gracecheck::watchdog::Goodbye();
  return code;
}
