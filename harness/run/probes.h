// Probes: what the target and its database sessions look like over time.
//
// ProcProbe samples /proc/PID of the target (threads, open fds, RSS, live
// descendants, and each descendant's threads: the tree) every `interval`, and every
// `dense_interval` once SetDense() is called (from the first fault until exit), so that the last
// sample before the exit is close to it. Samples are due at a fixed rate (one interval after the
// previous one was due, not after it ended), so a sample's own cost does not slow the rate; one
// that overruns is followed at once, without catching up. It remembers every descendant it ever
// saw, so that processes that escaped the group can be found after the exit.
//
// DbProbe samples pg_stat_activity for the run's database (every 10 ms, and
// every 4 ms once SetDense() is called) from its own monitor connection (autocommit, so each sample
// is a fresh snapshot): sessions by state, and each session's identity (pid, backend_start) so that
// its first and last sighting are known. Sessions of the harness's own role (a db: {block: D}
// fault's) are not counted.
//
// A probe never throws from its thread: what stops it (an exception while
// sampling) is kept as its error(), and DbProbe keeps each loss of its
// monitor connection (outages()); RunScenario makes them the run's harness
// errors.
//
// Threading: each probe samples on its own thread; Start/SetDense/Stop and
// the accessors may be called from any other thread; Take*, error() and
// outages() after Stop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "timeline.h"

namespace gracecheck {

// When the next sample of a probe is due: `sparse` apart, `dense` apart
// after SetDense. Used under the probe's mutex.
class ProbeSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  ProbeSchedule(Duration sparse, Duration dense) : sparse_(sparse), dense_(dense) {}
  // Switches to `dense` and wakes the probe's wait (`mu`: the probe's mutex,
  // which WaitNext is called under).
  void SetDense(std::mutex& mu, std::condition_variable& cv) {
    {
      std::lock_guard<std::mutex> lock(mu);  // not between WaitNext's check and its wait
      is_dense_ = true;
    }
    cv.notify_all();
  }
  // Waits until the next sample is due, the probe stops, or SetDense (which
  // makes the next sample due at once). False once stopped.
  bool WaitNext(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                const std::atomic<bool>& stop);

 private:
  Duration sparse_;
  Duration dense_;
  bool is_dense_ = false;
  Clock::time_point due_{};
};

// Why a probe's thread stopped sampling before it was told to.
struct ProbeError {
  Nanos t = kNever;  // kNever: it did not
  std::string what;
};

// A loss of DbProbe's monitor connection: when a query on it failed, and
// when a new connection was ready (kNever: not before the probe stopped).
struct ProbeOutage {
  Nanos lost = kNever;
  Nanos back = kNever;
  std::string what;
};

// When the harness restarted the cluster (a db: restart fault), from the
// restart's start to the server being back.
struct RestartWindow {
  Nanos from = kNever;
  Nanos to = kNever;
};

// A monitor connection lost within this long after a restart the harness
// made, and back by the end, was the restart's doing (the probe's next query
// meets the closed connection up to a round after the server is back).
constexpr Nanos kRestartOutageGrace = 1'000'000'000;

// How the harness errors name the session probe and its connection: the
// server's pg_stat_activity, or behind a per-run pooler its SHOW CLIENTS.
struct DbSourceNames {
  std::string_view probe = "the pg_stat_activity probe";
  std::string_view connection = "the database monitor connection";
};
inline constexpr DbSourceNames kPoolerClientsNames{"the pooler's SHOW CLIENTS probe",
                                                   "the pooler's admin console connection"};

// What the probes could not do, as the run's harness errors
// (Timeline::harness_errors; `tl` for moments). A loss of the monitor
// connection is one, even when a new connection came back at once: nobody
// knows what the samples it missed would have shown (a session open only
// then, the moment the last one went). Only a db: restart fault's own loss
// is not, when the connection came back.
std::vector<std::string> ProbeHarnessErrors(const ProbeError& proc, const ProbeError& db,
                                            const std::vector<ProbeOutage>& outages,
                                            const std::vector<RestartWindow>& restarts,
                                            const Timeline& tl, const DbSourceNames& names = {});

// The monitor connection's application_name, so that a DBA (or a test) can
// tell it apart in pg_stat_activity.
constexpr const char* kMonitorApplicationName = "gracecheck-monitor";

