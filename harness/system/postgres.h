// Where gracecheck gets its databases.
//
// EmbeddedPostgres: a throwaway cluster from the system's PostgreSQL binaries,
// in a private temp dir (0700), on a unix socket and a free loopback port,
// tuned for tests (fsync off), logging every connection and disconnection as
// JSON lines. When gracecheck runs as root the cluster runs as an
// unprivileged user (initdb refuses root). It is stopped (fast shutdown) and
// removed when the object is destroyed, and a lock in its dir lets a later
// start remove a cluster whose gracecheck was SIGKILLed.
//
// ExternalPostgres: a server the user runs (--pg-url); needs a role allowed
// to create databases and roles.
//
// RunDatabase: one database and one login role per run, so that every
// pg_stat_activity row of the target is attributed to its run by
// datname/usename and runs can go in parallel. The role owns its database and
// has nothing else (no superuser, no createdb, no createrole).
//
// Threading: a PostgresServer may be shared between threads for reading its
// properties; Create/Drop of RunDatabases serialize on the admin connection.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "duration.h"

namespace gracecheck {

class Subprocess;

// Anything that keeps the harness from getting a database (exit code 3).
class PostgresError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PostgresServer {
 public:
  virtual ~PostgresServer() = default;

  // libpq connection string for the harness's own connections (creating run
  // databases, monitoring pg_stat_activity). It may hold a password: never
  // print it; use Describe().
  virtual std::string AdminConnString() const = 0;
  // Host and port for the targets' TCP connections.
  virtual std::string host() const = 0;
  virtual int port() const = 0;
  // Query string appended to run URLs (e.g. "sslmode=disable").
  virtual std::string url_options() const = 0;
  // Extra clause for CREATE DATABASE (the embedded cluster copies files: no
  // WAL to write, and fsync is off).
  virtual std::string create_database_clause() const { return ""; }
  // For people and logs: "embedded PostgreSQL 15.18 on 127.0.0.1:41237", no secrets.
  virtual std::string Describe() const = 0;
  // How long it took to start, for people ("ready in 95ms (template copy
  // 12ms, start 83ms)"); "" for a server gracecheck did not start.
  virtual std::string StartDetails() const { return ""; }

  // What only a server gracecheck runs itself can do (the embedded
  // cluster); the defaults are an external server's.
  //
  // The server's JSON-lines log, which has a line for every session's end
  // (log_disconnections), when gracecheck can read it.
  virtual std::optional<std::filesystem::path> session_log() const { return std::nullopt; }
  // Whether Restart works (a db: restart fault).
  virtual bool can_restart() const { return false; }
  // Fast shutdown and start again on the same port and data. Call it from
  // the thread that started the server: the new postmaster's parent-death
  // signal follows that thread.
  virtual void Restart() {
    throw PostgresError("gracecheck does not restart a server it did not start");
  }
  // Copies the server's log to `path` when it stops (--out DIR).
  virtual void KeepLogAs(const std::filesystem::path& path) { (void)path; }
  // Why the target's own sessions cannot be told from pg_stat_activity
  // (a pooler between gracecheck and the server), or "" when they can.
  virtual std::string sessions_unmeasurable() const { return ""; }
};

// Who the servers gracecheck starts run as: nobody in particular (the
// harness's own user), or, when the harness is root, an unprivileged user
// (`requested`, else $GRACECHECK_PG_USER, else "postgres"): initdb,
// postgres and pgbouncer refuse root. Throws PostgresError.
struct Credentials {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};
Credentials ServerCredentials(const std::string& requested);
// chown -R, when `creds` name a user. Throws PostgresError.
void ChownTree(const std::filesystem::path& root, const Credentials& creds);
// The last `max_lines` lines of a file, each indented "  | ", for errors.
std::string Tail(const std::filesystem::path& path, std::size_t max_lines = 15);

class EmbeddedPostgres : public PostgresServer {
 public:
  struct Options {
    std::string bin_dir;              // empty: pg_config --bindir, else /usr/lib/postgresql/*/bin
    std::filesystem::path temp_root;  // empty: $GRACECHECK_TMPDIR, /dev/shm, $TMPDIR or /tmp
    std::string run_as_user;  // used when running as root; empty: $GRACECHECK_PG_USER or "postgres"
    bool use_template_cache = true;   // copy an initdb'd template instead of running initdb
    std::filesystem::path cache_dir;  // empty: $XDG_CACHE_HOME/gracecheck or ~/.cache/gracecheck
    Duration start_timeout = std::chrono::seconds(30);
  };

  // Times of the phases of Start, for reports and benchmarks.
  struct StartTimings {
    Duration prepare{};  // initdb, or copying the cached template
    Duration start{};    // postmaster spawned until it accepts a connection
    bool from_template = false;
  };

  // Removes clusters left by gracecheck processes that no longer exist, then
  // starts a new one. Throws PostgresError with the server log's tail.
  static std::unique_ptr<EmbeddedPostgres> Start(const Options& options);
  static std::unique_ptr<EmbeddedPostgres> Start() { return Start(Options{}); }
  ~EmbeddedPostgres() override;

