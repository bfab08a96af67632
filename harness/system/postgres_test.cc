// Tests of the embedded cluster and run databases against real PostgreSQL
// (ctest label "pg").
#include "postgres.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "procfs.h"
#include "signal_names.h"
#include "subprocess.h"

namespace gracecheck {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool Alive(pid_t pid) { return ProcessAlive(pid); }

uid_t ProcessUid(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Uid:", 0) == 0) return static_cast<uid_t>(std::stoul(line.substr(4)));
  }
  return static_cast<uid_t>(-1);
}

// A private temp root per test, so stale-cluster sweeps see only our dirs.
class TempRoot {
 public:
  TempRoot() {
    std::string dir = (EmbeddedPostgres::DefaultTempRoot() / "gc-pgtest-XXXXXX").string();
    path_ = ::mkdtemp(dir.data());
    ::chmod(path_.c_str(), 01777);  // like /tmp: other users may use it
  }
  ~TempRoot() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  int Entries() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  fs::path path_;
};

int CountSessions(PostgresServer& server, const std::string& db) {
  pqxx::connection c(server.AdminConnString());
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = " + tx.quote(db))[0]
      .as<int>();
}

class PostgresTest : public ::testing::Test {
 protected:
  std::unique_ptr<EmbeddedPostgres> Start(EmbeddedPostgres::Options options = {}) {
    options.temp_root = root_.path();
    return EmbeddedPostgres::Start(options);
  }
  TempRoot root_;
};

TEST_F(PostgresTest, ClusterAcceptsConnectionsAndLeavesNothingBehind) {
  auto pg = Start();
  const fs::path dir = pg->dir();
  const pid_t pid = pg->postmaster_pid();
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "temp dir is not private";
  EXPECT_TRUE(Alive(pid));
  if (::geteuid() == 0) {
    EXPECT_NE(ProcessUid(pid), 0u) << "postmaster runs as root";
  }
  {
    pqxx::connection c(pg->AdminConnString());
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT 1")[0].as<int>(), 1);
    EXPECT_EQ(tx.exec1("SHOW fsync")[0].as<std::string>(), "off");
    EXPECT_EQ(tx.exec1("SHOW listen_addresses")[0].as<std::string>(), "127.0.0.1");
  }
  EXPECT_NE(pg->Describe().find("127.0.0.1:" + std::to_string(pg->port())), std::string::npos);
  RecordProperty("prepare_ms", static_cast<int>(ToMillis(pg->timings().prepare)));
  RecordProperty("start_ms", static_cast<int>(ToMillis(pg->timings().start)));
  fmt::print("cluster: prepare {} ({}), start {}\n", FormatDuration(pg->timings().prepare),
             pg->timings().from_template ? "template" : "initdb",
             FormatDuration(pg->timings().start));
  pg->Stop();
  EXPECT_FALSE(fs::exists(dir)) << dir << " left behind";
  EXPECT_FALSE(Alive(pid)) << "postmaster " << pid << " left running";
  EXPECT_EQ(root_.Entries(), 0);
}

TEST_F(PostgresTest, InitdbAndTemplateCopyGiveTheSameCluster) {
  TempRoot cache;
  for (bool use_cache : {false, true, true}) {
    auto pg = Start({.use_template_cache = use_cache, .cache_dir = cache.path()});
    EXPECT_EQ(pg->timings().from_template, use_cache);
    pqxx::connection c(pg->AdminConnString());
    EXPECT_EQ(pqxx::nontransaction(c).exec1("SELECT 1")[0].as<int>(), 1);
    fmt::print("cluster via {}: prepare {}, start {}\n", use_cache ? "template" : "initdb",
               FormatDuration(pg->timings().prepare), FormatDuration(pg->timings().start));
  }
  EXPECT_EQ(root_.Entries(), 0);
}

