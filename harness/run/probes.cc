#include "probes.h"

#include <dirent.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <unordered_map>

#include "procfs.h"
#include "redact.h"
#include "summary.h"
namespace gracecheck {

namespace {

// An error message on one line (libpq's end in a newline, some span two).
std::string OneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return text;
}

}  // namespace

bool ProbeSchedule::WaitNext(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             const std::atomic<bool>& stop) {
  const bool dense = is_dense_;
  const Clock::time_point now = Clock::now();
  if (due_ == Clock::time_point{}) due_ = now;
  due_ += dense ? dense_ : sparse_;
  if (due_ < now) due_ = now;  // overran: go on at once, no burst to catch up
  cv.wait_until(lock, due_, [&] { return stop.load() || is_dense_ != dense; });
  if (is_dense_ != dense) due_ = Clock::now();
  return !stop.load();
}

ProcProbe::ProcProbe(int pid, Clock::time_point epoch, Duration interval, Duration dense_interval)
    : pid_(pid), epoch_(epoch), schedule_(interval, dense_interval) {}

ProcProbe::~ProcProbe() { ProcProbe::Stop(); }

void ProcProbe::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "gc-procprobe");
    Loop();
  });
}

void ProcProbe::SetDense() { schedule_.SetDense(mu_, cv_); }

void ProcProbe::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProcProbe::Loop() {
  try {
    while (!stop_) {
      if (!SampleOnce()) {  // the process is gone
        if (!tree_.empty()) tree_.front().gone = (Clock::now() - epoch_).count();
        break;
      }
      std::unique_lock<std::mutex> lock(mu_);
      // SetDense wakes the wait: the shutdown it announces may be over in
      // less than one sparse interval.
      if (!schedule_.WaitNext(lock, cv_, stop_)) break;
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = {(Clock::now() - epoch_).count(), e.what()};
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
  }
  sampled_.notify_all();
}

bool ProcProbe::ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

bool ProcProbe::WaitForSamples(std::size_t n, Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return sampled_.wait_for(lock, timeout, [&] { return samples_.size() >= n || ended_; }) &&
         samples_.size() >= n;
}

ProbeError ProcProbe::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

bool ProcProbe::SampleOnce() {
  const std::string base = fmt::format("/proc/{}", pid_);
  // A main thread that sigwaits shows what it waits for as neither blocked
  // nor caught: when a stop signal looks at its default action, read the
  // set it waits with (the memory of a process with handlers is never
  // read). The call is read before the masks (procfs.h says why), and the
  // three are read again, up to kReads times, when the call or the set
  // could not be read: read once, a correct pre-fork master failed
  // process.signal_handled in 1 of 50 runs (its sample said "default
  // action"; which read failed is not known).
  constexpr std::uint64_t kStopSignals =
      (1u << (SIGTERM - 1)) | (1u << (SIGINT - 1)) | (1u << (SIGQUIT - 1)) | (1u << (SIGHUP - 1));
  constexpr int kReads = 3;
  ProcSample s;
  std::optional<std::uint64_t> sigwait_set;
  for (int read = 1;; ++read) {
    sigwait_set = SigwaitSetAddress(pid_);
    const std::string status = ReadProcFile(base + "/status");
    if (status.empty()) return false;
    s = ProcSample();
    s.t = (Clock::now() - epoch_).count();
    std::istringstream lines(status);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("State:", 0) == 0 && line.find('Z') != std::string::npos) return false;
      if (line.rfind("Threads:", 0) == 0) s.threads = std::atoi(line.c_str() + 8);
      if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atoll(line.c_str() + 6);
      for (auto [name, mask] :
           {std::pair{"SigBlk:", &s.sig_blocked}, std::pair{"SigIgn:", &s.sig_ignored},
            std::pair{"SigCgt:", &s.sig_caught}}) {
        if (line.rfind(name, 0) == 0) {
          *mask = std::strtoull(line.c_str() + 7, nullptr, 16);
          s.signals_read = true;
        }
      }
    }
    const bool unhandled =
        s.signals_read && (kStopSignals & ~(s.sig_blocked | s.sig_caught | s.sig_ignored)) != 0;
    if (!unhandled) break;
    if (sigwait_set) {
      s.sig_waited = ReadSigwaitSet(pid_, *sigwait_set).value_or(0);
      if (s.sig_waited != 0) break;
    }
    if (read == kReads) break;
  }
  s.target_threads = s.threads;
  s.fds = CountEntries(base + "/fd");
  // Walking every thread's children list, and reading every thread's name,
  // cost a file per thread (refapi has 131 under load): the walk is done
  // every 10 ms, the names when the thread count changed, at most every
  // 10 ms while there are many threads (the count falls at each sample of
  // a shutdown), so that a dense sample stays well under its 0.5 ms.
  const Clock::time_point at = Clock::now();
  constexpr auto kEvery = std::chrono::milliseconds(10);
  const bool walk = at - last_walk_ >= kEvery;
  if (walk) last_walk_ = at;
  std::set<int> now;
  if (walk) CollectDescendants(pid_, &now);
  std::map<std::string, int> names;
  const bool rename = s.target_threads != last_named_threads_ &&
                      (s.target_threads <= 16 || at - last_named_ >= kEvery);
  if (rename) last_named_ = at;
  if (rename) {
    std::vector<std::string> tasks;
    CountEntries(base + "/task", &tasks);
    for (const std::string& tid : tasks) {
      std::string comm = ReadProcFile(fmt::format("{}/task/{}/comm", base, tid));
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
      ++names[comm];
    }
  }
  // The tree: the target's own count, and every live descendant's, read at
  // each sample (a stat file each) so that a worker's exit is seen as
  // densely as the target's.
  if (tree_.empty()) {
    TreeProcess self;
    self.pid = pid_;
    if (const std::optional<ProcStat> st = ReadProcStat(pid_)) self.ppid = st->ppid;
    self.command = RedactSecrets(ReadCommandLine(pid_));
    self.first_seen = s.t;
    tree_.push_back(std::move(self));
  }
  TreeProcess& self = tree_.front();
  self.last_seen = s.t;
  if (self.threads.empty() || self.threads.back().second != s.target_threads) {
    self.threads.emplace_back(s.t, s.target_threads);
  }
  s.threads = s.target_threads + SampleTree(s.t, walk ? &now : nullptr);
  s.read_end = (Clock::now() - epoch_).count();
  std::lock_guard<std::mutex> lock(mu_);
  if (walk) {
    s.children = static_cast<int>(now.size());
    descendants_.insert(now.begin(), now.end());
  } else if (!samples_.empty()) {
    s.children = samples_.back().children;
  }
  if (rename) {
    thread_names_ = std::move(names);
    last_named_threads_ = s.target_threads;
  }
  samples_.push_back(s);
  sampled_.notify_all();
  return true;
}

