#include "postgres.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "ports.h"
#include "procfs.h"
#include "subprocess.h"
#include "watchdog.h"

namespace gracecheck {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr char kDirPrefix[] = "gracecheck-pg-";
constexpr char kLockName[] = "owner.lock";

// Settings for a throwaway test cluster. Logging: every connection and
// disconnection, and debug1 so that a client vanishing without a Terminate
// message ("unexpected EOF on client connection") is in the log too.
const std::vector<std::string> kServerSettings = {
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "autovacuum=off",
    "max_connections=300",
    "unix_socket_permissions=0700",
    "logging_collector=on",
    "log_destination=jsonlog",
    "log_filename=postgresql.log",
    "log_file_mode=0640",
    "log_rotation_age=0",
    "log_rotation_size=0",
    "log_connections=on",
    "log_disconnections=on",
    "log_min_messages=debug1",
    "log_checkpoints=off",
};

std::string RandomHex(std::size_t bytes) {
  std::random_device rd;
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) out += fmt::format("{:02x}", rd() & 0xff);
  return out;
}

std::string FindBinDir(const std::string& given) {
  auto has_server = [](const fs::path& dir) {
    return ::access((dir / "postgres").c_str(), X_OK) == 0 &&
           ::access((dir / "initdb").c_str(), X_OK) == 0;
  };
  if (!given.empty()) {
    if (!has_server(given)) {
      throw PostgresError(fmt::format("no initdb/postgres in '{}'", given));
    }
    return given;
  }
  if (std::optional<std::string> pg_config = FindProgram("pg_config");
      pg_config && ::access(pg_config->c_str(), X_OK) == 0) {
    try {
      CommandResult r = RunCommand({.argv = {*pg_config, "--bindir"}}, 10s);
      std::string dir = r.output.substr(0, r.output.find('\n'));
      if (r.status.code == 0 && has_server(dir)) return dir;
    } catch (const SpawnError&) {
    }
  }
  // Newest major version first.
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (has_server(entry.path() / "bin")) candidates.push_back(entry.path() / "bin");
  }
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) >
           std::atoi(b.parent_path().filename().c_str());
  });
  if (candidates.empty()) {
    throw PostgresError(
        "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin); "
        "install postgresql, or pass --pg-url");
  }
  return candidates.front().string();
}

fs::path DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "gracecheck";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return fs::path(home) / ".cache" / "gracecheck";
  }
  return {};
}

// Where clusters live: $GRACECHECK_TMPDIR if set; else /dev/shm when it is a
// writable tmpfs with room (file creation there is ~15x faster than on this
// kind of disk: copying a 39 MB template takes 60 ms instead of 950 ms); else
// $TMPDIR or /tmp.
}  // namespace

fs::path EmbeddedPostgres::DefaultTempRoot() {
  if (const char* dir = std::getenv("GRACECHECK_TMPDIR"); dir && *dir) return dir;
  struct statvfs vfs {};
  if (::statvfs("/dev/shm", &vfs) == 0 && ::access("/dev/shm", W_OK | X_OK) == 0 &&
      static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize) > 512e6) {
    return "/dev/shm";
  }
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? fs::path(tmp) : fs::path("/tmp");
}

namespace {

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw PostgresError(fmt::format("cannot write {}", path.string()));
}

// Only the harness's superuser, over the private socket, is trusted; run
// roles log in over loopback TCP with their password.
constexpr char kHbaConf[] =
    "# written by gracecheck\n"
    "local all gracecheck trust\n"
    "local all all scram-sha-256\n"
    "host all gracecheck 127.0.0.1/32 reject\n"
    "host all all 127.0.0.1/32 scram-sha-256\n";