TEST_F(PostgresTest, ServerLogRecordsConnectionsAsJsonLines) {
  auto pg = Start();
  // The log a run reads its sessions' ends from, through PostgresServer.
  const PostgresServer& server = *pg;
  ASSERT_TRUE(server.session_log());
  EXPECT_EQ(*server.session_log(), pg->log_path());
  EXPECT_TRUE(server.can_restart());
  auto db = RunDatabase::Create(*pg, "log");
  { pqxx::connection c(db->url()); }
  std::string text;
  for (int i = 0; i < 400 && text.find("disconnection") == std::string::npos; ++i) {
    std::this_thread::sleep_for(5ms);
    std::ifstream in(pg->log_path());
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(text.find("\"message\":\"connection authorized: user=" + db->name()), std::string::npos)
      << text.substr(0, 2000);
  EXPECT_NE(text.find("disconnection: session time"), std::string::npos);
  EXPECT_EQ(text.find(db->password()), std::string::npos) << "password in the server log";
}

TEST_F(PostgresTest, RunDatabasesAreIsolatedAndUnprivileged) {
  auto pg = Start();
  auto a = RunDatabase::Create(*pg, "Run A!");
  auto b = RunDatabase::Create(*pg, "run-b");
  EXPECT_EQ(a->name().rfind("gc_run_a__", 0), 0u) << a->name();
  EXPECT_NE(a->name(), b->name());
  EXPECT_NE(a->url().find(a->password()), std::string::npos);
  EXPECT_EQ(a->redacted_url().find(a->password()), std::string::npos) << a->redacted_url();
  EXPECT_LT(a->create_time(), 5s);
  fmt::print("run database created in {}\n", FormatDuration(a->create_time()));

  pqxx::connection ca(a->url());
  pqxx::nontransaction tx(ca);
  tx.exec0("CREATE TABLE items (id int)");  // owns its database
  pqxx::row r = tx.exec1(
      "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user");
  EXPECT_FALSE(r[0].as<bool>());
  EXPECT_FALSE(r[1].as<bool>());
  EXPECT_FALSE(r[2].as<bool>());
  // Another run's role cannot get in.
  std::string b_url_with_a_db = b->url();
  b_url_with_a_db.replace(b_url_with_a_db.rfind(b->name()), b->name().size(), a->name());
  EXPECT_THROW(pqxx::connection{b_url_with_a_db}, pqxx::broken_connection);
  // A wrong password is refused.
  std::string wrong = a->url();
  wrong.replace(wrong.find(a->password()), 4, "xxxx");
  EXPECT_THROW(pqxx::connection{wrong}, pqxx::broken_connection);
}

TEST_F(PostgresTest, DropSucceedsWhileSessionsLinger) {
  auto pg = Start();
  auto db = RunDatabase::Create(*pg, "linger");
  const std::string name = db->name();
  pqxx::connection lingering(db->url());
  pqxx::connection busy(db->url());
  std::thread sleeper([&] {
    try {
      pqxx::nontransaction(busy).exec("SELECT pg_sleep(30)");
    } catch (const std::exception&) {
      // Terminated by the drop, as intended.
    }
  });
  for (int i = 0; i < 200 && CountSessions(*pg, name) < 2; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(CountSessions(*pg, name), 2);
  auto t0 = std::chrono::steady_clock::now();
  db->Drop();
  sleeper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  pqxx::connection c(pg->AdminConnString());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(
      tx.exec1("SELECT count(*) FROM pg_database WHERE datname = " + tx.quote(name))[0].as<int>(),
      0);
  EXPECT_EQ(
      tx.exec1("SELECT count(*) FROM pg_roles WHERE rolname = " + tx.quote(name))[0].as<int>(), 0);
}

TEST_F(PostgresTest, ExternalServerNeedsCreatedbAndCreaterole) {
  auto pg = Start();
  {
    pqxx::connection c(pg->AdminConnString());
    pqxx::nontransaction tx(c);
    tx.exec0("CREATE ROLE weak LOGIN PASSWORD 'weakpw'");
    tx.exec0("CREATE ROLE ops LOGIN CREATEDB CREATEROLE PASSWORD 'opspw'");
  }
  const std::string base = fmt::format("@127.0.0.1:{}/postgres?sslmode=disable", pg->port());
  try {
    ExternalPostgres::Connect("postgresql://weak:weakpw" + base);
    FAIL() << "a role without CREATEDB was accepted";
  } catch (const PostgresError& e) {
    EXPECT_NE(std::string(e.what()).find("needs CREATEDB and CREATEROLE"), std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("weakpw"), std::string::npos) << "password in error";
  }
  try {
    ExternalPostgres::Connect("postgresql://ops:wrongpw" + base);
    FAIL() << "a wrong password was accepted";
  } catch (const PostgresError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrongpw"), std::string::npos) << "password in error";
  }
  auto ext = ExternalPostgres::Connect("postgresql://ops:opspw" + base);
  // Not gracecheck's to restart, and its log is not gracecheck's to read.
  EXPECT_FALSE(ext->can_restart());
  EXPECT_FALSE(ext->session_log());
  EXPECT_THROW(ext->Restart(), PostgresError);
  EXPECT_EQ(ext->Describe().find("opspw"), std::string::npos) << ext->Describe();
  auto db = RunDatabase::Create(*ext, "ext");
  {
    pqxx::connection c(db->url());
    pqxx::nontransaction(c).exec0("CREATE TABLE t (id int)");
  }
  db->Drop();
  EXPECT_EQ(CountSessions(*pg, db->name()), 0);
}

TEST_F(PostgresTest, ExternalServerThatDoesNotAnswerIsAClearError) {
  try {
    ExternalPostgres::Connect("postgresql://x:secretpw@127.0.0.1:1/postgres?connect_timeout=2");
    FAIL();
  } catch (const PostgresError& e) {
    EXPECT_NE(std::string(e.what()).find("--pg-url: cannot connect"), std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("secretpw"), std::string::npos) << e.what();
  }
}

// The CLI end to end: `gracecheck with-db` as a user would run it.
std::string Gracecheck() { return GRACECHECK_BIN; }

TEST_F(PostgresTest, WithDbRunsACommandAndCleansUp) {
  const std::string out = (root_.path() / "out").string();
  auto p =
      Subprocess::Start({.argv = {Gracecheck(), "with-db", "--", "sh", "-c",
                                  "psql -XAtqc 'SELECT current_user = current_database()' \"$1\"",
                                  "sh", "{database_url}"},
                         .env = {"GRACECHECK_TMPDIR=" + root_.path().string()},
                         .stdout_path = out});
  std::optional<ExitStatus> s = p->WaitFor(60s);
  ASSERT_TRUE(s);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(s->ToString(), "exit 0");
  EXPECT_EQ(line, "t");
  EXPECT_EQ(root_.Entries(), 1) << "cluster dir left behind";  // just "out"
}

TEST_F(PostgresTest, WithDbRunsAsAnUnprivilegedUserToo) {
  if (::geteuid() != 0) GTEST_SKIP() << "this test switches to user nobody; run it as root";
  auto p =
      Subprocess::Start({.argv = {Gracecheck(), "with-db", "--", "true"},
                         .env = {"GRACECHECK_TMPDIR=" + root_.path().string(), "HOME=/nonexistent"},
                         .uid = 65534,
                         .gid = 65534});
  std::optional<ExitStatus> s = p->WaitFor(60s);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ToString(), "exit 0");
  EXPECT_EQ(root_.Entries(), 0);
}

// A gracecheck SIGKILLed while it ran against an external server leaves its
// run database and role there (nothing of it is left to drop them): the
// next `gracecheck cleanup --pg-url` drops them, and leaves alone those of
// a gracecheck still running (it holds their advisory lock), and a
// database of the same name pattern that is not gracecheck's.
TEST_F(PostgresTest, CleanupDropsWhatAKilledGracecheckLeftAndNothingLive) {
  auto pg = Start();
  {
    pqxx::connection c(pg->AdminConnString());
    pqxx::nontransaction tx(c);
    tx.exec0("CREATE ROLE ops LOGIN CREATEDB CREATEROLE PASSWORD 'opspw'");
    tx.exec0("CREATE DATABASE gc_not_ours_1234");
  }
  const std::string url =
      fmt::format("postgresql://ops:opspw@127.0.0.1:{}/postgres?sslmode=disable", pg->port());
  auto with_db = [&](const std::string& label, const fs::path& marker) {
    return Subprocess::Start({.argv = {Gracecheck(), "with-db", "--pg-url", url, "--label", label,
                                       "--", "sh", "-c", "touch " + marker.string() + "; sleep 60"},
                              .env = {"GRACECHECK_TMPDIR=" + root_.path().string()}});
  };
  auto started = [](const fs::path& marker) {
    for (int i = 0; i < 3000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(10ms);
    return fs::exists(marker);
  };
  auto databases = [&](const std::string& like) {
    pqxx::connection c(pg->AdminConnString());
    pqxx::nontransaction tx(c);
    std::set<std::string> names;
    for (const auto& row :
         tx.exec("SELECT datname FROM pg_database WHERE datname LIKE " + tx.quote(like))) {
      names.insert(row[0].as<std::string>());
    }
    for (const auto& row :
         tx.exec("SELECT rolname FROM pg_roles WHERE rolname LIKE " + tx.quote(like))) {
      names.insert("role " + row[0].as<std::string>());
    }
    return names;
  };
  auto with_db_killed = [&](const std::string& label) {
    auto p = with_db(label, root_.path() / label);
    EXPECT_TRUE(started(root_.path() / label));
    ::kill(p->pid(), SIGKILL);  // gracecheck itself: the watchdog stays, and drops nothing
    p->WaitFor(10s);
    EXPECT_EQ(databases("gc_" + label + "_%").size(), 2u) << "the database and role, left";
  };
  // The next gracecheck against the server sweeps first.
  with_db_killed("early");
  const fs::path live_err = root_.path() / "live.err";
  auto live = Subprocess::Start(
      {.argv = {Gracecheck(), "with-db", "--pg-url", url, "--label", "live", "--", "sh", "-c",
                "touch " + (root_.path() / "live").string() + "; sleep 60"},
       .env = {"GRACECHECK_TMPDIR=" + root_.path().string()},
       .stderr_path = live_err.string()});
  ASSERT_TRUE(started(root_.path() / "live"));
  EXPECT_TRUE(databases("gc_early_%").empty());
  {
    std::ifstream in(live_err);
    const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(err.find("dropped 1 run database and role left by gracecheck processes that are "
                       "gone: gc_early_"),
              std::string::npos)
        << err;
  }
  // `gracecheck cleanup` drops a killed one's, never a live one's.
  with_db_killed("killed");
  const std::string out = (root_.path() / "cleanup.out").string();
  auto cleanup =
      Subprocess::Start({.argv = {Gracecheck(), "cleanup", "--pg-url", url}, .stdout_path = out});
  std::optional<ExitStatus> s = cleanup->WaitFor(60s);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ToString(), "exit 0");
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("dropped 1 run database left on"), std::string::npos) << line;
  EXPECT_NE(line.find(": gc_killed_"), std::string::npos) << line;
  EXPECT_EQ(line.find("opspw"), std::string::npos) << "a password in the output: " << line;
  EXPECT_TRUE(databases("gc_killed_%").empty());
  EXPECT_EQ(databases("gc_live_%").size(), 2u) << "a live run's database was dropped";
  EXPECT_EQ(databases("gc_not_ours_%").size(), 1u) << "a database that is not gracecheck's";

  live->Signal(SIGTERM);
  ASSERT_TRUE(live->WaitFor(30s));
  EXPECT_TRUE(databases("gc_live_%").empty()) << "the live run dropped its own at the end";
  // The killed gracecheck's command, orphaned, is the parent-death signal's.
  for (int pid : ProcessesWithEnvironment("GRACECHECK_TMPDIR=" + root_.path().string())) {
    ::kill(pid, SIGKILL);
  }
}

