// A private PgBouncer for one run (a scenario's `target.pooler`): started in
// front of the run's database, the target given its address instead of the
// server's, stopped and removed with the run.
//
// It runs from a directory of its own (config, auth file, HBA file, log,
// Unix socket), as the embedded cluster's user when gracecheck is root
// (PgBouncer refuses root). The target authenticates with the run role's
// password over loopback TCP (SCRAM); PgBouncer then logs in to the server
// with the same SCRAM keys, so the auth file holds the role's verifier, never
// the password. gracecheck reads the admin console (`SHOW CLIENTS`) over
// the private socket as the only admin user, trusted there alone.
//
// Gone when gracecheck is killed: a parent-death SIGKILL, the watchdog (its
// group and directory), and the stale-cluster sweep of the next embedded
// start (the directory carries the clusters' prefix and owner lock).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duration.h"
#include "subprocess.h"

namespace gracecheck {

// The pgbouncer binary: $GRACECHECK_PGBOUNCER, else on PATH, else in
// /usr/sbin (Debian's place, which a user's PATH may lack); nullopt when
// none is, and PgBouncerMissing() says so in one line.
std::optional<std::string> FindPgBouncer();
std::string PgBouncerMissing();

class PgBouncer {
 public:
  struct Options {
    std::string mode = "session";  // pool_mode: session or transaction
    int pool_size = 50;            // default_pool_size: server connections per database and user
    std::string server_host;       // where the run's database is
    int server_port = 0;
    std::string database;             // the run's database; its role has the same name
    std::string scram_verifier;       // the role's, as the server stores it
    std::filesystem::path temp_root;  // empty: the embedded cluster's default
    std::string run_as_user;          // when root; empty: as the embedded cluster
    Duration start_timeout = std::chrono::seconds(10);
  };

  // Throws PostgresError with the reason and PgBouncer's own words (a
  // missing binary, a config it rejects, a port it cannot bind).
  static std::unique_ptr<PgBouncer> Start(const Options& options);
  ~PgBouncer();  // Stop

  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  int port() const { return port_; }
  // "PgBouncer 1.18.0, session mode, on 127.0.0.1:41237"
  std::string Describe() const;
  // libpq conninfo for the admin console (database "pgbouncer").
  std::string AdminConnString() const;
  const std::filesystem::path& log_path() const { return log_; }
  pid_t pid() const { return process_ ? process_->pid() : 0; }

  // Immediate shutdown (SIGTERM: every client and server connection is
  // closed at once), then the directory removed. `keep_log_as`: copies the
  // log there first. Idempotent.
  void Stop(const std::filesystem::path& keep_log_as = {});

 private:
  PgBouncer() = default;

  std::filesystem::path dir_;
  std::filesystem::path log_;
  int lock_fd_ = -1;
  int port_ = 0;
  std::string mode_;
  std::string version_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace gracecheck