int ProcProbe::SampleTree(Nanos t, const std::set<int>* walked) {
  if (walked) {
    for (int pid : *walked) {
      if (live_.count(pid) != 0) continue;
      const std::optional<ProcStat> st = ReadProcStat(pid);
      if (!st || st->state == 'Z' || st->state == 'X') continue;
      TreeProcess p;
      p.pid = pid;
      p.ppid = st->ppid;
      p.command = RedactSecrets(ReadCommandLine(pid));
      p.first_seen = t;
      live_[pid] = tree_.size();
      tree_.push_back(std::move(p));
    }
  }
  // Each process is stamped with when it was read: a worker that left at
  // the signal is gone at the moment its stat said so, not at the sample's
  // start before the signal.
  int sum = 0;
  for (auto it = live_.begin(); it != live_.end();) {
    TreeProcess& p = tree_[it->second];
    const std::optional<ProcStat> st = ReadProcStat(it->first);
    const Nanos read = (Clock::now() - epoch_).count();
    if (!st || st->state == 'Z' || st->state == 'X') {
      p.gone = read;
      it = live_.erase(it);
      continue;
    }
    p.last_seen = read;
    if (p.threads.empty() || p.threads.back().second != st->threads) {
      p.threads.emplace_back(read, st->threads);
    }
    sum += st->threads;
    ++it;
  }
  return sum;
}

std::vector<TreeProcess> ProcProbe::TakeProcesses() {
  std::lock_guard<std::mutex> lock(mu_);
  live_.clear();
  return std::move(tree_);
}

