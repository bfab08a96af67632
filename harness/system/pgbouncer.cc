#include "pgbouncer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "ports.h"
#include "postgres.h"
#include "watchdog.h"

namespace gracecheck {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The embedded clusters' prefix and owner lock (postgres.cc): a directory
// whose gracecheck was killed is swept with them.
constexpr char kDirPrefix[] = "gracecheck-pg-pgbouncer-";
constexpr char kLockName[] = "owner.lock";
constexpr char kAdminUser[] = "gracecheck";

void Write(const fs::path& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw PostgresError(fmt::format("pgbouncer: cannot write {}", path.string()));
  }
  ::chmod(path.c_str(), mode);
}

// PgBouncer's config syntax quotes with double quotes, doubled inside.
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::optional<std::string> FindPgBouncer() {
  if (const char* given = std::getenv("GRACECHECK_PGBOUNCER"); given && *given) {
    if (::access(given, X_OK) == 0) return std::string(given);
    return std::nullopt;
  }
  if (std::optional<std::string> p = FindProgram("pgbouncer");
      p && ::access(p->c_str(), X_OK) == 0) {
    return p;
  }
  // Debian puts it in /usr/sbin, which a user's PATH may lack.
  for (const char* p : {"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer"}) {
    if (::access(p, X_OK) == 0) return std::string(p);
  }
  return std::nullopt;
}

std::string PgBouncerMissing() {
  if (const char* given = std::getenv("GRACECHECK_PGBOUNCER"); given && *given) {
    return fmt::format("pgbouncer not found: GRACECHECK_PGBOUNCER={} is not an executable file",
                       given);
  }
  return "pgbouncer not found (GRACECHECK_PGBOUNCER, PATH, /usr/sbin); install it (Debian: "
         "apt-get install pgbouncer)";
}

