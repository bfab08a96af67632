// refapi against a real embedded PostgreSQL cluster, as a real process with
// real signals (ctest label "pg").
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <thread>

#include "ports.h"
#include "postgres.h"
#include "subprocess.h"
#include "target_process.h"

namespace gracecheck {
namespace {

using namespace std::chrono_literals;

class RefapiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = EmbeddedPostgres::Start().release(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    db_ = RunDatabase::Create(*pg_, "refapi_test");
    char dir[] = "/tmp/gc-refapi-XXXXXX";
    dir_ = ::mkdtemp(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts refapi and waits until /healthz answers.
  void StartRefapi(std::vector<std::string> extra = {}) {
    port_ = PickFreePort();
    TargetOptions o;
    o.argv = {REFAPI_BIN, "--listen", fmt::format("127.0.0.1:{}", port_), "--db", db_->url()};
    o.argv.insert(o.argv.end(), extra.begin(), extra.end());
    o.port = port_;
    o.stdout_path = dir_ + "/stdout";
    o.stderr_path = dir_ + "/stderr";
    refapi_ = std::make_unique<TargetProcess>(o, std::chrono::steady_clock::now());
    refapi_->WaitReady();
  }

  int Sessions() {
    pqxx::connection c(pg_->AdminConnString());
    pqxx::nontransaction tx(c);
    return tx
        .exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = " + tx.quote(db_->name()))[0]
        .as<int>();
  }

  std::string Stderr() {
    std::ifstream in(dir_ + "/stderr");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static EmbeddedPostgres* pg_;
  std::unique_ptr<RunDatabase> db_;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<TargetProcess> refapi_;
};

EmbeddedPostgres* RefapiTest::pg_ = nullptr;

TEST_F(RefapiTest, EndpointsWork) {
  StartRefapi();
  httplib::Client c("127.0.0.1", port_);
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);

  auto created = c.Post("/items", R"({"key":"k1"})", "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  auto again = c.Post("/items", R"({"key":"k1"})", "application/json");
  EXPECT_EQ(again->status, 200) << "the same key twice must be one row: " << again->body;
  const auto id = nlohmann::json::parse(created->body).at("id").get<long long>();
  auto got = c.Get(fmt::format("/items/{}", id));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_NE(got->body.find("\"k1\""), std::string::npos) << got->body;
  EXPECT_EQ(c.Get("/items/999999")->status, 404);
  EXPECT_EQ(c.Post("/items", "not json", "application/json")->status, 400);

  auto slow = c.Get("/slow?ms=50");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 200) << slow->body;

  pqxx::connection db(db_->url());
  EXPECT_EQ(
      pqxx::nontransaction(db).exec1("SELECT count(*) FROM items WHERE key = 'k1'")[0].as<int>(),
      1);
}

TEST_F(RefapiTest, SigtermDrainsASlowRequestThenClosesEverything) {
  StartRefapi({"--drain-timeout", "5s"});
  // A request holding a DB connection in pg_sleep when SIGTERM arrives.
  auto slow = std::async(std::launch::async, [this] {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c.Get("/slow?ms=1500");
  });
  for (int i = 0; i < 200; ++i) {
    pqxx::connection c(pg_->AdminConnString());
    pqxx::nontransaction tx(c);
    if (tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = " + tx.quote(db_->name()) +
                 " AND query LIKE '%pg_sleep%' AND state = 'active'")[0]
            .as<int>() > 0) {
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  auto res = slow.get();
  ASSERT_TRUE(res) << "the in-flight request was dropped: " << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  ASSERT_TRUE(refapi_->WaitExit(5s)) << "refapi did not exit within the drain time\n" << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0") << Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s);
  // New connections are refused once it stopped accepting.
  EXPECT_FALSE(HttpGetStatus(port_, "/healthz", 1s));
  // Every pooled connection was closed: no session of its database is left.
  int sessions = -1;
  for (int i = 0; i < 100 && (sessions = Sessions()) != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sessions, 0);
  // The phases, in order.
  const std::string log = Stderr();
  std::size_t at = 0;
  for (const char* phase :
       {"phase=signal sig=SIGTERM", "phase=not_ready", "phase=stopped_accepting", "phase=drained",
        "phase=workers_joined", "phase=pool_closed", "phase=exit code=0"}) {
    std::size_t found = log.find(phase, at);
    EXPECT_NE(found, std::string::npos) << phase << " missing or out of order in:\n" << log;
    if (found != std::string::npos) at = found;
  }
  EXPECT_EQ(log.find(db_->password()), std::string::npos) << "password in refapi's log";
}

TEST_F(RefapiTest, IdleKeepAliveConnectionIsClosedAtShutdown) {
  StartRefapi();
  httplib::Client idle("127.0.0.1", port_);
  idle.set_keep_alive(true);
  ASSERT_EQ(idle.Get("/healthz")->status, 200);
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  // cpp-httplib alone would keep the idle connection (and exit) for its
  // 5 s keep-alive timeout.
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 1s);
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
}

TEST_F(RefapiTest, SecondSignalExitsAtOnce) {
  StartRefapi({"--drain-timeout", "30s"});
  auto slow = std::async(std::launch::async, [this] {
    httplib::Client c("127.0.0.1", port_);
    return c.Get("/slow?ms=10000");
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  std::this_thread::sleep_for(100ms);
  ASSERT_FALSE(refapi_->exited()) << "exited before draining";
  ASSERT_TRUE(refapi_->Signal(SIGINT, false));
  ASSERT_TRUE(refapi_->WaitExit(2s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 1") << Stderr();
  EXPECT_NE(Stderr().find("phase=forced_exit"), std::string::npos);
  slow.wait();
}

}  // namespace
}  // namespace gracecheck
