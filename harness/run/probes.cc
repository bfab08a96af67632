#include "probes.h"

#include <dirent.h>
#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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
  const std::string status = ReadProcFile(base + "/status");
  if (status.empty()) return false;
  ProcSample s;
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

struct DbProbe::Connection {
  explicit Connection(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
};

DbProbe::DbProbe(std::string conninfo, std::string database, Clock::time_point epoch,
                 Duration interval, Duration dense_interval)
    : conninfo_(std::move(conninfo)),
      database_(std::move(database)),
      epoch_(epoch),
      schedule_(interval, dense_interval) {}

DbProbe::~DbProbe() { DbProbe::Stop(); }

void DbProbe::Connect() {
  auto conn = std::make_unique<Connection>(conninfo_);
  {
    pqxx::nontransaction tx(conn->conn);
    tx.exec(fmt::format("SET application_name = {}", tx.quote(kMonitorApplicationName)));
  }
  conn->conn.prepare("activity",
                     "SELECT pid, backend_start::text, coalesce(state, ''), "
                     "coalesce(client_port, 0), left(coalesce(query, ''), 120) "
                     "FROM pg_stat_activity WHERE datname = $1 "
                     "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                     // The harness's own sessions on the run's database
                     // (a db: {block: D} fault) are not the target's.
                     "AND usename IS DISTINCT FROM current_user");
  conn_ = std::move(conn);
}

void DbProbe::Start() {
  try {
    Connect();
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
  std::vector<std::tuple<int, std::string, std::string, int, std::string>> rows;
  try {
    if (!conn_) {
      Connect();
      std::lock_guard<std::mutex> lock(mu_);
      if (!outages_.empty() && outages_.back().back == kNever) {
        outages_.back().back = (Clock::now() - epoch_).count();
      }
    }
    pqxx::nontransaction tx(conn_->conn);
    s.sent = (Clock::now() - epoch_).count();
    pqxx::result r = tx.exec_prepared("activity", database_);
    s.t = (Clock::now() - epoch_).count();
    for (const auto& row : r) {
      rows.emplace_back(row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(),
                        row[3].as<int>(), row[4].as<std::string>());
    }
  } catch (const pqxx::failure& e) {
    // The monitor connection failed (a db: restart fault, or someone ended
    // it): kept as an outage, and a new connection (with the query
    // prepared again: it is per connection) is tried each round until one
    // is ready.
    const Nanos t = (Clock::now() - epoch_).count();
    const bool had_connection = conn_ != nullptr;
    conn_.reset();
    std::unique_lock<std::mutex> lock(mu_);
    if (had_connection) outages_.push_back({t, kNever, OneLine(e.what())});
    schedule_.WaitNext(lock, cv_, stop_);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  for (const auto& [pid, start, state, port, query] : rows) {
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
                                            const Timeline& tl) {
  std::vector<std::string> errors;
  if (proc.t != kNever) {
    errors.push_back(
        fmt::format("the /proc probe of the target stopped at {}: {}; no sample after it",
                    FormatMoment(proc.t, tl), proc.what));
  }
  if (db.t != kNever) {
    errors.push_back(fmt::format("the pg_stat_activity probe stopped at {}: {}; no sample after it",
                                 FormatMoment(db.t, tl), db.what));
  }
  for (const ProbeOutage& o : outages) {
    const bool restart = std::any_of(restarts.begin(), restarts.end(), [&](const RestartWindow& w) {
      return o.lost >= w.from && (w.to == kNever || o.lost <= w.to + kRestartOutageGrace);
    });
    if (restart && o.back != kNever) continue;
    std::string line = fmt::format("the database monitor connection was lost at {}: {}; ",
                                   FormatMoment(o.lost, tl), o.what);
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

std::vector<DbSession> DbProbe::TakeSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DbSession> out;
  for (auto& [key, session] : sessions_) out.push_back(std::move(session));
  sessions_.clear();
  return out;
}

DbCounters DbProbe::Counters() {
  DbCounters out;
  try {
    pqxx::connection c(conninfo_);
    pqxx::nontransaction tx(c);
    pqxx::result r = tx.exec_params(
        "SELECT sessions_abandoned, sessions_fatal, xact_rollback FROM pg_stat_database "
        "WHERE datname = $1",
        database_);
    if (r.empty()) return out;
    long long* fields[] = {&out.sessions_abandoned, &out.sessions_fatal, &out.xact_rollback};
    for (int i = 0; i < 3; ++i) {
      if (!r[0][i].is_null()) *fields[i] = r[0][i].as<long long>();
    }
  } catch (const std::exception&) {
  }
  return out;
}

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
    if (!j.is_object() || j.value("dbname", "") != database ||
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