ProcSample ProcProbe::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_.empty() ? ProcSample{} : samples_.back();
}

std::vector<ProcSample> ProcProbe::TakeSamples() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(samples_);
}

std::set<int> ProcProbe::Descendants() const {
  std::lock_guard<std::mutex> lock(mu_);
  return descendants_;
}

std::map<std::string, int> ProcProbe::ThreadNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return thread_names_;
}

namespace {

class ActivitySource : public SessionSource {
 public:
  explicit ActivitySource(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  void Connect() override {
    try {
      auto conn = std::make_unique<pqxx::connection>(conninfo_);
      {
        pqxx::nontransaction tx(*conn);
        tx.exec(fmt::format("SET application_name = {}", tx.quote(kMonitorApplicationName)));
      }
      conn->prepare("activity",
                    "SELECT pid, backend_start::text, coalesce(state, ''), "
                    "coalesce(client_port, 0), left(coalesce(query, ''), 120), "
                    "coalesce(usename, '') "
                    "FROM pg_stat_activity WHERE datname = $1 "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                    // The harness's own sessions on the run's database
                    // (a db: {block: D} fault, verify_sql) are not the
                    // target's, nor anyone's worth naming.
                    "AND usename IS DISTINCT FROM current_user");
      conn_ = std::move(conn);
    } catch (const pqxx::failure& e) {
      throw Lost(e.what());
    }
  }
  bool connected() const override { return conn_ != nullptr; }
  void Disconnect() override { conn_.reset(); }

  std::vector<Row> Read(const std::string& database) override {
    std::vector<Row> rows;
    try {
      pqxx::nontransaction tx(*conn_);
      for (const auto& row : tx.exec_prepared("activity", database)) {
        rows.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(),
                        row[3].as<int>(), row[4].as<std::string>(), row[5].as<std::string>()});
      }
    } catch (const pqxx::failure& e) {
      throw Lost(e.what());
    }
    return rows;
  }

  DbCounters Counters(const std::string& database) override {
    DbCounters out;
    try {
      pqxx::connection c(conninfo_);
      pqxx::nontransaction tx(c);
      pqxx::result r = tx.exec_params(
          "SELECT sessions_abandoned, sessions_fatal, xact_rollback FROM pg_stat_database "
          "WHERE datname = $1",
          database);
      if (r.empty()) return out;
      long long* fields[] = {&out.sessions_abandoned, &out.sessions_fatal, &out.xact_rollback};
      for (int i = 0; i < 3; ++i) {
        if (!r[0][i].is_null()) *fields[i] = r[0][i].as<long long>();
      }
    } catch (const std::exception&) {
    }
    return out;
  }

 private:
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> conn_;
};

// libpq directly: libpqxx refuses a server whose version it does not know,
// and the admin console says it is PgBouncer 1.18. Simple queries only, as
// the console takes.
class PoolerClientSource : public SessionSource {
 public:
  explicit PoolerClientSource(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PoolerClientSource() override { PoolerClientSource::Disconnect(); }

  void Connect() override {
    Disconnect();
    conn_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = OneLine(PQerrorMessage(conn_));
      Disconnect();
      throw Lost("the pooler's admin console: " + why);
    }
  }
  bool connected() const override { return conn_ != nullptr; }
  void Disconnect() override {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  std::vector<Row> Read(const std::string& database) override {
    PGresult* r = PQexec(conn_, "SHOW CLIENTS");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      const std::string why = OneLine(PQerrorMessage(conn_));
      PQclear(r);
      throw Lost("SHOW CLIENTS: " + why);
    }
    auto column = [r](const char* name) { return PQfnumber(r, name); };
    const int user = column("user"), db = column("database"), state = column("state"),
              port = column("port"), since = column("connect_time"), link = column("link");
    std::vector<Row> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      auto text = [&](int c) { return c < 0 ? std::string() : std::string(PQgetvalue(r, i, c)); };
      if (text(db) != database) continue;
      Row row;
      row.client_port = std::atoi(text(port).c_str());
      row.pid = row.client_port;
      row.start = text(since);
      row.role = text(user);
      const std::string s = text(state);
      row.state = s == "active" ? (text(link).empty() ? "idle" : "active") : s;
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }

  DbCounters Counters(const std::string&) override { return {}; }

