#include "run_parts.h"

#include <pqxx/pqxx>
#include <system_error>
#include <thread>

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
    return {db_->name(), db_->url()};
  }

  void DropDatabase() override {
    if (db_) db_->Drop();
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
  std::uintmax_t log_offset_ = 0;
};

}  // namespace

std::unique_ptr<RunParts> PostgresParts(PostgresServer& server) {
  return std::make_unique<RealParts>(server);
}

}  // namespace gracecheck
