#include "run_parts.h"

#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <system_error>
#include <thread>

#include "pgbouncer.h"
#include "procfs.h"

namespace gracecheck {

namespace {

using namespace std::chrono_literals;

// log_timezone's offset from UTC in seconds (the embedded cluster's log
// stamps its lines in that zone); 0 if it cannot be read.
long LogUtcOffset(const std::string& admin) {
  try {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    return tx
        .exec1(
            "SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE current_setting('log_timezone')) "
            "- (now() AT TIME ZONE 'UTC'))::bigint")[0]
        .as<long>();
  } catch (const std::exception&) {
    return 0;
  }
}

class RealParts : public RunParts {
 public:
  explicit RealParts(PostgresServer& server) : server_(server) {}

  Database CreateDatabase(const std::string& label) override {
    db_ = RunDatabase::Create(server_, label);
    // Where this run's part of the server's log begins.
    if (std::optional<std::filesystem::path> log = server_.session_log()) {
      std::error_code ec;
      log_offset_ = std::filesystem::file_size(*log, ec);
      if (ec) log_offset_ = 0;
    }
    return {db_->name(), db_->url(), server_.sessions_unmeasurable()};
  }

  void DropDatabase() override {
    StopPooler({});
    if (db_) db_->Drop();
  }

  std::string StartPooler(const std::string& mode, int pool_size) override {
    PgBouncer::Options o;
    o.mode = mode;
    o.pool_size = pool_size;
    // The pooler reaches the server as the target would have: over TCP.
    o.server_host =
        server_.host().empty() || server_.host()[0] == '/' ? "127.0.0.1" : server_.host();
    o.server_port = server_.port();
    o.database = db_->name();
    o.scram_verifier = db_->scram_verifier();
    pooler_ = PgBouncer::Start(o);
    return fmt::format("postgresql://{}:{}@127.0.0.1:{}/{}?sslmode=disable", db_->name(),
                       db_->password(), pooler_->port(), db_->name());
  }
  std::string PoolerDescription() const override {
    return pooler_ ? pooler_->Describe() : std::string();
  }
  std::unique_ptr<DbWatch> WatchPoolerClients(Clock::time_point epoch) override {
    return std::make_unique<DbProbe>(PoolerClients(pooler_->AdminConnString()), db_->name(), epoch);
  }
  // PgBouncer writes its log line as it closes the client; a moment later
  // at most. Read until every client the probe saw go has its line (or 1 s).
  std::vector<DbSessionEnd> PoolerClientEnds(const Timeline& tl) override {
    if (!pooler_) return {};
    std::tm local{};
    const std::time_t now = std::time(nullptr);
    ::localtime_r(&now, &local);  // PgBouncer stamps its lines in local time
    const Nanos last_sample = tl.db_samples.empty() ? kNever : tl.db_samples.back().t;
    std::vector<DbSessionEnd> ends;
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(20ms);
      std::ifstream in(pooler_->log_path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      ends = ParsePoolerClientEnds(text.str(), db_->name(), tl.epoch_unix_ms, local.tm_gmtoff);
      std::unordered_set<int> ended;
      for (const DbSessionEnd& e : ends) ended.insert(e.pid);
      bool complete = true;
      for (const DbSession& s : tl.db_sessions) {
        if (s.last_seen < last_sample && ended.count(s.pid) == 0) complete = false;
      }
      if (complete) break;
    }
    return ends;
  }
  void StopPooler(const std::filesystem::path& keep_log_as) override {
    if (pooler_) pooler_->Stop(keep_log_as);
    pooler_.reset();
  }

  std::unordered_set<std::string> QueryKeys(const std::string& sql) override {
    std::unordered_set<std::string> keys;
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec(sql)) {
      if (!row[0].is_null()) keys.insert(row[0].as<std::string>());
    }
    return keys;
  }

  std::string AdminConnString() const override { return server_.AdminConnString(); }
  bool CanRestartDatabase() const override { return server_.can_restart(); }
  void RestartDatabase() override { server_.Restart(); }

  // The log reaches its file through the server's logging collector, a
  // little after the sessions are gone from pg_stat_activity: read until
  // every session the probe saw go has its disconnection line (or 1 s passed).
  std::optional<std::vector<DbSessionEnd>> SessionEnds(const Timeline& tl) override {
    const std::optional<std::filesystem::path> log = server_.session_log();
    if (!log || !db_) return std::nullopt;
    const long utc_offset = LogUtcOffset(server_.AdminConnString());
    const Nanos last_sample = tl.db_samples.empty() ? kNever : tl.db_samples.back().t;
    std::vector<DbSessionEnd> ends;
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(20ms);
      ends =
          ReadDbSessionEnds(log->string(), log_offset_, db_->name(), tl.epoch_unix_ms, utc_offset);
      std::unordered_set<int> ended;
      for (const DbSessionEnd& e : ends) {
        if (e.ended != kNever) ended.insert(e.pid);
      }
      bool complete = true;
      for (const DbSession& s : tl.db_sessions) {
        if (s.last_seen < last_sample && ended.count(s.pid) == 0) complete = false;
      }
      if (complete) break;
    }
    return ends;
  }

  std::unique_ptr<Target> StartTarget(const TargetOptions& options,
                                      Clock::time_point epoch) override {
    return std::make_unique<TargetProcess>(options, epoch);
  }
  std::unique_ptr<Load> MakeLoad(const LoadOptions& options, Clock::time_point epoch) override {
    return std::make_unique<LoadGenerator>(options, epoch);
  }
  std::unique_ptr<ProcWatch> WatchProcesses(int pid, Clock::time_point epoch) override {
    return std::make_unique<ProcProbe>(pid, epoch);
  }
  std::unique_ptr<DbWatch> WatchSessions(Clock::time_point epoch) override {
    return std::make_unique<DbProbe>(server_.AdminConnString(), db_->name(), epoch);
  }
  std::unique_ptr<CpuWatch> WatchCpuWaits(int pid, Clock::time_point epoch,
                                          std::function<std::set<int>()> descendants) override {
    return std::make_unique<CpuWaitProbe>(pid, epoch, 10ms, 2ms, std::move(descendants));
  }
  std::vector<int> ListenersOn(int port, const std::set<int>& pids) override {
    return gracecheck::ListenersOn(port, pids);
  }

 private:
  PostgresServer& server_;
  std::unique_ptr<RunDatabase> db_;
  std::unique_ptr<PgBouncer> pooler_;  // after db_: stopped before it is dropped
  std::uintmax_t log_offset_ = 0;
};

}  // namespace

std::unique_ptr<RunParts> PostgresParts(PostgresServer& server) {
  return std::make_unique<RealParts>(server);
}

}  // namespace gracecheck
