// The gracecheck command line: a table of subcommands (ninja's kTools), each a
// thin layer over the library.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "exit_codes.h"
#include "interrupt.h"
#include "postgres.h"
#include "subprocess.h"

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
  CLI::App app{"gracecheck: proves that HTTP API servers backed by PostgreSQL shut down gracefully"};
  app.require_subcommand(1);
  WithDb with_db;
  Version version;
  const std::vector<Subcommand> subcommands = {
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
  } catch (const PostgresError& e) {
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
