// refapi against a real embedded PostgreSQL cluster, as a real process with
// real signals (ctest label "pg"): the correct server, then each --bug
// variant showing its symptom directly.
#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
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
using Clock = std::chrono::steady_clock;

// Polls `done` every 10 ms until it holds or `limit` passes (the hang guard
// of every wait below); returns whether it held.
template <typename Done>
bool Eventually(Done done, Duration limit = std::chrono::seconds(3)) {
  const auto give_up = Clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= give_up) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// What came back for one request on a raw socket: unlike httplib::Client,
// it tells a reset from an orderly close.
struct Exchange {
  std::string outcome;   // ok, eof, reset, timeout, refused, error
  std::string response;  // the bytes received
  int status() const {
    return response.size() >= 12 && response.rfind("HTTP/1.1 ", 0) == 0
               ? std::atoi(response.c_str() + 9)
               : 0;
  }
  std::string Describe() const { return outcome + ": " + response.substr(0, 200); }
};

// One keep-alive connection to 127.0.0.1:port; requests are sent whole and
// responses read with a timeout.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      connect_errno_ = errno;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connect_errno_ == 0; }

  bool Send(const std::string& method, const std::string& path, const std::string& body = "") {
    const std::string request = fmt::format(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\n\r\n{}",
        method, path, body.size(), body);
    return connected() && ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
                              static_cast<ssize_t>(request.size());
  }

  Exchange Receive(Duration timeout = std::chrono::seconds(10)) {
    Exchange e;
    if (!connected()) {
      e.outcome = connect_errno_ == ECONNREFUSED ? "refused" : "error";
      return e;
    }
    const auto give_up = Clock::now() + timeout;
    for (;;) {
      if (Complete(e.response)) {
        e.outcome = "ok";
        return e;
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(give_up - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        e.outcome = "timeout";
        return e;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        e.response.append(buf, static_cast<std::size_t>(n));
      } else {
        e.outcome = n == 0 ? "eof" : errno == ECONNRESET ? "reset" : "error";
        return e;
      }
    }
  }

  Exchange Request(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    if (!Send(method, path, body) && connected()) return {"error", ""};
    return Receive();
  }

 private:
  static bool Complete(const std::string& response) {
    const std::size_t end = response.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::smatch m;
    const std::string head = response.substr(0, end);
    static const std::regex kLength("[Cc]ontent-[Ll]ength: *([0-9]+)");
    const std::size_t length = std::regex_search(head, m, kLength) ? std::stoul(m[1].str()) : 0;
    return response.size() >= end + 4 + length;
  }

  int fd_;
  int connect_errno_ = 0;
};

// A request sent on its own connection, answered (or not) in the background.
std::future<Exchange> RequestInBackground(int port, std::string path) {
  return std::async(std::launch::async, [port, path = std::move(path)] {
    RawConnection c(port);
    return c.Request("GET", path);
  });
}