std::unique_ptr<PgBouncer> PgBouncer::Start(const Options& options) {
  if (options.mode != "session" && options.mode != "transaction") {
    throw PostgresError(fmt::format("pgbouncer: unknown pool mode '{}'", options.mode));
  }
  const std::optional<std::string> bin = FindPgBouncer();
  if (!bin) throw PostgresError("target.pooler: " + PgBouncerMissing());
  const Credentials creds = ServerCredentials(options.run_as_user);
  const fs::path root =
      options.temp_root.empty() ? EmbeddedPostgres::DefaultTempRoot() : options.temp_root;
  std::string pattern = (root / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw PostgresError(fmt::format("pgbouncer: cannot create a temp dir in {}: {}", root.string(),
                                    std::strerror(errno)));
  }
  std::unique_ptr<PgBouncer> pb(new PgBouncer());
  pb->dir_ = pattern;
  pb->log_ = pb->dir_ / "pgbouncer.log";
  pb->mode_ = options.mode;
  watchdog::WatchDir(pb->dir_.string(), 0);
  // From here on the destructor removes the directory, whatever fails.
  pb->lock_fd_ = ::open((pb->dir_ / kLockName).c_str(),
                        O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (pb->lock_fd_ < 0 || ::flock(pb->lock_fd_, LOCK_EX) != 0) {
    throw PostgresError(
        fmt::format("pgbouncer: cannot lock {}: {}", pb->dir_.string(), std::strerror(errno)));
  }

  Write(pb->dir_ / "users.txt",
        fmt::format("{} {}\n{} \"\"\n", Quoted(options.database), Quoted(options.scram_verifier),
                    Quoted(kAdminUser)),
        0600);
  // The admin console over the private socket only; the run role over
  // loopback TCP with SCRAM. Nobody else.
  Write(pb->dir_ / "hba.txt",
        fmt::format("local pgbouncer {} trust\nhost {} {} 127.0.0.1/32 scram-sha-256\n", kAdminUser,
                    options.database, options.database),
        0600);
  ChownTree(pb->dir_, creds);
  ::chmod(pb->dir_.c_str(), 0700);

  const std::string version = [&] {
    try {
      std::string out = RunCommand({.argv = {*bin, "--version"}}, 5s).output;
      return out.substr(0, out.find('\n'));
    } catch (const SpawnError&) {
      return std::string("PgBouncer");
    }
  }();
  pb->version_ = version.substr(0, version.find(','));

  for (int attempt = 0;; ++attempt) {
    try {
      pb->port_ = PickFreePort();
    } catch (const std::runtime_error& e) {
      throw PostgresError(e.what());
    }
    const std::string ini = fmt::format(
        "; written by gracecheck for one run\n"
        "[databases]\n"
        "{db} = host={host} port={port} dbname={db}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        "listen_port = {listen}\n"
        "unix_socket_dir = {dir}\n"
        "unix_socket_mode = 0700\n"
        "auth_type = hba\n"
        "auth_hba_file = {dir}/hba.txt\n"
        "auth_file = {dir}/users.txt\n"
        "admin_users = {admin}\n"
        "pool_mode = {mode}\n"
        "default_pool_size = {pool}\n"
        "max_client_conn = 1000\n"
        "logfile = {dir}/pgbouncer.log\n"
        "log_connections = 1\n"
        "log_disconnections = 1\n"
        "log_pooler_errors = 1\n"
        "stats_period = 60\n"
        // Drivers that set these at startup (lib/pq, JDBC) would be refused.
        "ignore_startup_parameters = extra_float_digits\n",
        fmt::arg("db", options.database), fmt::arg("host", options.server_host),
        fmt::arg("port", options.server_port), fmt::arg("listen", pb->port_),
        fmt::arg("dir", pb->dir_.string()), fmt::arg("admin", kAdminUser),
        fmt::arg("mode", options.mode), fmt::arg("pool", options.pool_size));
    Write(pb->dir_ / "pgbouncer.ini", ini, 0600);
    ChownTree(pb->dir_ / "pgbouncer.ini", creds);
    const fs::path out = pb->dir_ / "pgbouncer.stdout";
    try {
      pb->process_ = Subprocess::Start({.argv = {*bin, (pb->dir_ / "pgbouncer.ini").string()},
                                        .working_dir = pb->dir_.string(),
                                        .stdout_path = out.string(),
                                        .stderr_path = "=stdout",
                                        .uid = creds.uid,
                                        .gid = creds.gid});
    } catch (const SpawnError& e) {
      throw PostgresError(fmt::format("target.pooler: cannot start pgbouncer: {}", e.what()));
    }
    watchdog::WatchGroup(pb->process_->pgid());
    const std::string admin = pb->AdminConnString();
    const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(admin.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      if (pb->process_->WaitFor(5ms)) break;
    }
    if (ready) break;
    const std::string log = Tail(out) + Tail(pb->log_);
    const std::optional<ExitStatus> exited = pb->process_->Poll();
    watchdog::ForgetGroup(pb->process_->pgid());
    pb->process_.reset();
    if (exited && log.find("Address already in use") != std::string::npos && attempt < 4) continue;
    throw PostgresError(fmt::format(
        "target.pooler: pgbouncer did not accept connections within {} "
        "({}); its log:\n{}",
        FormatDuration(options.start_timeout), exited ? exited->ToString() : "still running", log));
  }
  return pb;
}

std::string PgBouncer::Describe() const {
  return fmt::format("{}, {} mode, on 127.0.0.1:{}", version_, mode_, port_);
}

std::string PgBouncer::AdminConnString() const {
  return fmt::format("host={} port={} user={} dbname=pgbouncer", dir_.string(), port_, kAdminUser);
}

void PgBouncer::Stop(const fs::path& keep_log_as) {
  if (process_) {
    process_->Signal(SIGTERM);  // immediate shutdown
    if (!process_->WaitFor(5s)) process_->Kill();
    watchdog::ForgetGroup(process_->pgid());
    process_.reset();
  }
  if (dir_.empty()) return;
  std::error_code ec;
  if (!keep_log_as.empty())
    fs::copy_file(log_, keep_log_as, fs::copy_options::overwrite_existing, ec);
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  fs::remove_all(dir_, ec);
  watchdog::ForgetDir(dir_.string());
  dir_.clear();
}

PgBouncer::~PgBouncer() {
  try {
    Stop();
  } catch (...) {
  }
}

}  // namespace gracecheck
