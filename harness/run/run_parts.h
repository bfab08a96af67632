// What a run drives, behind one interface (LevelDB's Env, ninja's
// CommandRunner): the run's database, the target, the load and the three
// probes. RunScenario's phases (run.cc) reach the outside world only through
// it. PostgresParts makes the real ones, on a PostgresServer; a unit test
// puts fakes in their place (run_seams_test.cc) and drives a run through a
// hang, a late exit or sessions that linger, with no process and no
// PostgreSQL.
//
// One RunParts serves one run: it holds that run's database from
// CreateDatabase until DropDatabase (or its destruction, which drops it).
//
// Threading: called from the run's thread, except AdminConnString (any).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "cpu_wait.h"
#include "load.h"
#include "postgres.h"
#include "probes.h"
#include "target_process.h"

namespace gracecheck {

class RunParts {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~RunParts() = default;

  // The run's database and role (throws PostgresError). `url` holds the
  // role's password: it is for the target only.
  struct Database {
    std::string name;
    std::string url;
    // Why pg_stat_activity cannot tell the target's sessions (a pooler in
    // the way: PostgresServer::sessions_unmeasurable), or "".
    std::string sessions_unmeasurable;
  };
  virtual Database CreateDatabase(const std::string& label) = 0;
  // Drops it (throws PostgresError); idempotent.
  virtual void DropDatabase() = 0;
  // The first column of `sql`'s rows on the run's database (expect.writes'
  // verify_sql); throws what the query throws.
  virtual std::unordered_set<std::string> QueryKeys(const std::string& sql) = 0;
  // The server as its admin, for the database faults (faults/db.cc).
  virtual std::string AdminConnString() const = 0;
  // Whether RestartDatabase works (a db: restart fault); on the run's thread.
  virtual bool CanRestartDatabase() const = 0;
  virtual void RestartDatabase() = 0;
  // The server's account of how the run database's sessions ended, when it
  // has one (the embedded cluster's log): what came after the start of the
  // run. `tl` tells which sessions to wait for.
  virtual std::optional<std::vector<DbSessionEnd>> SessionEnds(const Timeline& tl) = 0;

  // The scenario's pooler (target.pooler) in front of the run's database,
  // started (throws PostgresError); returns the URL the target is given
  // instead of the server's (it holds the password). The defaults are a
  // world without one.
  virtual std::string StartPooler(const std::string& mode, int pool_size) {
    (void)mode;
    (void)pool_size;
    throw PostgresError("target.pooler: no pooler in these parts");
  }
  // "PgBouncer 1.18.0, session mode, on 127.0.0.1:4123"; "" without one.
  virtual std::string PoolerDescription() const { return ""; }
  // The target's connections to the pooler, as its admin console shows them.
  virtual std::unique_ptr<DbWatch> WatchPoolerClients(Clock::time_point epoch) {
    (void)epoch;
    return nullptr;
  }
  // How they ended, from the pooler's log (`pid`: the client's port).
  virtual std::vector<DbSessionEnd> PoolerClientEnds(const Timeline& tl) {
    (void)tl;
    return {};
  }
  // Stops it (its log copied to `keep_log_as` if set); idempotent.
  virtual void StopPooler(const std::filesystem::path& keep_log_as) { (void)keep_log_as; }

  // Spawns the target (throws TargetError).
  virtual std::unique_ptr<Target> StartTarget(const TargetOptions& options,
                                              Clock::time_point epoch) = 0;
  virtual std::unique_ptr<Load> MakeLoad(const LoadOptions& options, Clock::time_point epoch) = 0;
  // The probes, not yet started: of the target `pid` and its tree, of the
  // run database's sessions, and of the target's waits for a CPU (over
  // `pid` and `descendants()`).
  virtual std::unique_ptr<ProcWatch> WatchProcesses(int pid, Clock::time_point epoch) = 0;
  virtual std::unique_ptr<DbWatch> WatchSessions(Clock::time_point epoch) = 0;
  virtual std::unique_ptr<CpuWatch> WatchCpuWaits(int pid, Clock::time_point epoch,
                                                  std::function<std::set<int>()> descendants) = 0;
  // Which of `pids` hold the socket listening on `port` (procfs.h).
  virtual std::vector<int> ListenersOn(int port, const std::set<int>& pids) = 0;
};

// The real parts: the run's database on `server`, the target as a child
// process (TargetProcess), the load generator, /proc and pg_stat_activity.
std::unique_ptr<RunParts> PostgresParts(PostgresServer& server);

}  // namespace gracecheck