int TaskCount(int pid, const std::string& name = {}) {
  int n = 0;
  const std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* tasks = ::opendir(dir.c_str());
  if (tasks == nullptr) return -1;
  while (dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(dir + "/" + e->d_name + "/comm");
    std::string c;
    std::getline(comm, c);
    if (name.empty() || c == name) ++n;
  }
  ::closedir(tasks);
  return n;
}

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

  long long SessionsAbandoned() {
    pqxx::connection c(pg_->AdminConnString());
    pqxx::nontransaction tx(c);
    return tx
        .exec1("SELECT sessions_abandoned FROM pg_stat_database WHERE datname = " +
               tx.quote(db_->name()))[0]
        .as<long long>();
  }

  int SleepingQueries() {
    pqxx::connection c(pg_->AdminConnString());
    pqxx::nontransaction tx(c);
    return tx
        .exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = " + tx.quote(db_->name()) +
               " AND query LIKE '%pg_sleep%' AND state = 'active'")[0]
        .as<int>();
  }

  int ItemsWithKey(const std::string& key) {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    return tx.exec1("SELECT count(*) FROM items WHERE key = " + tx.quote(key))[0].as<int>();
  }

  // With --threads 2: two workers busy with /slow, three connections
  // waiting for one with their request sent, then SIGTERM. Returns what the
  // three got.
  std::vector<Exchange> QueuedBehindBusyWorkersAtSigterm() {
    std::vector<std::future<Exchange>> slow;
    for (int i = 0; i < 2; ++i) slow.push_back(RequestInBackground(port_, "/slow?ms=1000"));
    EXPECT_TRUE(Eventually([&] { return SleepingQueries() == 2; })) << "the workers never got busy";
    std::vector<std::unique_ptr<RawConnection>> queued;
    for (int i = 0; i < 3; ++i) {
      queued.push_back(std::make_unique<RawConnection>(port_));
      EXPECT_TRUE(queued.back()->Send("GET", "/healthz"));
    }
    EXPECT_TRUE(refapi_->Signal(SIGTERM, false));
    for (auto& s : slow) EXPECT_EQ(s.get().status(), 200) << "a busy worker's request was dropped";
    std::vector<Exchange> got;
    for (auto& q : queued) got.push_back(q->Receive());
    return got;
  }

  // SIGTERM with a request in flight, then SIGINT: refapi (or its master)
  // exits 1 at once, logging phase=forced_exit.
  void ExpectSecondSignalForcesExit() {
    ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
    std::this_thread::sleep_for(100ms);
    ASSERT_FALSE(refapi_->exited()) << "exited before draining";
    ASSERT_TRUE(refapi_->Signal(SIGINT, false));
    ASSERT_TRUE(refapi_->WaitExit(2s)) << Stderr();
    EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 1") << Stderr();
    EXPECT_NE(Stderr().find("phase=forced_exit"), std::string::npos);
  }

  // Each of `phases` is in refapi's log, in this order.
  void ExpectPhasesInOrder(const std::vector<std::string>& phases) {
    const std::string log = Stderr();
    std::size_t at = 0;
    for (const std::string& phase : phases) {
      std::size_t found = log.find(phase, at);
      EXPECT_NE(found, std::string::npos) << phase << " missing or out of order in:\n" << log;
      if (found != std::string::npos) at = found;
    }
  }

  bool LogHas(const std::string& text) { return Stderr().find(text) != std::string::npos; }

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
  ExpectSecondSignalForcesExit();
  slow.wait();
}

// --- The --bug variants: each test shows its bug's symptom directly. ---

TEST_F(RefapiTest, UnknownBugIsAUsageErrorListingTheKnownOnes) {
  auto p = Subprocess::Start(
      {.argv = {REFAPI_BIN, "--db", "x", "--bug=x"}, .stderr_path = dir_ + "/stderr"});
  std::optional<ExitStatus> status = p->WaitFor(5s);
  ASSERT_TRUE(status) << "refapi did not exit";
  EXPECT_EQ(status->ToString(), "exit 2");
  EXPECT_EQ(
      Stderr().rfind("refapi: error: unknown bug 'x' (known: exit-immediately, db-first, ", 0), 0u)
      << Stderr();
}