// Interrupted with SIGINT or SIGTERM: cluster stopped, dir removed, exit 130.
TEST_F(PostgresTest, WithDbInterruptedCleansUpAndExits130) {
  for (int sig : {SIGINT, SIGTERM}) {
    const fs::path marker = root_.path() / "started";
    auto p = Subprocess::Start({.argv = {Gracecheck(), "with-db", "--", "sh", "-c",
                                         "touch " + marker.string() + "; sleep 30"},
                                .env = {"GRACECHECK_TMPDIR=" + root_.path().string()}});
    for (int i = 0; i < 3000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(fs::exists(marker)) << "command never started";
    ASSERT_TRUE(p->Signal(sig));
    std::optional<ExitStatus> s = p->WaitFor(30s);
    ASSERT_TRUE(s) << "gracecheck did not exit after " << SignalName(sig);
    EXPECT_EQ(s->ToString(), "exit 130") << SignalName(sig);
    fs::remove(marker);
    EXPECT_EQ(root_.Entries(), 0) << "left behind after " << SignalName(sig);
  }
}

// SIGKILLed: the watchdog kills what gracecheck started (grandchildren too)
// and removes the cluster's dir.
TEST_F(PostgresTest, WatchdogCleansUpAfterAKilledGracecheck) {
  const fs::path marker = root_.path() / "started";
  const fs::path pidfile = root_.path() / "grandchild";
  // A grandchild: the parent-death signal reaches only the direct child.
  auto p = Subprocess::Start({.argv = {Gracecheck(), "with-db", "--", "sh", "-c",
                                       "sleep 30 & echo $! > " + pidfile.string() + "; touch " +
                                           marker.string() + "; wait"},
                              .env = {"GRACECHECK_TMPDIR=" + root_.path().string()}});
  for (int i = 0; i < 3000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(marker));
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_TRUE(Alive(grandchild));
  fs::remove(marker);
  fs::remove(pidfile);
  p->Kill();
  for (int i = 0; i < 1000 && (Alive(grandchild) || root_.Entries() > 0); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(Alive(grandchild)) << "the target's grandchild outlived gracecheck";
  EXPECT_EQ(root_.Entries(), 0) << "the cluster dir outlived gracecheck";
}

// Without the watchdog (it was killed too): the postmaster dies with
// gracecheck, and the next start removes the dir.
TEST_F(PostgresTest, StaleClusterOfAKilledGracecheckIsRemoved) {
  const fs::path marker = root_.path() / "started";
  // exec: the command itself gets with-db's parent-death signal.
  auto p = Subprocess::Start(
      {.argv = {Gracecheck(), "with-db", "--", "sh", "-c",
                "touch " + marker.string() + "; exec sleep 30"},
       .env = {"GRACECHECK_TMPDIR=" + root_.path().string(), "GRACECHECK_NO_WATCHDOG=1"}});
  for (int i = 0; i < 3000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(marker));
  fs::remove(marker);
  fs::path cluster;
  for (const auto& e : fs::directory_iterator(root_.path())) cluster = e.path();
  ASSERT_FALSE(cluster.empty());
  std::ifstream pidfile(cluster / "data" / "postmaster.pid");
  pid_t postmaster = 0;
  pidfile >> postmaster;
  ASSERT_TRUE(Alive(postmaster));
  p->Kill();
  for (int i = 0; i < 1000 && Alive(postmaster); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(Alive(postmaster)) << "postmaster outlived its gracecheck";
  EXPECT_TRUE(fs::exists(cluster));
  EXPECT_EQ(EmbeddedPostgres::RemoveStaleClusters(root_.path()), 1);
  EXPECT_FALSE(fs::exists(cluster));
  // A live cluster is never touched.
  auto pg = Start();
  EXPECT_EQ(EmbeddedPostgres::RemoveStaleClusters(root_.path()), 0);
  EXPECT_TRUE(fs::exists(pg->dir()));
}

}  // namespace
}  // namespace gracecheck