void RunInitdb(const std::string& bin_dir, const fs::path& data_dir, const Credentials& creds) {
  SpawnOptions opts{
      .argv = {bin_dir + "/initdb", "-D", data_dir.string(), "-U", "gracecheck", "-A", "trust",
               "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"},
      .uid = creds.uid,
      .gid = creds.gid};
  CommandResult r;
  try {
    r = RunCommand(opts, 120s);
  } catch (const SpawnError& e) {
    throw PostgresError(fmt::format("initdb: {}", e.what()));
  }
  if (r.status.signaled || r.status.code != 0) {
    throw PostgresError(fmt::format("initdb failed ({}):\n{}", r.status.ToString(), r.output));
  }
}

// A template is keyed by the server binary it was made with.
fs::path TemplatePath(const fs::path& cache_dir, const std::string& bin_dir) {
  struct stat st {};
  ::stat((fs::path(bin_dir) / "postgres").c_str(), &st);
  return cache_dir / fmt::format("pgdata-{:x}-{}", std::hash<std::string>{}(bin_dir),
                                 static_cast<long long>(st.st_mtime));
}

// Copies the cached template into `data_dir`, making it first if needed.
// Returns false if there is no usable cache (then the caller runs initdb).
bool PrepareFromTemplate(const fs::path& cache_dir, const std::string& bin_dir,
                         const fs::path& data_dir, const fs::path& scratch,
                         const Credentials& creds) {
  if (cache_dir.empty()) return false;
  std::error_code ec;
  const fs::path tpl = TemplatePath(cache_dir, bin_dir);
  if (!fs::exists(tpl / "PG_VERSION", ec)) {
    fs::create_directories(cache_dir, ec);
    if (ec) return false;
    ::chmod(cache_dir.c_str(), 0700);
    // Made in our private dir, then renamed into place: concurrent gracechecks
    // never see half a template.
    const fs::path fresh = scratch / "template";
    RunInitdb(bin_dir, fresh, creds);
    const fs::path staged = cache_dir / fmt::format(".staging-{}-{}", ::getpid(), RandomHex(4));
    fs::copy(fresh, staged, fs::copy_options::recursive, ec);
    if (!ec) fs::rename(staged, tpl, ec);
    fs::remove_all(staged, ec);
    fs::remove_all(fresh, ec);
    if (!fs::exists(tpl / "PG_VERSION")) return false;
  }
  fs::copy(tpl, data_dir, fs::copy_options::recursive, ec);
  if (ec) {
    fs::remove_all(data_dir, ec);
    return false;
  }
  ::chmod(data_dir.c_str(), 0700);
  ChownTree(data_dir, creds);
  return true;
}

pid_t ReadPostmasterPid(const fs::path& data_dir) {
  std::ifstream in(data_dir / "postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

bool ProcessMentions(pid_t pid, const std::string& needle) {
  std::string cmdline = ReadProcFile(fmt::format("/proc/{}/cmdline", pid));
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(needle) != std::string::npos;
}

bool WaitGone(pid_t pid, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(5ms);
  }
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// libpqxx 6 hides the PGconn and only hashes with MD5, which a scram-sha-256
// pg_hba rejects: ask libpq on a connection of its own.
std::string ScramVerifier(const std::string& conninfo, const std::string& user,
                          const std::string& password) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  char* verifier =
      PQstatus(conn) == CONNECTION_OK
          ? PQencryptPasswordConn(conn, password.c_str(), user.c_str(), "scram-sha-256")
          : nullptr;
  if (verifier == nullptr) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    throw PostgresError(fmt::format("cannot hash the run role's password: {}", why));
  }
  std::string out = verifier;
  PQfreemem(verifier);
  PQfinish(conn);
  return out;
}

}  // namespace

// initdb and postgres refuse to run as root: drop to an unprivileged user.
Credentials ServerCredentials(const std::string& requested) {
  if (::geteuid() != 0) return {};
  std::string user = requested;
  if (user.empty()) {
    const char* env = std::getenv("GRACECHECK_PG_USER");
    user = env && *env ? env : "postgres";
  }
  passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) {
    throw PostgresError(fmt::format(
        "running as root, the embedded cluster needs an unprivileged user, and '{}' does not "
        "exist (set GRACECHECK_PG_USER)",
        user));
  }
  if (pw->pw_uid == 0) {
    throw PostgresError(fmt::format("GRACECHECK_PG_USER '{}' is root; initdb refuses root", user));
  }
  return {pw->pw_uid, pw->pw_gid};
}