TEST_F(RefapiTest, ExitImmediatelyDropsTheRequestInFlight) {
  StartRefapi({"--bug=exit-immediately"});
  auto slow = RequestInBackground(port_, "/slow?ms=1000");
  ASSERT_TRUE(Eventually([&] { return SleepingQueries() == 1; })) << "/slow never reached the DB";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(1s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  const Exchange e = slow.get();
  EXPECT_TRUE(e.outcome == "eof" || e.outcome == "reset") << e.Describe();
  EXPECT_EQ(e.response, "") << "the request in flight got an answer";
  EXPECT_FALSE(LogHas("phase=drained")) << Stderr();
}

TEST_F(RefapiTest, DbFirstFailsTheRequestInFlight) {
  StartRefapi({"--bug=db-first"});
  auto slow = RequestInBackground(port_, "/slow?ms=5000");
  ASSERT_TRUE(Eventually([&] { return SleepingQueries() == 1; })) << "/slow never reached the DB";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  const Exchange e = slow.get();
  EXPECT_EQ(e.status(), 503) << e.Describe();
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  // The pool closed while the request was in flight: before HTTP stopped.
  ExpectPhasesInOrder({"phase=signal", "phase=pool_closed", "phase=stopped_accepting",
                       "phase=drained", "phase=exit code=0"});
}

TEST_F(RefapiTest, NoDbCloseLeavesEverySessionAbandoned) {
  StartRefapi({"--bug=no-db-close", "--pool", "3"});
  const long long abandoned_before = SessionsAbandoned();
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  long long abandoned = 0;
  EXPECT_TRUE(Eventually([&] { return (abandoned = SessionsAbandoned() - abandoned_before) >= 3; }))
      << "sessions_abandoned grew by " << abandoned << ", not by the pool's 3";
  EXPECT_EQ(abandoned, 3);
  EXPECT_FALSE(LogHas("phase=pool_closed")) << Stderr();
}

TEST_F(RefapiTest, IgnoreSigtermStillServesASecondAfterIt) {
  StartRefapi({"--bug=ignore-sigterm"});
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  EXPECT_FALSE(refapi_->WaitExit(1s)) << "exited on SIGTERM\n" << Stderr();
  EXPECT_EQ(HttpGetStatus(port_, "/readyz", 2s), 200) << "no longer serving";
  EXPECT_FALSE(LogHas("phase=signal")) << "SIGTERM reached refapi:\n" << Stderr();
  ASSERT_TRUE(refapi_->Signal(SIGKILL, false));
  ASSERT_TRUE(refapi_->WaitExit(3s));
  EXPECT_EQ(refapi_->exit_status()->ToString(), "signal SIGKILL");
}

TEST_F(RefapiTest, HangOnShutdownNeverExits) {
  StartRefapi({"--bug=hang-on-shutdown"});
  EXPECT_EQ(TaskCount(refapi_->pid(), "housekeeper"), 1);
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(Eventually([&] { return LogHas("phase=joining_background"); })) << Stderr();
  EXPECT_FALSE(refapi_->WaitExit(1s)) << "the shutdown ended\n" << Stderr();
  EXPECT_FALSE(LogHas("phase=exit")) << Stderr();
  ASSERT_TRUE(refapi_->Signal(SIGKILL, false));
  ASSERT_TRUE(refapi_->WaitExit(3s));
  EXPECT_EQ(refapi_->exit_status()->ToString(), "signal SIGKILL");
}

TEST_F(RefapiTest, LeakThreadsKeepsAThreadPerRequest) {
  StartRefapi({"--bug=leak-threads"});
  const int before = TaskCount(refapi_->pid());
  RawConnection c(port_);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.Request("GET", "/healthz").status(), 200);
  EXPECT_EQ(TaskCount(refapi_->pid()) - before, 20) << "threads: " << before << " before";
  EXPECT_GE(TaskCount(refapi_->pid(), "audit"), 20);
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
}

TEST_F(RefapiTest, LeakSessionsOpensSessionsOutsideThePool) {
  StartRefapi({"--bug=leak-sessions", "--pool", "2"});
  const long long abandoned_before = SessionsAbandoned();
  RawConnection c(port_);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(c.Request("GET", "/healthz").status(), 200);
  const int leaked = Sessions() - 2;
  EXPECT_GE(leaked, 2) << "40 requests, one leaked session per 20";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  ExpectPhasesInOrder({"phase=pool_closed n=2"});  // the pool itself closed cleanly
  long long abandoned = 0;
  EXPECT_TRUE(
      Eventually([&] { return (abandoned = SessionsAbandoned() - abandoned_before) >= leaked; }));
  EXPECT_EQ(abandoned, leaked) << "the leaked sessions end abandoned";
}