 private:
  std::string conninfo_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<SessionSource> ServerSessions(std::string conninfo) {
  return std::make_unique<ActivitySource>(std::move(conninfo));
}

std::unique_ptr<SessionSource> PoolerClients(std::string admin_conninfo) {
  return std::make_unique<PoolerClientSource>(std::move(admin_conninfo));
}

DbProbe::DbProbe(std::string conninfo, std::string database, Clock::time_point epoch,
                 Duration interval, Duration dense_interval)
    : DbProbe(ServerSessions(std::move(conninfo)), std::move(database), epoch, interval,
              dense_interval) {}

DbProbe::DbProbe(std::unique_ptr<SessionSource> source, std::string database,
                 Clock::time_point epoch, Duration interval, Duration dense_interval)
    : source_(std::move(source)),
      database_(std::move(database)),
      epoch_(epoch),
      schedule_(interval, dense_interval) {}

DbProbe::~DbProbe() { DbProbe::Stop(); }

void DbProbe::Start() {
  try {
    source_->Connect();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("database probe: {}", e.what()));
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "gc-dbprobe");
    Loop();
  });
}

void DbProbe::SetDense() { schedule_.SetDense(mu_, cv_); }

void DbProbe::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DbProbe::Loop() {
  try {
    while (!stop_) Sample();
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = {(Clock::now() - epoch_).count(), e.what()};
    cv_.notify_all();
  }
}

void DbProbe::Sample() {
  DbSample s;
  std::vector<SessionSource::Row> rows;
  std::vector<std::string> other_roles;
  try {
    if (!source_->connected()) {
      source_->Connect();
      std::lock_guard<std::mutex> lock(mu_);
      if (!outages_.empty() && outages_.back().back == kNever) {
        outages_.back().back = (Clock::now() - epoch_).count();
      }
    }
    s.sent = (Clock::now() - epoch_).count();
    rows = source_->Read(database_);
    s.t = (Clock::now() - epoch_).count();
  } catch (const SessionSource::Lost& e) {
    // The monitor connection failed (a db: restart fault, or someone ended
    // it): kept as an outage, and a new connection (with the query
    // prepared again: it is per connection) is tried each round until one
    // is ready.
    const Nanos t = (Clock::now() - epoch_).count();
    const bool had_connection = source_->connected();
    source_->Disconnect();
    std::unique_lock<std::mutex> lock(mu_);
    if (had_connection) outages_.push_back({t, kNever, OneLine(e.what())});
    schedule_.WaitNext(lock, cv_, stop_);
    return;
  }
  // The run's sessions are its role's on its database (role and database
  // share the name): a pooler's auth_query session, or anyone else on the
  // database, is named but not counted.
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [&](SessionSource::Row& r) {
                              if (r.role == database_) return false;
                              other_roles.push_back(r.role);
                              return true;
                            }),
             rows.end());
  std::unique_lock<std::mutex> lock(mu_);
  other_roles_.insert(other_roles.begin(), other_roles.end());
  for (const auto& [pid, start, state, port, query, role] : rows) {
    if (state == "active")
      ++s.active;
    else if (state == "idle")
      ++s.idle;
    else if (state.rfind("idle in transaction", 0) == 0)
      ++s.idle_in_transaction;
    else
      ++s.other;
    DbSession& session = sessions_[{pid, start}];
    if (session.first_seen == kNever) {
      session.pid = pid;
      session.backend_start = start;
      session.client_port = port;
      session.first_seen = s.t;
    }
    session.last_seen = s.t;
    session.last_seen_sent = s.sent;
    if (session.state_since == kNever || session.last_state != state) session.state_since = s.t;
    session.last_state = state;
    session.last_query = query;
  }
  samples_.push_back(s);
  cv_.notify_all();
  schedule_.WaitNext(lock, cv_, stop_);
}