void ChownTree(const fs::path& root, const Credentials& creds) {
  if (!creds.uid) return;
  auto chown_one = [&](const fs::path& p) {
    if (::lchown(p.c_str(), *creds.uid, *creds.gid) != 0) {
      throw PostgresError(fmt::format("chown {}: {}", p.string(), std::strerror(errno)));
    }
  };
  chown_one(root);
  if (!fs::is_directory(root)) return;
  for (const auto& entry : fs::recursive_directory_iterator(root)) chown_one(entry.path());
}

std::string Tail(const fs::path& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  std::string out;
  for (const std::string& l : lines) out += "  | " + l + "\n";
  return out;
}

int EmbeddedPostgres::RemoveStaleClusters(const fs::path& temp_root) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(temp_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0 || !entry.is_directory(ec)) continue;
    const fs::path& dir = entry.path();
    int fd = ::open((dir / kLockName).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      // No lock yet: a cluster being created right now, unless it is old.
      auto age = fs::file_time_type::clock::now() - fs::last_write_time(dir, ec);
      if (ec || age < std::chrono::minutes(10)) continue;
    } else {
      bool owner_alive = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
      ::close(fd);
      if (owner_alive) continue;
    }
    // The owner is gone. Its postmaster normally died with it (parent-death
    // signal); make sure, by the pid file, that the one we stop is ours.
    const fs::path data_dir = dir / "data";
    pid_t pid = ReadPostmasterPid(data_dir);
    if (pid > 0 && ProcessMentions(pid, data_dir.string())) {
      ::kill(pid, SIGQUIT);
      if (!WaitGone(pid, 5s)) ::kill(pid, SIGKILL);
      WaitGone(pid, 2s);
    }
    KillProcessesWorkingIn(dir.string());
    fs::remove_all(dir, ec);
    if (!ec) ++removed;
  }
  return removed;
}