TEST_F(RefapiTest, OrphanChildOutlivesRefapiWithItsSession) {
  StartRefapi({"--bug=orphan-child", "--pool", "2"});
  std::smatch m;
  const std::string log = Stderr();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("phase=helper_started pid=([0-9]+)"))) << log;
  const int helper = std::stoi(m[1].str());
  EXPECT_TRUE(Eventually([&] { return Sessions() == 3; })) << "no helper session";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  // refapi closed its pool, but its group lives on, with a session.
  EXPECT_EQ(ProcessGroupMembers(refapi_->pid()), std::vector<int>{helper});
  EXPECT_TRUE(Eventually([&] { return Sessions() == 1; })) << Sessions() << " sessions";
  const std::vector<int> killed = refapi_->KillLeftovers({});
  EXPECT_EQ(killed, std::vector<int>{helper});
  EXPECT_TRUE(Eventually([&] { return ProcessGroupMembers(refapi_->pid()).empty(); }))
      << "the helper survived SIGKILL";
  EXPECT_TRUE(Eventually([&] { return Sessions() == 0; }));
}

TEST_F(RefapiTest, AckBeforeCommitLosesAnAnsweredWrite) {
  StartRefapi({"--bug=ack-before-commit"});
  RawConnection c(port_);
  // A full batch (100 writes) is committed: the writer works...
  for (int i = 0; i < 100; ++i) {
    const Exchange e = c.Request("POST", "/items", fmt::format(R"({{"key":"batch-{}"}})", i));
    ASSERT_EQ(e.status(), 201) << e.Describe();
  }
  EXPECT_TRUE(Eventually([&] { return ItemsWithKey("batch-99") == 1; }))
      << "the writer never committed a full batch";
  // ...but a write answered 201 is not in the database yet,
  const Exchange answered = c.Request("POST", "/items", R"({"key":"lost"})");
  EXPECT_EQ(answered.status(), 201) << answered.Describe();
  EXPECT_EQ(ItemsWithKey("lost"), 0) << "committed before the answer: no bug";
  // and the shutdown drops it.
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  EXPECT_EQ(ItemsWithKey("lost"), 0) << "the answered write was committed after all";
  EXPECT_EQ(ItemsWithKey("batch-0"), 1);
  ExpectPhasesInOrder({"phase=writer_stopped dropped=1"});
}

TEST_F(RefapiTest, ResetKeepaliveResetsTheRequestInFlight) {
  StartRefapi({"--bug=reset-keepalive"});
  RawConnection idle(port_);
  ASSERT_EQ(idle.Request("GET", "/healthz").status(), 200);
  auto slow = RequestInBackground(port_, "/slow?ms=1000");
  ASSERT_TRUE(Eventually([&] { return SleepingQueries() == 1; })) << "/slow never reached the DB";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  const Exchange in_flight = slow.get();
  EXPECT_EQ(in_flight.outcome, "reset") << in_flight.Describe();
  const Exchange on_idle = idle.Receive(3s);
  EXPECT_EQ(on_idle.outcome, "reset") << on_idle.Describe();
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  ExpectPhasesInOrder({"phase=connections_reset n=2", "phase=drained"});
}