  // Fast shutdown (SIGINT), SIGKILL if that takes over 10 s, then removes the
  // temp dir. Idempotent. Copies the server log to `keep_log_as` first, if set.
  void Stop();
  void Restart() override;
  bool can_restart() const override { return true; }
  void KeepLogAs(const std::filesystem::path& path) override { keep_log_as_ = path; }
  std::optional<std::filesystem::path> session_log() const override { return log_path(); }
  std::string StartDetails() const override;

  std::string AdminConnString() const override;
  std::string host() const override { return "127.0.0.1"; }
  int port() const override { return port_; }
  std::string url_options() const override { return "sslmode=disable"; }
  std::string create_database_clause() const override;
  std::string Describe() const override;

  pid_t postmaster_pid() const;
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::filesystem::path socket_dir() const { return dir_ / "sock"; }
  // The JSON-lines server log (one object per line, see PostgreSQL's jsonlog).
  std::filesystem::path log_path() const { return dir_ / "log" / "postgresql.json"; }
  const StartTimings& timings() const { return timings_; }
  const std::string& version() const { return version_; }

  // Where clusters go when Options::temp_root is empty.
  static std::filesystem::path DefaultTempRoot();

  // Removes gracecheck clusters under `temp_root` whose owner is gone.
  // Returns how many were removed.
  static int RemoveStaleClusters(const std::filesystem::path& temp_root);

 private:
  EmbeddedPostgres() = default;
  // Starts the postmaster on port_ and waits until it accepts connections.
  // false: it could not bind and `may_retry` (pick another port and call again).
  bool SpawnPostmaster(bool may_retry);
  void StopPostmaster();

  std::string bin_dir_;
  std::optional<uid_t> uid_;
  std::optional<gid_t> gid_;
  Duration start_timeout_{};

  std::filesystem::path dir_;
  int port_ = 0;
  int lock_fd_ = -1;
  std::string superuser_ = "gracecheck";
  std::string version_;
  std::unique_ptr<Subprocess> postmaster_;
  StartTimings timings_;
  std::filesystem::path keep_log_as_;
};

class ExternalPostgres : public PostgresServer {
 public:
  // Connects once to check the URL answers and that its role may create
  // databases and roles; throws PostgresError saying what is missing.
  static std::unique_ptr<ExternalPostgres> Connect(const std::string& url);

  std::string AdminConnString() const override { return url_; }
  std::string host() const override { return host_; }
  int port() const override { return port_; }
  std::string url_options() const override { return url_options_; }
  std::string Describe() const override;
  std::string sessions_unmeasurable() const override { return pooler_; }

 private:
  std::string url_;
  std::string host_;
  int port_ = 5432;
  std::string url_options_;
  std::string version_;
  std::string pooler_;  // sessions_unmeasurable()
};

// The database of one run. Created with a fresh random password; dropped (with
// FORCE, so lingering sessions are terminated) when destroyed.
//
// Ownership: while it exists, its RunDatabase holds a session on the admin
// connection with an advisory lock keyed by its name, taken before the role
// and the database are created, and both carry a comment naming gracecheck
// and the admin database. A gracecheck that was SIGKILLed leaves them
// behind with no lock: SweepRunDatabases drops exactly those (the next
// `gracecheck run --pg-url`, or `gracecheck cleanup`), never a live run's.
class RunDatabase {
 public:
  // `label` becomes part of the names ("gc_<label>_<random>"), sanitized.
  static std::unique_ptr<RunDatabase> Create(PostgresServer& server, const std::string& label);
  ~RunDatabase();

  RunDatabase(const RunDatabase&) = delete;
  RunDatabase& operator=(const RunDatabase&) = delete;

  // Database and role have the same name.
  const std::string& name() const { return name_; }
  // postgresql://ROLE:PASSWORD@HOST:PORT/DB?OPTIONS: for the target only.
  std::string url() const;
  // The same with the password replaced by "***", for logs and reports.
  std::string redacted_url() const;
  const std::string& password() const { return password_; }
  // The role's SCRAM-SHA-256 verifier, as the server stores it (a pooler's
  // auth_file: it authenticates the target, then the server, without the
  // password in a file).
  const std::string& scram_verifier() const { return scram_verifier_; }
  Duration create_time() const { return create_time_; }

  // Drops database and role; idempotent. Throws PostgresError on failure.
  void Drop();

 private:
  RunDatabase() = default;

  PostgresServer* server_ = nullptr;
  std::string name_;
  std::string password_;
  std::string scram_verifier_;
  Duration create_time_{};
  bool dropped_ = false;
  struct Owner;  // the session that holds the advisory lock
  std::unique_ptr<Owner> owner_;
};

// Drops the run databases and roles gracecheck left on `server` whose owner
// is gone (no session holds their advisory lock), and returns their names.
// Only those whose comment names the admin connection's database are
// judged: the lock lives in that database. Throws PostgresError.
std::vector<std::string> SweepRunDatabases(PostgresServer& server);

// Picks the server: an external one if `pg_url` (or $GRACECHECK_PG_URL) is
// set, else an embedded cluster.
std::unique_ptr<PostgresServer> OpenPostgres(const std::optional<std::string>& pg_url);

}  // namespace gracecheck