std::unique_ptr<EmbeddedPostgres> EmbeddedPostgres::Start(const Options& options) {
  const std::string bin_dir = FindBinDir(options.bin_dir);
  const fs::path temp_root =
      options.temp_root.empty() ? EmbeddedPostgres::DefaultTempRoot() : options.temp_root;
  const Credentials creds = ServerCredentials(options.run_as_user);
  RemoveStaleClusters(temp_root);

  std::unique_ptr<EmbeddedPostgres> pg(new EmbeddedPostgres());
  std::string pattern = (temp_root / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw PostgresError(fmt::format("cannot create a temp dir in {}: {}", temp_root.string(),
                                    std::strerror(errno)));
  }
  pg->dir_ = pattern;
  watchdog::WatchDir(pg->dir_.string(), 0);
  // From here on the destructor removes the dir, whatever fails.
  pg->lock_fd_ = ::open((pg->dir_ / kLockName).c_str(),
                        O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (pg->lock_fd_ < 0 || ::flock(pg->lock_fd_, LOCK_EX) != 0) {
    throw PostgresError(fmt::format("cannot lock {}: {}", pg->dir_.string(), std::strerror(errno)));
  }
  std::string pid = fmt::format("{}\n", ::getpid());
  if (::write(pg->lock_fd_, pid.data(), pid.size()) < 0) {
    throw PostgresError(fmt::format("cannot write lock: {}", std::strerror(errno)));
  }
  fs::create_directory(pg->socket_dir());
  fs::create_directory(pg->dir_ / "log");
  ::chmod(pg->socket_dir().c_str(), 0700);
  ChownTree(pg->dir_, creds);

  const auto t0 = Clock::now();
  const fs::path cache_dir = options.cache_dir.empty() ? DefaultCacheDir() : options.cache_dir;
  pg->timings_.from_template =
      options.use_template_cache &&
      PrepareFromTemplate(cache_dir, bin_dir, pg->data_dir(), pg->dir_, creds);
  if (!pg->timings_.from_template) RunInitdb(bin_dir, pg->data_dir(), creds);
  WriteFile(pg->data_dir() / "pg_hba.conf", kHbaConf);
  ChownTree(pg->data_dir() / "pg_hba.conf", creds);
  const auto t1 = Clock::now();
  pg->timings_.prepare = t1 - t0;

  // The port can be taken between PickFreePort and the server's bind.
  pg->bin_dir_ = bin_dir;
  pg->uid_ = creds.uid;
  pg->gid_ = creds.gid;
  pg->start_timeout_ = options.start_timeout;
  for (int attempt = 0;; ++attempt) {
    try {
      pg->port_ = PickFreePort();
    } catch (const std::runtime_error& e) {
      throw PostgresError(e.what());
    }
    if (pg->SpawnPostmaster(/*may_retry=*/attempt < 4)) break;
  }
  pg->timings_.start = Clock::now() - t1;
  try {
    pqxx::connection c(pg->AdminConnString());
    pg->version_ = c.get_variable("server_version");
  } catch (const std::exception& e) {
    throw PostgresError(fmt::format("embedded PostgreSQL: {}", e.what()));
  }
  return pg;
}

bool EmbeddedPostgres::SpawnPostmaster(bool may_retry) {
  const fs::path stderr_path = dir_ / "postmaster.stderr";
  SpawnOptions opts{.argv = {bin_dir_ + "/postgres", "-D", data_dir().string(), "-k",
                             socket_dir().string(), "-p", std::to_string(port_)},
                    .stdout_path = stderr_path.string(),
                    .stderr_path = "=stdout",
                    .uid = uid_,
                    .gid = gid_,
                    // Immediate shutdown if the harness dies.
                    .parent_death_signal = SIGQUIT};
  for (const std::string& setting : kServerSettings) {
    opts.argv.push_back("-c");
    opts.argv.push_back(setting);
  }
  opts.argv.push_back("-c");
  opts.argv.push_back("log_directory=" + (dir_ / "log").string());
  try {
    postmaster_ = Subprocess::Start(opts);
  } catch (const SpawnError& e) {
    throw PostgresError(fmt::format("cannot start postgres: {}", e.what()));
  }
  watchdog::WatchDir(dir_.string(), postmaster_->pid());
  // Ready means it accepts a connection.
  const std::string conninfo =
      fmt::format("host={} port={} user=gracecheck dbname=postgres", socket_dir().string(), port_);
  const auto deadline = Clock::now() + start_timeout_;
  while (Clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    if (postmaster_->WaitFor(5ms)) break;
  }
  std::string log = Tail(stderr_path) + Tail(log_path());
  std::optional<ExitStatus> exited = postmaster_->Poll();
  postmaster_.reset();
  if (exited && log.find("could not bind") != std::string::npos && may_retry) return false;
  throw PostgresError(fmt::format(
      "embedded PostgreSQL did not accept connections within {} ({}); its log:\n{}",
      FormatDuration(start_timeout_), exited ? exited->ToString() : "still running", log));
}

void EmbeddedPostgres::StopPostmaster() {
  if (!postmaster_) return;
  // SIGINT is the fast shutdown; SIGTERM would wait for every client.
  postmaster_->Signal(SIGINT);
  if (!postmaster_->WaitFor(10s)) postmaster_->Kill();
  // The logger and any backend end with the postmaster; don't leave one.
  const pid_t group = postmaster_->pgid();
  const auto deadline = Clock::now() + 2s;
  while (::kill(-group, 0) == 0 && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
  ::kill(-group, SIGKILL);
  postmaster_.reset();
  // Its children are session leaders of their own (setsid): a backend that
  // missed the shutdown would not get the group's SIGKILL.
  KillProcessesWorkingIn(dir_.string());
}

void EmbeddedPostgres::Restart() {
  StopPostmaster();
  for (int attempt = 0; !SpawnPostmaster(/*may_retry=*/attempt < 20); ++attempt) {
    std::this_thread::sleep_for(50ms);  // the same port: wait for it to be free again
  }
}

EmbeddedPostgres::~EmbeddedPostgres() {
  try {
    Stop();
  } catch (...) {
    // Destructors don't throw; Stop already did what it could.
  }
}

void EmbeddedPostgres::Stop() {
  StopPostmaster();
  if (!dir_.empty()) {
    std::error_code ec;
    if (!keep_log_as_.empty())
      fs::copy_file(log_path(), keep_log_as_, fs::copy_options::overwrite_existing, ec);
    fs::remove_all(dir_, ec);
    watchdog::ForgetDir(dir_.string());
    dir_.clear();
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

std::string EmbeddedPostgres::AdminConnString() const {
  return fmt::format("host={} port={} user={} dbname=postgres", socket_dir().string(), port_,
                     superuser_);
}

std::string EmbeddedPostgres::create_database_clause() const {
  return std::atoi(version_.c_str()) >= 15 ? " STRATEGY FILE_COPY" : "";  // 2x faster here
}

std::string EmbeddedPostgres::Describe() const {
  return fmt::format("embedded PostgreSQL {} on 127.0.0.1:{}", version_, port_);
}

std::string EmbeddedPostgres::StartDetails() const {
  return fmt::format("ready in {} ({} {}, start {})",
                     FormatDuration(timings_.prepare + timings_.start),
                     timings_.from_template ? "template copy" : "initdb",
                     FormatDuration(timings_.prepare), FormatDuration(timings_.start));
}

pid_t EmbeddedPostgres::postmaster_pid() const { return postmaster_ ? postmaster_->pid() : 0; }

std::unique_ptr<ExternalPostgres> ExternalPostgres::Connect(const std::string& url) {
  std::unique_ptr<ExternalPostgres> pg(new ExternalPostgres());
  pg->url_ = url;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (opts == nullptr) {
    // gracecheck's own words, not libpq's, which quote pieces of the string
    // (a password among them, for all it knows).
    const bool is_url = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
    PQfreemem(err);
    throw PostgresError(
        is_url
            ? std::string("--pg-url: not a valid URL: expected postgresql://USER[:PASSWORD]@HOST[:"
                          "PORT]/DATABASE[?OPTION=VALUE&...], with special characters "
                          "percent-encoded")
            : std::string("--pg-url: not a connection string: expected a URL "
                          "(postgresql://USER@HOST:PORT/DATABASE) or KEY=VALUE pairs (host=HOST "
                          "port=PORT user=USER dbname=DATABASE)"));
  }
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    const std::string key = o->keyword;
    if (key == "host") pg->host_ = o->val;
    if (key == "port") pg->port_ = std::atoi(o->val);
    if (key == "sslmode") pg->url_options_ = std::string("sslmode=") + o->val;
  }
  PQconninfoFree(opts);
  if (pg->host_.empty()) pg->host_ = "127.0.0.1";
  try {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    pqxx::row r = tx.exec1(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, current_user, "
        "current_setting('server_version'), pg_backend_pid() FROM pg_roles "
        "WHERE rolname = current_user");
    pg->version_ = r[4].as<std::string>();
    // A pooler (PgBouncer, Odyssey, pgcat) answers the startup with a
    // backend key of its own, not the server process's pid: the sessions
    // pg_stat_activity shows are then the pooler's, not the target's.
    if (const int server_pid = r[5].as<int>(); c.backendpid() != server_pid) {
      pg->pooler_ = fmt::format(
          "sessions belong to a pooler: --pg-url reaches the server through one (the "
          "connection's backend key names pid {}, the server says its process is {}), so "
          "pg_stat_activity shows the pooler's server connections, not the target's",
          c.backendpid(), server_pid);
    }
    const bool super = r[0].as<bool>();
    if (!super && !(r[1].as<bool>() && r[2].as<bool>())) {
      throw PostgresError(fmt::format(
          "--pg-url: role '{}' may not create databases and roles; gracecheck needs CREATEDB "
          "and CREATEROLE (ALTER ROLE {} CREATEDB CREATEROLE)",
          r[3].as<std::string>(), r[3].as<std::string>()));
    }
  } catch (const pqxx::broken_connection& e) {
    // libpq's message spans lines ("...failed: Connection refused\n\tIs the
    // server running..."): one line for the error.
    std::string why;
    for (const char c : std::string(e.what())) {
      if (c == '\n' || c == '\t') {
        if (!why.empty() && why.back() != ' ') why += ' ';
      } else {
        why += c;
      }
    }
    throw PostgresError(
        fmt::format("--pg-url: cannot connect: {}", why.substr(0, why.find_last_not_of(' ') + 1)));
  } catch (const pqxx::sql_error& e) {
    throw PostgresError(fmt::format("--pg-url: {}", e.what()));
  }
  return pg;
}

std::string ExternalPostgres::Describe() const {
  return fmt::format("PostgreSQL {} at {}:{}", version_, host_, port_);
}

namespace {

// What a gracecheck run database's and role's comment begins with; the
// admin database follows ("gracecheck run database; lock in postgres").
constexpr const char* kRunComment = "gracecheck run database; lock in ";
// The advisory lock key of a run database, from its name, in SQL.
constexpr const char* kLockKey = "('x' || substr(md5({}), 1, 16))::bit(64)::bigint";

}  // namespace

struct RunDatabase::Owner {
  explicit Owner(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
};

std::unique_ptr<RunDatabase> RunDatabase::Create(PostgresServer& server, const std::string& label) {
  std::string clean;
  for (char c : label) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    clean += std::isalnum(static_cast<unsigned char>(l)) ? l : '_';
  }
  if (clean.size() > 40) clean.resize(40);
  std::unique_ptr<RunDatabase> db(new RunDatabase());
  db->server_ = &server;
  db->name_ = fmt::format("gc_{}{}{}", clean, clean.empty() ? "" : "_", RandomHex(4));
  db->password_ = RandomHex(18);
  const auto t0 = Clock::now();
  try {
    // The owner's lock first: a sweeper that sees the comment sees the lock.
    db->owner_ = std::make_unique<Owner>(server.AdminConnString());
    {
      pqxx::nontransaction owner(db->owner_->conn);
      owner.exec1(
          fmt::format(fmt::runtime(std::string("SELECT pg_advisory_lock(") + kLockKey + ")"),
                      owner.quote(db->name_)));
    }
    pqxx::connection c(server.AdminConnString());
    // The password is sent only as a SCRAM verifier, so it cannot end up in
    // the server log even if the statement fails.
    const std::string secret = ScramVerifier(server.AdminConnString(), db->name_, db->password_);
    db->scram_verifier_ = secret;
    pqxx::nontransaction tx(c);
    const std::string role = tx.quote_name(db->name_);
    const std::string comment =
        tx.quote(kRunComment + tx.exec1("SELECT current_database()")[0].as<std::string>());
    tx.exec0(
        fmt::format("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "PASSWORD {}",
                    role, tx.quote(secret)));
    tx.exec0(fmt::format("COMMENT ON ROLE {} IS {}", role, comment));
    // A non-superuser may only give a database to a role it is a member of.
    if (!tx.exec1("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0].as<bool>()) {
      tx.exec0(fmt::format("GRANT {} TO CURRENT_USER", role));
    }
    tx.exec0(
        fmt::format("CREATE DATABASE {} OWNER {}{}", role, role, server.create_database_clause()));
    tx.exec0(fmt::format("REVOKE ALL ON DATABASE {} FROM PUBLIC", role));
    tx.exec0(fmt::format("COMMENT ON DATABASE {} IS {}", role, comment));
  } catch (const PostgresError&) {
    throw;
  } catch (const std::exception& e) {
    db->dropped_ = true;  // nothing to drop, or the drop would fail the same way
    throw PostgresError(fmt::format("cannot create the run database: {}", e.what()));
  }
  db->create_time_ = Clock::now() - t0;
  return db;
}

RunDatabase::~RunDatabase() {
  try {
    Drop();
  } catch (...) {
  }
}

void RunDatabase::Drop() {
  if (dropped_) return;
  dropped_ = true;
  try {
    pqxx::connection c(server_->AdminConnString());
    pqxx::nontransaction tx(c);
    const std::string role = tx.quote_name(name_);
    // FORCE terminates sessions that linger (PostgreSQL 13+).
    tx.exec0(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", role));
    tx.exec0(fmt::format("DROP ROLE IF EXISTS {}", role));
  } catch (const std::exception& e) {
    owner_.reset();
    throw PostgresError(fmt::format("cannot drop run database {}: {}", name_, e.what()));
  }
  owner_.reset();  // the lock goes with its session
}

std::vector<std::string> SweepRunDatabases(PostgresServer& server) {
  std::vector<std::string> swept;
  try {
    pqxx::connection c(server.AdminConnString());
    pqxx::nontransaction tx(c);
    const std::string comment =
        kRunComment + tx.exec1("SELECT current_database()")[0].as<std::string>();
    // Roles and databases both: a gracecheck killed between creating the
    // role and the database left a role alone.
    const pqxx::result left = tx.exec(
        fmt::format("SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = {0} "
                    "UNION SELECT datname FROM pg_database "
                    "WHERE shobj_description(oid, 'pg_database') = {0} ORDER BY 1",
                    tx.quote(comment)));
    for (const auto& row : left) {
      const std::string name = row[0].as<std::string>();
      const std::string key = fmt::format(fmt::runtime(kLockKey), tx.quote(name));
      if (!tx.exec1(fmt::format("SELECT pg_try_advisory_lock({})", key))[0].as<bool>()) continue;
      const std::string quoted = tx.quote_name(name);
      tx.exec0(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", quoted));
      tx.exec0(fmt::format("DROP ROLE IF EXISTS {}", quoted));
      tx.exec1(fmt::format("SELECT pg_advisory_unlock({})", key));
      swept.push_back(name);
    }
  } catch (const std::exception& e) {
    throw PostgresError(fmt::format("cannot sweep the run databases left behind: {}", e.what()));
  }
  return swept;
}

std::string RunDatabase::url() const {
  std::string opts = server_->url_options();
  const std::string host = server_->host();
  if (!host.empty() && host[0] == '/') {
    // A unix socket dir goes in the query string (libpq's URI form).
    opts = fmt::format("host={}&port={}{}{}", host, server_->port(), opts.empty() ? "" : "&", opts);
    return fmt::format("postgresql://{}:{}@/{}?{}", name_, password_, name_, opts);
  }
  return fmt::format("postgresql://{}:{}@{}:{}/{}{}{}", name_, password_, host, server_->port(),
                     name_, opts.empty() ? "" : "?", opts);
}

std::string RunDatabase::redacted_url() const {
  std::string u = url();
  const std::size_t at = u.find(password_);
  return u.replace(at, password_.size(), "***");
}

std::unique_ptr<PostgresServer> OpenPostgres(const std::optional<std::string>& pg_url) {
  std::optional<std::string> url = pg_url;
  if (!url) {
    if (const char* env = std::getenv("GRACECHECK_PG_URL"); env && *env) url = env;
  }
  if (url) return ExternalPostgres::Connect(*url);
  return EmbeddedPostgres::Start();
}

}  // namespace gracecheck