// The two probes as a run drives them (run.h): ProcProbe and DbProbe are
// the real ones, a unit test's fakes stand in for them (run_seams_test.cc).
class ProcWatch {
 public:
  virtual ~ProcWatch() = default;
  virtual void Start() = 0;
  virtual void SetDense() = 0;
  // Stops sampling (also stops by itself when the process is gone).
  virtual void Stop() = 0;
  // The latest sample (for live progress); t == 0 before the first.
  virtual ProcSample Latest() const = 0;
  // Waits until the probe has taken `n` samples in all; false if it had not
  // within `timeout` (or stopped first).
  virtual bool WaitForSamples(std::size_t n, Duration timeout) const = 0;
  // True once sampling ended because the process was gone (or Stop).
  virtual bool ended() const = 0;
  virtual std::vector<ProcSample> TakeSamples() = 0;
  virtual std::set<int> Descendants() const = 0;  // every descendant pid ever seen
  // After Stop: the tree, the target first (Timeline::processes).
  virtual std::vector<TreeProcess> TakeProcesses() = 0;
  // Thread names (comm) in the latest sample that had them, name -> count.
  virtual std::map<std::string, int> ThreadNames() const = 0;
  virtual ProbeError error() const = 0;
};

// pg_stat_database's counters for a database (-1 each if unknown).
struct DbCounters {
  long long sessions_abandoned = -1;
  long long sessions_fatal = -1;
  long long xact_rollback = -1;
};

// What the counters counted from `before` to `after`, each -1 where either
// is unknown.
DbCounters CountedSince(const DbCounters& before, const DbCounters& after);

class DbWatch {
 public:
  virtual ~DbWatch() = default;
  // Connects (throws std::runtime_error if it cannot) and starts sampling.
  virtual void Start() = 0;
  virtual void SetDense() = 0;
  virtual void Stop() = 0;
  virtual DbSample Latest() const = 0;
  // Waits until a sample taken after `after` shows no session, or `timeout`.
  // Returns the time of that sample, or kNever.
  virtual Nanos WaitSessionsGone(Nanos after, Duration timeout) = 0;
  // Waits until a sample taken at or after `t` exists (or `timeout`).
  virtual void WaitSampleAt(Nanos t, Duration timeout) = 0;
  virtual std::vector<DbSample> TakeSamples() = 0;
  virtual std::vector<DbSession> TakeSessions() = 0;
  // The roles other than the run's (and the harness's) seen on the run's
  // database: their sessions are not counted as the target's.
  virtual std::set<std::string> OtherRoles() const { return {}; }
  // The database's counters, now.
  virtual DbCounters Counters() = 0;
  virtual ProbeError error() const = 0;
  virtual std::vector<ProbeOutage> outages() const = 0;
};

class ProcProbe : public ProcWatch {
 public:
  using Clock = std::chrono::steady_clock;
  ProcProbe(int pid, Clock::time_point epoch, Duration interval = std::chrono::milliseconds(10),
            Duration dense_interval = std::chrono::microseconds(500));
  ~ProcProbe() override;

  void Start() override;
  void SetDense() override;
  void Stop() override;
  ProcSample Latest() const override;
  bool WaitForSamples(std::size_t n, Duration timeout) const override;
  bool ended() const override;
  std::vector<ProcSample> TakeSamples() override;
  std::set<int> Descendants() const override;
  std::vector<TreeProcess> TakeProcesses() override;
  std::map<std::string, int> ThreadNames() const override;
  ProbeError error() const override;

 private:
  void Loop();
  bool SampleOnce();
  // The live descendants' thread counts at `t` (new ones from `walked`,
  // those gone marked so): their sum.
  int SampleTree(Nanos t, const std::set<int>* walked);

  int pid_;
  Clock::time_point epoch_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  mutable std::condition_variable sampled_;  // a sample was added, or the probe ended
  bool ended_ = false;                       // under mu_
  ProbeSchedule schedule_;                   // under mu_
  Clock::time_point last_walk_{};
  Clock::time_point last_named_{};
  std::vector<ProcSample> samples_;
  std::set<int> descendants_;
  std::map<std::string, int> thread_names_;
  int last_named_threads_ = -1;
  ProbeError error_;  // under mu_
  // The tree (the probe's thread writes it, TakeProcesses after Stop), and
  // which of its entries are alive: pid -> index.
  std::vector<TreeProcess> tree_;
  std::map<int, std::size_t> live_;
};