TEST_F(RefapiTest, IdleInTransactionAbandonsAnOpenTransaction) {
  StartRefapi({"--bug=idle-in-transaction", "--pool", "2"});
  const long long abandoned_before = SessionsAbandoned();
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  ExpectPhasesInOrder({"phase=transaction_left_open", "phase=pool_closed n=1", "phase=exit"});
  long long abandoned = 0;
  EXPECT_TRUE(
      Eventually([&] { return (abandoned = SessionsAbandoned() - abandoned_before) >= 1; }));
  EXPECT_EQ(abandoned, 1);
  // PostgreSQL saw the client vanish inside the transaction.
  auto logged = [&] {
    std::ifstream in(pg_->log_path());
    for (std::string line; std::getline(in, line);) {
      if (line.find(db_->name()) != std::string::npos &&
          line.find("unexpected EOF on client connection with an open transaction") !=
              std::string::npos) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(Eventually(logged)) << "no 'open transaction' EOF in " << pg_->log_path();
}

TEST_F(RefapiTest, LameDuckKeepsServingAfterTheSignal) {
  StartRefapi({"--lame-duck", "1s"});
  const auto signalled = Clock::now();
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  EXPECT_TRUE(Eventually([&] { return HttpGetStatus(port_, "/readyz", 1s) == 503; }, 800ms));
  EXPECT_EQ(HttpGetStatus(port_, "/healthz", 1s), 200) << "not serving during the lame duck";
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_GE(Clock::now() - signalled, 1s);
  ExpectPhasesInOrder({"phase=not_ready", "phase=lame_duck_done", "phase=stopped_accepting"});
}

TEST_F(RefapiTest, NoLameDuckStopsAcceptingAtOnce) {
  StartRefapi({"--lame-duck", "2s", "--bug=no-lame-duck"});
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(1s)) << "it waited for the lame duck\n" << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  EXPECT_EQ(RawConnection(port_).Receive().outcome, "refused");
  EXPECT_FALSE(LogHas("phase=lame_duck_done")) << Stderr();
}

TEST_F(RefapiTest, CancelInflightAnswers503ThenClosesThePoolInOrder) {
  StartRefapi({"--bug=cancel-inflight"});
  auto slow = RequestInBackground(port_, "/slow?ms=5000");
  ASSERT_TRUE(Eventually([&] { return SleepingQueries() == 1; })) << "/slow never reached the DB";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  const Exchange e = slow.get();
  EXPECT_EQ(e.status(), 503) << e.Describe();
  EXPECT_NE(e.response.find("57014"), std::string::npos) << "not query_canceled: " << e.Describe();
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  // Unlike db-first, the pool closes after the drain.
  ExpectPhasesInOrder({"phase=stopped_accepting", "phase=queries_cancelled n=1", "phase=drained",
                       "phase=pool_closed n=8", "phase=exit code=0"});
}

TEST_F(RefapiTest, ConnectionsQueuedForAWorkerAreServedAtShutdown) {
  StartRefapi({"--threads", "2"});
  for (const Exchange& e : QueuedBehindBusyWorkersAtSigterm())
    EXPECT_EQ(e.status(), 200) << e.Describe();
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
}

TEST_F(RefapiTest, SmallBacklogDropsConnectionsQueuedForAWorker) {
  StartRefapi({"--threads", "2", "--bug=small-backlog"});
  for (const Exchange& e : QueuedBehindBusyWorkersAtSigterm()) {
    EXPECT_TRUE(e.outcome == "eof" || e.outcome == "reset") << e.Describe();
    EXPECT_EQ(e.response, "") << "a queued connection was answered";
  }
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
}

// --- Pre-fork mode (--workers N, prefork.h). ---

// The pids of the workers the master logged as started.
std::vector<int> StartedWorkers(const std::string& log) {
  std::vector<int> pids;
  static const std::regex kStarted("phase=worker_started pid=([0-9]+)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), kStarted);
       it != std::sregex_iterator(); ++it) {
    pids.push_back(std::stoi((*it)[1].str()));
  }
  return pids;
}

TEST_F(RefapiTest, PreforkWorkersShareTheListenerAndEachDrainsItsOwnPool) {
  StartRefapi({"--workers", "2", "--pool", "3", "--drain-timeout", "5s"});
  const std::vector<int> workers = StartedWorkers(Stderr());
  ASSERT_EQ(workers.size(), 2u) << Stderr();
  EXPECT_EQ(ProcessGroupMembers(refapi_->pid()).size(), 3u) << "the master and its workers";
  // Each worker has its own pool: 2 x 3 sessions, none the master's.
  EXPECT_TRUE(Eventually([&] { return Sessions() == 6; })) << Sessions() << " sessions";
  // Two requests in flight at once reach both workers (each is a
  // connection of its own; a worker takes many, so send until both served).
  std::vector<std::future<Exchange>> slow;
  for (int i = 0; i < 2; ++i) slow.push_back(RequestInBackground(port_, "/slow?ms=800"));
  EXPECT_TRUE(Eventually([&] { return SleepingQueries() == 2; })) << "not both in flight";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  for (auto& f : slow) EXPECT_EQ(f.get().status(), 200) << "a request in flight was dropped";
  ASSERT_TRUE(refapi_->WaitExit(5s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0") << Stderr();
  EXPECT_TRUE(ProcessGroupMembers(refapi_->pid()).empty()) << "a worker outlived the master";
  EXPECT_FALSE(HttpGetStatus(port_, "/healthz", 1s)) << "the listener outlived the server";
  EXPECT_TRUE(Eventually([&] { return Sessions() == 0; }));
  EXPECT_EQ(SessionsAbandoned(), 0);
  const std::string log = Stderr();
  for (int w : workers) {
    EXPECT_NE(log.find(fmt::format("phase=worker_exited pid={} code=0", w)), std::string::npos)
        << log;
    EXPECT_NE(log.find(fmt::format("refapi[{}] ", w)), std::string::npos);
  }
  ExpectPhasesInOrder({"phase=signal sig=SIGTERM", "phase=master_closed_listener",
                       "phase=stopped_accepting", "phase=pool_closed n=3", "phase=worker_exited",
                       "phase=worker_exited", "phase=exit code=0"});
}

// The thread count of process `pid` (/proc/PID/status), or -1.
int ThreadsOf(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// The master listens only once every worker is up: the moment a client can
// connect, every pool is open (and the master holds no session: the first
// worker created the schema) and every worker runs all its threads.
// (Listening before the workers were up, 3 of 50 runs of a correct
// pre-fork row failed threads.growth, its baseline taken while a worker
// still started, and 1 db.max_sessions, the master's schema session still
// open beside the workers' pools.)
TEST_F(RefapiTest, PreforkListensOnlyOnceEveryWorkerIsUp) {
  StartRefapi({"--workers", "3", "--pool", "2"});
  EXPECT_EQ(Sessions(), 6) << "at readiness: 3 pools of 2, none the master's\n" << Stderr();
  const std::vector<int> workers = StartedWorkers(Stderr());
  ASSERT_EQ(workers.size(), 3u) << Stderr();
  std::vector<int> at_ready;
  for (int w : workers) at_ready.push_back(ThreadsOf(w));
  std::this_thread::sleep_for(300ms);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    EXPECT_GT(at_ready[i], 1) << "worker " << workers[i];
    EXPECT_EQ(ThreadsOf(workers[i]), at_ready[i]) << "worker " << workers[i] << " still started";
  }
  ExpectPhasesInOrder({"phase=worker_started", "phase=worker_ready", "phase=worker_started",
                       "phase=listening", "phase=serving"});
  const std::string log = Stderr();
  const std::size_t listening = log.find("phase=listening");
  std::size_t ready = 0;
  for (std::size_t at = log.find("phase=worker_ready"); at < listening;
       at = log.find("phase=worker_ready", at + 1)) {
    ++ready;
  }
  EXPECT_EQ(ready, 3u) << "every worker ready before the master listens:\n" << log;
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(5s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0") << Stderr();
}

// A worker that cannot start (here: no such database) stops the others;
// the master never listens and exits 1.
TEST_F(RefapiTest, PreforkWorkerThatCannotStartStopsTheOthers) {
  std::string url = db_->url();
  url.replace(url.rfind(db_->name()), db_->name().size(), "no_such_database");
  const int port = PickFreePort();
  auto p = Subprocess::Start({.argv = {REFAPI_BIN, "--listen", fmt::format("127.0.0.1:{}", port),
                                       "--db", url, "--workers", "2"},
                              .stdout_path = dir_ + "/stdout",
                              .stderr_path = dir_ + "/stderr"});
  std::optional<ExitStatus> status = p->WaitFor(10s);
  ASSERT_TRUE(status) << "refapi did not exit\n" << Stderr();
  EXPECT_EQ(status->ToString(), "exit 1") << Stderr();
  const std::string log = Stderr();
  EXPECT_NE(log.find("exited while starting; stopping the others"), std::string::npos) << log;
  EXPECT_NE(log.find("phase=start_abandoned"), std::string::npos) << log;
  EXPECT_EQ(log.find("phase=listening"), std::string::npos) << log;
  EXPECT_FALSE(HttpGetStatus(port, "/healthz", 1s)) << "it listened";
}

TEST_F(RefapiTest, PreforkBugsGoToTheFirstBuggyWorkersOnly) {
  StartRefapi({"--workers", "2", "--pool", "2", "--buggy-workers", "1", "--bug=no-db-close"});
  const std::vector<int> workers = StartedWorkers(Stderr());
  ASSERT_EQ(workers.size(), 2u) << Stderr();
  EXPECT_TRUE(Eventually([&] { return Sessions() == 4; })) << Sessions() << " sessions";
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(5s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0") << Stderr();
  EXPECT_TRUE(Eventually([&] { return Sessions() == 0; }));
  // The first worker dropped its two sessions; the second closed its own.
  EXPECT_TRUE(Eventually([&] { return SessionsAbandoned() == 2; })) << SessionsAbandoned();
  const std::string log = Stderr();
  EXPECT_NE(log.find(fmt::format("refapi[{}] ", workers[1])), std::string::npos);
  EXPECT_NE(log.find("phase=pool_closed n=2"), std::string::npos) << log;
}

TEST_F(RefapiTest, PreforkNoForwardLeavesTheWorkersServing) {
  StartRefapi({"--workers", "2", "--pool", "1", "--bug=no-forward"});
  const std::vector<int> workers = StartedWorkers(Stderr());
  ASSERT_EQ(workers.size(), 2u) << Stderr();
  ASSERT_TRUE(refapi_->Signal(SIGTERM, false));
  ASSERT_TRUE(refapi_->WaitExit(3s)) << Stderr();
  EXPECT_EQ(refapi_->exit_status()->ToString(), "exit 0");
  EXPECT_EQ(HttpGetStatus(port_, "/healthz", 1s), 200) << "the orphaned workers stopped serving";
  std::vector<int> left = ProcessGroupMembers(refapi_->pid());
  std::sort(left.begin(), left.end());
  std::vector<int> expected = workers;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left, expected);
  EXPECT_EQ(refapi_->KillLeftovers({}).size(), 2u);
  EXPECT_TRUE(Eventually([&] { return Sessions() == 0; }));
}

TEST_F(RefapiTest, PreforkSecondSignalEndsEveryWorkerAtOnce) {
  StartRefapi({"--workers", "2", "--drain-timeout", "30s"});
  auto slow = RequestInBackground(port_, "/slow?ms=10000");
  EXPECT_TRUE(Eventually([&] { return SleepingQueries() == 1; }));
  ExpectSecondSignalForcesExit();
  EXPECT_TRUE(ProcessGroupMembers(refapi_->pid()).empty());
  slow.wait();
}

TEST_F(RefapiTest, PreforkUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--bug=no-forward"},
                                             {"--buggy-workers", "1"},
                                             {"--workers", "2", "--bug=small-backlog"},
                                             {"--workers", "2", "--buggy-workers", "3"},
                                             {"--workers", "65"}}) {
    std::vector<std::string> argv = {REFAPI_BIN, "--db", db_->url()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Subprocess::Start({.argv = argv, .stderr_path = dir_ + "/stderr"});
    std::optional<ExitStatus> status = p->WaitFor(5s);
    ASSERT_TRUE(status) << "refapi did not exit";
    EXPECT_EQ(status->ToString(), "exit 2") << fmt::format("{}", fmt::join(args, " "));
    EXPECT_EQ(Stderr().rfind("refapi: error: ", 0), 0u) << Stderr();
  }
}

}  // namespace
}  // namespace gracecheck