std::vector<std::string> ProbeHarnessErrors(const ProbeError& proc, const ProbeError& db,
                                            const std::vector<ProbeOutage>& outages,
                                            const std::vector<RestartWindow>& restarts,
                                            const Timeline& tl, const DbSourceNames& names) {
  std::vector<std::string> errors;
  if (proc.t != kNever) {
    errors.push_back(
        fmt::format("the /proc probe of the target stopped at {}: {}; no sample after it",
                    FormatMoment(proc.t, tl), proc.what));
  }
  if (db.t != kNever) {
    errors.push_back(fmt::format("{} stopped at {}: {}; no sample after it", names.probe,
                                 FormatMoment(db.t, tl), db.what));
  }
  for (const ProbeOutage& o : outages) {
    const bool restart = std::any_of(restarts.begin(), restarts.end(), [&](const RestartWindow& w) {
      return o.lost >= w.from && (w.to == kNever || o.lost <= w.to + kRestartOutageGrace);
    });
    if (restart && o.back != kNever) continue;
    std::string line =
        fmt::format("{} was lost at {}: {}; ", names.connection, FormatMoment(o.lost, tl), o.what);
    line += o.back == kNever
                ? std::string("not reconnected before the end of the run")
                : fmt::format("reconnected {} later (no pg_stat_activity sample in between)",
                              FormatMillis(o.back - o.lost));
    errors.push_back(std::move(line));
  }
  return errors;
}

ProbeError DbProbe::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

std::vector<ProbeOutage> DbProbe::outages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outages_;
}

DbSample DbProbe::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_.empty() ? DbSample{} : samples_.back();
}

Nanos DbProbe::WaitSessionsGone(Nanos after, Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  Nanos found = kNever;
  cv_.wait_for(lock, timeout, [&] {
    for (auto it = samples_.rbegin(); it != samples_.rend() && it->t > after; ++it) {
      if (it->total() == 0) {
        found = it->t;
        return true;
      }
    }
    return stop_.load();
  });
  return found;
}

void DbProbe::WaitSampleAt(Nanos t, Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout,
               [&] { return stop_.load() || (!samples_.empty() && samples_.back().t >= t); });
}

std::vector<DbSample> DbProbe::TakeSamples() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(samples_);
}

std::set<std::string> DbProbe::OtherRoles() const {
  std::lock_guard<std::mutex> lock(mu_);
  return other_roles_;
}

std::vector<DbSession> DbProbe::TakeSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DbSession> out;
  for (auto& [key, session] : sessions_) out.push_back(std::move(session));
  sessions_.clear();
  return out;
}

DbCounters CountedSince(const DbCounters& before, const DbCounters& after) {
  auto delta = [](long long b, long long a) { return b >= 0 && a >= 0 ? a - b : -1; };
  return {delta(before.sessions_abandoned, after.sessions_abandoned),
          delta(before.sessions_fatal, after.sessions_fatal),
          delta(before.xact_rollback, after.xact_rollback)};
}

DbCounters DbProbe::Counters() { return source_->Counters(database_); }