// Where a DbProbe reads the sessions from: pg_stat_activity (the server's
// sessions), or a pooler's admin console (the target's connections to it).
class SessionSource {
 public:
  // One session, as the source names it.
  struct Row {
    int pid = 0;        // a pooler's client: its port
    std::string start;  // identity together with pid
    std::string state;  // "active", "idle", "idle in transaction", ...
    int client_port = 0;
    std::string query;  // truncated; "" where the source has none
    std::string role;
  };
  // The connection failed or was lost: an outage, retried.
  class Lost : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };
  virtual ~SessionSource() = default;
  // Connects (throws Lost, or std::runtime_error when it never could).
  virtual void Connect() = 0;
  virtual bool connected() const = 0;
  virtual void Disconnect() = 0;
  // The sessions of `database` now, the harness's own left out (throws Lost).
  virtual std::vector<Row> Read(const std::string& database) = 0;
  // The database's counters (pg_stat_database); unknown where the source
  // has none.
  virtual DbCounters Counters(const std::string& database) = 0;
};

// pg_stat_activity and pg_stat_database over the harness's admin connection.
std::unique_ptr<SessionSource> ServerSessions(std::string conninfo);
// A PgBouncer's SHOW CLIENTS over its admin console: the target's client
// connections to it. `state` is "active" for a client paired with a server
// connection, "idle" for one that is not (transaction mode, between
// transactions), "waiting" for one waiting for a server connection.
std::unique_ptr<SessionSource> PoolerClients(std::string admin_conninfo);

class DbProbe : public DbWatch {
 public:
  using Clock = std::chrono::steady_clock;
  // `conninfo`: the harness's admin connection; `database`: the run's.
  DbProbe(std::string conninfo, std::string database, Clock::time_point epoch,
          Duration interval = std::chrono::milliseconds(10),
          Duration dense_interval = std::chrono::milliseconds(4));
  DbProbe(std::unique_ptr<SessionSource> source, std::string database, Clock::time_point epoch,
          Duration interval = std::chrono::milliseconds(10),
          Duration dense_interval = std::chrono::milliseconds(4));
  ~DbProbe() override;

  void Start() override;
  void SetDense() override;
  void Stop() override;
  DbSample Latest() const override;
  Nanos WaitSessionsGone(Nanos after, Duration timeout) override;
  void WaitSampleAt(Nanos t, Duration timeout) override;
  std::vector<DbSample> TakeSamples() override;
  std::vector<DbSession> TakeSessions() override;
  std::set<std::string> OtherRoles() const override;
  DbCounters Counters() override;
  ProbeError error() const override;
  std::vector<ProbeOutage> outages() const override;

 private:
  void Loop();
  void Sample();

  std::unique_ptr<SessionSource> source_;  // the probe's thread's, once started
  std::string database_;
  Clock::time_point epoch_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  ProbeSchedule schedule_;  // under mu_
  std::vector<DbSample> samples_;
  std::map<std::pair<int, std::string>, DbSession> sessions_;
  std::set<std::string> other_roles_;  // under mu_
  ProbeError error_;                  // under mu_
  std::vector<ProbeOutage> outages_;  // under mu_
};

// The embedded cluster's log (PostgreSQL's jsonlog: one JSON object per
// line, log_disconnections on): how each client session of `database` by its
// role of the same name (the run's) ended,
// in the order the sessions first appear. `epoch_unix_ms` and `utc_offset_s`
// (log_timezone's offset from UTC, in seconds) put the log's wall-clock times
// on the run's clock. Lines that are not JSON (the last one, cut short while
// the server writes it) are skipped.
std::vector<DbSessionEnd> ParseDbSessionEnds(std::string_view jsonl, const std::string& database,
                                             std::int64_t epoch_unix_ms, long utc_offset_s);
// How each client of a per-run PgBouncer (`database`, by its role of the
// same name) ended, from the pooler's log (log_disconnections): "client
// close request" is a clean close; "client unexpected eof" a client that
// vanished (client_vanished, message); any other reason the pooler's own
// doing (terminated, message). `pid` carries the client's port, as the
// admin console's SHOW CLIENTS does for PoolerClients. Times: as above,
// the log's wall clock in its zone.
std::vector<DbSessionEnd> ParsePoolerClientEnds(std::string_view log, const std::string& database,
                                                std::int64_t epoch_unix_ms, long utc_offset_s);
// The same, from the log file, starting at byte `offset` (its size when the
// run began). Empty when the file cannot be read.
std::vector<DbSessionEnd> ReadDbSessionEnds(const std::string& path, std::uintmax_t offset,
                                            const std::string& database, std::int64_t epoch_unix_ms,
                                            long utc_offset_s);

}  // namespace gracecheck
