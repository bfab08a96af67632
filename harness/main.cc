// The gracecheck command line: a table of subcommands (ninja's kTools), each a
// thin layer over the library.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "checks.h"
#include "console.h"
#include "exit_codes.h"
#include "interrupt.h"
#include "json.h"
#include "postgres.h"
#include "requests_out.h"
#include "run.h"
#include "scenario.h"
#include "subprocess.h"
#include "target_process.h"

namespace gracecheck {
namespace {

using namespace std::chrono_literals;

void Error(const std::string& message) { fmt::print(stderr, "gracecheck: error: {}\n", message); }

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
    if (auto* embedded = dynamic_cast<EmbeddedPostgres*>(server.get())) {
      fmt::print(stderr, "gracecheck: {} ready in {} ({} {}, start {})\n", server->Describe(),
                 FormatDuration(embedded->timings().prepare + embedded->timings().start),
                 embedded->timings().from_template ? "template copy" : "initdb",
                 FormatDuration(embedded->timings().prepare),
                 FormatDuration(embedded->timings().start));
    }
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
  for (const char* name : {"refapi"}) {
    const fs::path candidate = self.parent_path() / name;
    if (::access(candidate.c_str(), X_OK) == 0) out[name] = candidate.string();
  }
  return out;
}

bool UseColor() {
  const char* no_color = std::getenv("NO_COLOR");
  return (no_color == nullptr || *no_color == '\0') && ::isatty(STDOUT_FILENO);
}

void PrintErrors(const std::vector<ScenarioError>& errors) {
  for (const ScenarioError& e : errors) fmt::print(stderr, "{}\n", e.ToString());
}

// gracecheck validate SCENARIO...
struct Validate {
  std::vector<std::string> files;
  void Setup(CLI::App& app) {
    app.add_option("scenarios", files, "scenario files")->required();
  }
  int Run() {
    std::vector<ScenarioError> errors = ValidateScenarioFiles(files);
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

// gracecheck run SCENARIO... [--target NAME=CMD]... [--repeat N] [--seed S] ...
struct RunCommand {
  std::vector<std::string> files;
  std::vector<std::string> targets;
  std::vector<std::string> bins;
  int repeat = 1;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> pg_url;
  std::string out_dir;
  std::string json_path;
  std::string requests_out;

  void Setup(CLI::App& app) {
    app.add_option("scenarios", files, "scenario files")->required();
    app.add_option("--target", targets, "NAME=CMD: run this command instead of the scenario's");
    app.add_option("--bin", bins, "NAME=PATH: a binary scenarios may name as {NAME}");
    app.add_option("--repeat", repeat, "run each scenario N times")->check(CLI::Range(1, 10000));
    app.add_option("--seed", seed, "random seed (printed in every report, to replay a run)");
    app.add_option("--pg-url", pg_url, "external PostgreSQL (default: embedded cluster)")
        ->envname("GRACECHECK_PG_URL");
    app.add_option("--out", out_dir, "directory for target logs and reports (default: none kept)");
    app.add_option("--json", json_path, "write the JSON report here");
    app.add_option("--requests-out", requests_out, "write every request record here (JSON lines)");
  }

  int Run() {
    std::map<std::string, std::string> binaries = BuiltBinaries();
    for (const std::string& b : bins) {
      const std::size_t eq = b.find('=');
      if (eq == std::string::npos || eq == 0) {
        Error(fmt::format("--bin '{}': expected NAME=PATH", b));
        return kExitUsage;
      }
      binaries[b.substr(0, eq)] = b.substr(eq + 1);
    }
    ParseOptions options;
    options.binaries.clear();
    for (const auto& [name, path] : binaries) options.binaries.push_back(name);
    if (options.binaries.empty()) options.binaries = {"refapi"};

    // Everything is validated before anything starts.
    std::vector<Scenario> scenarios;
    std::vector<ScenarioError> errors;
    for (const std::string& f : files) {
      ParseResult r = ParseScenarioFile(f, options);
      errors.insert(errors.end(), r.errors.begin(), r.errors.end());
      if (r.ok()) scenarios.push_back(std::move(*r.scenario));
    }
    std::vector<TargetOverride> overrides;
    for (const std::string& t : targets) {
      std::string why;
      std::optional<TargetOverride> o = ParseTargetOverride(t, options, &why);
      if (!o) {
        Error(fmt::format("--target {}: {}", t, why));
        return kExitUsage;
      }
      overrides.push_back(std::move(*o));
    }
    if (!errors.empty()) {
      PrintErrors(errors);
      return kExitUsage;
    }

    const std::uint64_t base_seed = seed ? *seed : std::random_device{}();
    TempOrKeptDir out(out_dir);
    std::unique_ptr<PostgresServer> server = OpenPostgres(pg_url);
    fmt::print(stderr, "gracecheck: {}\n", server->Describe());
    if (auto* embedded = dynamic_cast<EmbeddedPostgres*>(server.get()); embedded && !out_dir.empty()) {
      // The cluster's JSON-lines log (every connection and disconnection).
      embedded->set_keep_log_as(out.path() / "postgresql.json");
    }

    std::vector<std::unique_ptr<Timeline>> timelines;
    std::vector<RunReport> reports;
    bool all_passed = true;
    const bool color = UseColor();
    const bool tty = ::isatty(STDERR_FILENO);
    int index = 0;
    for (const Scenario& original : scenarios) {
      const std::size_t n_targets = overrides.empty() ? 1 : overrides.size();
      for (std::size_t t = 0; t < n_targets; ++t) {
        Scenario scenario = original;
        std::string target_name = "target";
        if (!overrides.empty()) {
          ApplyTargetOverride(overrides[t], &scenario);
          target_name = overrides[t].name;
        }
        for (int r = 0; r < repeat; ++r, ++index) {
          interrupt::ThrowIfRequested();
          RunConfig config;
          config.scenario = &scenario;
          config.target_name = target_name;
          config.server = server.get();
          config.binaries = binaries;
          config.seed = base_seed + static_cast<std::uint64_t>(index);
          const fs::path dir = out.path() / fmt::format("{}-{}-{}", scenario.name, target_name, r + 1);
          fs::create_directories(dir);
          config.out_dir = dir;
          config.progress = [&](const std::string& line) {
            if (tty) fmt::print(stderr, "\r\033[K");
            fmt::print(stderr, "  {}\n", line);
          };
          if (tty) {
            config.status = [](const std::string& line) { fmt::print(stderr, "\r\033[K  {}", line); };
          }
          fmt::print(stderr, "gracecheck: running {} against {} (seed {}){}\n", scenario.name,
                     target_name, config.seed,
                     repeat > 1 ? fmt::format(", run {} of {}", r + 1, repeat) : "");
          auto timeline = std::make_unique<Timeline>(RunScenario(config));
          if (tty) fmt::print(stderr, "\r\033[K");
          std::vector<CheckResult> checks = RunChecks(*timeline, scenario.expect);
          for (const CheckResult& c : checks) all_passed = all_passed && c.passed;
          PrintConsoleReport(stdout, *timeline, checks, color);
          if (!AllPassed(checks)) {
            fmt::print("  {}'s output (last lines; all of it in {}):\n{}", target_name,
                       out_dir.empty() ? "--out DIR" : dir.string(), timeline->target_log_tail);
          }
          std::fflush(stdout);
          if (!requests_out.empty()) {
            WriteRequestRecords(index == 0 ? requests_out
                                           : fmt::format("{}.{}", requests_out, index + 1),
                                *timeline);
          }
          reports.push_back({timeline.get(), std::move(checks)});
          timelines.push_back(std::move(timeline));
        }
      }
    }
    if (!json_path.empty()) WriteJsonReport(json_path, reports);
    return all_passed ? kExitPassed : kExitCheckFailed;
  }

  // --out DIR is kept; without it, a private temp dir removed at the end.
  class TempOrKeptDir {
   public:
    explicit TempOrKeptDir(const std::string& kept) {
      if (!kept.empty()) {
        path_ = kept;
        std::error_code ec;
        fs::create_directories(path_, ec);
        if (ec || ::access(path_.c_str(), W_OK) != 0) {
          throw UsageError(fmt::format("--out {}: cannot write there ({})", kept,
                                       ec ? ec.message() : "permission denied"));
        }
        return;
      }
      std::string pattern = (fs::temp_directory_path() / "gracecheck-out-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temp dir");
      path_ = pattern;
      remove_ = true;
    }
    ~TempOrKeptDir() {
      std::error_code ec;
      if (remove_) fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

   private:
    fs::path path_;
    bool remove_ = false;
  };
};

struct Version {
  void Setup(CLI::App&) {}
  int Run() {
    fmt::print("gracecheck {}\n", GRACECHECK_VERSION);
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
  CLI::App app{"gracecheck: proves that HTTP API servers backed by PostgreSQL shut down gracefully"};
  app.require_subcommand(1);
  RunCommand run;
  Validate validate;
  List list;
  WithDb with_db;
  Version version;
  const std::vector<Subcommand> subcommands = {
      {"run", "run scenarios against their targets and judge the shutdown",
       [&](CLI::App& a) { run.Setup(a); }, [&] { return run.Run(); }},
      {"validate", "check scenario files without running them",
       [&](CLI::App& a) { validate.Setup(a); }, [&] { return validate.Run(); }},
      {"list", "list the scenarios in a directory", [&](CLI::App& a) { list.Setup(a); },
       [&] { return list.Run(); }},
      {"with-db", "run a command against a throwaway run database",
       [&](CLI::App& a) { with_db.Setup(a); }, [&] { return with_db.Run(); }},
      {"version", "print the version", [&](CLI::App& a) { version.Setup(a); },
       [&] { return version.Run(); }},
  };
  std::vector<std::pair<CLI::App*, const Subcommand*>> apps;
  for (const Subcommand& s : subcommands) apps.emplace_back(app.add_subcommand(s.name, s.description), &s);
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

int main(int argc, char** argv) { return gracecheck::Main(argc, argv); }