namespace {

// "2026-11-24 19:38:05.068 UTC" (log_timezone's wall clock) -> Unix ms.
std::optional<std::int64_t> LogTimeMs(const std::string& text, long utc_offset_s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t local = ::timegm(&tm);
  return (static_cast<std::int64_t>(local) - utc_offset_s) * 1000 + ms;
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::vector<DbSessionEnd> ParseDbSessionEnds(std::string_view jsonl, const std::string& database,
                                             std::int64_t epoch_unix_ms, long utc_offset_s) {
  std::vector<DbSessionEnd> ends;
  std::unordered_map<std::string, std::size_t> by_session;  // session_id -> index
  std::size_t pos = 0;
  while (pos < jsonl.size()) {
    std::size_t eol = jsonl.find('\n', pos);
    if (eol == std::string_view::npos) eol = jsonl.size();
    const std::string_view line = jsonl.substr(pos, eol - pos);
    pos = eol + 1;
    // Cheap filter first: most lines are other databases' or the server's own.
    if (line.find(database) == std::string_view::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    // The run's sessions: its role's (role and database share the name).
    if (!j.is_object() || j.value("dbname", "") != database || j.value("user", "") != database ||
        j.value("backend_type", "") != "client backend") {
      continue;
    }
    const std::string session = j.value("session_id", "");
    auto [it, added] = by_session.emplace(session, ends.size());
    if (added) {
      ends.emplace_back();
      ends.back().pid = j.value("pid", 0);
    }
    DbSessionEnd& end = ends[it->second];
    const std::string message = j.value("message", "");
    if (StartsWith(message, "disconnection:")) {
      if (std::optional<std::int64_t> ms = LogTimeMs(j.value("timestamp", ""), utc_offset_s)) {
        end.ended = (*ms - epoch_unix_ms) * 1'000'000;
      }
      // A clean close (a Terminate message) with a transaction open: the
      // server rolls it back without a word. A pooler closing its server
      // connection after its client vanished mid-transaction does this
      // (PgBouncer, "client disconnect while server was not ready").
      if (const std::string ps = j.value("ps", ""); StartsWith(ps, "idle in transaction")) {
        end.open_transaction = true;
        if (end.message.empty()) {
          end.message = "disconnected with its transaction open (rolled back)";
          end.state = ps;
        }
      }
      continue;
    }
    if (StartsWith(message, "canceling statement due to user request")) {
      end.cancelled = true;
      continue;
    }
    if (StartsWith(message, "prepared statement \"") &&
        message.find("\" does not exist") != std::string::npos) {
      ++end.unknown_statements;
      continue;
    }
    const bool mid_query = StartsWith(message, "could not send data to client") ||
                           StartsWith(message, "connection to client lost");
    const bool vanished = StartsWith(message, "unexpected EOF on client connection") ||
                          StartsWith(message, "could not receive data from client") || mid_query;
    const bool terminated = StartsWith(message, "terminating connection");
    if (!vanished && !terminated) continue;
    end.client_vanished = end.client_vanished || vanished;
    end.mid_query = end.mid_query || mid_query;
    end.terminated = end.terminated || terminated;
    if (message.find("with an open transaction") != std::string::npos) end.open_transaction = true;
    if (end.message.empty()) {
      end.message = message;
      end.state = j.value("ps", "");
    }
  }
  return ends;
}

std::vector<DbSessionEnd> ParsePoolerClientEnds(std::string_view log, const std::string& database,
                                                std::int64_t epoch_unix_ms, long utc_offset_s) {
  std::vector<DbSessionEnd> ends;
  std::unordered_map<int, std::size_t> by_port;  // a port reused keeps its latest client
  const std::string who = database + "/" + database + "@";
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t eol = log.find('\n', pos);
    if (eol == std::string_view::npos) eol = log.size();
    const std::string line(log.substr(pos, eol - pos));
    pos = eol + 1;
    // "2026-12-02 05:22:14.157 UTC [2983] LOG C-0x557e…: DB/USER@127.0.0.1:38790
    // closing because: client unexpected eof (age=0s)"
    const std::size_t client = line.find(" C-0x");
    if (client == std::string::npos) continue;
    const std::size_t at = line.find(": " + who, client);
    const std::size_t because = line.find(" closing because: ", client);
    if (at == std::string::npos || because == std::string::npos || because < at) continue;
    const std::string addr = line.substr(at + 2 + who.size(), because - at - 2 - who.size());
    const std::size_t colon = addr.rfind(':');
    if (colon == std::string::npos) continue;
    const int port = std::atoi(addr.c_str() + colon + 1);
    std::string reason = line.substr(because + std::strlen(" closing because: "));
    if (const std::size_t age = reason.rfind(" (age="); age != std::string::npos)
      reason.resize(age);
    DbSessionEnd end;
    end.pid = port;
    if (std::optional<std::int64_t> ms = LogTimeMs(line, utc_offset_s)) {
      end.ended = (*ms - epoch_unix_ms) * 1'000'000;
    }
    if (reason != "client close request") {
      end.client_vanished = StartsWith(reason, "client unexpected eof");
      end.terminated = !end.client_vanished;
      end.message = reason;
    }
    auto [it, added] = by_port.emplace(port, ends.size());
    if (added) {
      ends.push_back(std::move(end));
    } else {
      ends[it->second] = std::move(end);
    }
  }
  return ends;
}

std::vector<DbSessionEnd> ReadDbSessionEnds(const std::string& path, std::uintmax_t offset,
                                            const std::string& database, std::int64_t epoch_unix_ms,
                                            long utc_offset_s) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::stringstream text;
  text << in.rdbuf();
  return ParseDbSessionEnds(text.str(), database, epoch_unix_ms, utc_offset_s);
}

}  // namespace gracecheck
