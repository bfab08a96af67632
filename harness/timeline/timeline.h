// The Timeline: everything one run recorded, on one clock. It is the single
// source of truth between recording (Run, Load, Probes, Faults) and judging
// (checks) and rendering (reports).
//
// Time: every moment (a `Nanos`: `t`, `spawned`, `exited`, …) is
// nanoseconds since the run's epoch, a steady_clock instant taken when the
// run starts (`epoch_unix_ms` is its wall-clock time, for people). kNever
// marks a moment that did not happen.
//
// Threading: recorders fill their own parts while the run goes (each part
// has one writer) and the Run assembles the Timeline when they have stopped;
// after that it is read-only and may be shared.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duration.h"

namespace gracecheck {

using Nanos = std::int64_t;
constexpr Nanos kNever = -1;

inline Duration ToDuration(Nanos n) { return Duration(n); }

// What happened to one request (DESIGN.md, "What each request's outcome is").
enum class Outcome : std::uint8_t {
  kOk,          // complete response with an expected status
  kHttpError,   // complete response, 5xx or not expected
  kRefused,     // never taken: connect refused or reset, or a new connection's write failed
  kIdleClosed,  // reused keep-alive connection the server had already closed
  kReset,       // RST before any response byte
  kEof,         // orderly close before any response byte
  kTruncated,   // part of a response, then close (or RST)
  kTimeout,     // no complete response within the request timeout
  // The load generator's own failure, not the server's: no socket (EMFILE,
  // ENFILE, ENOMEM, ENOBUFS) or no local address left (EADDRNOTAVAIL). The
  // request never left the client; a run with any is invalid (harness_errors).
  kClientError,
};
constexpr int kOutcomeCount = 9;
const char* OutcomeName(Outcome o);  // "ok", "http_error", ...

// Dropped = the server took the request and did not answer it properly.
// Refused and idle-closed requests were never taken (clients retry them).
// A client error is not the server's doing at all: never a drop.
inline bool IsDropped(Outcome o) {
  return o != Outcome::kOk && o != Outcome::kRefused && o != Outcome::kIdleClosed &&
         o != Outcome::kClientError;
}

// One request. Compact on purpose (issue: <= 64 bytes per recorded request).
struct RequestRecord {
  enum Flags : std::uint8_t {
    kAfterSignal =
        1,  // sent (or, if never sent, attempted) at or after first_signal (JSON: after_fault)
    kPrevConnectionClose = 2,  // the previous response on this connection said Connection: close
    kWriteFailed = 4,          // the request could not be written (EPIPE/ECONNRESET)
    kClosedBeforeWrite = 8,    // the connection was seen closed when about to be reused
    kNeverAcked = 16,          // closed (FIN) by a server whose TCP had not acknowledged it
    kByReset = 32,             // no response byte, and the connection ended in a reset, not a FIN
    kServerCpuWait = 64,       // judged once the server's wait for a CPU was left out (load.h)
  };
  // A request's id is its index in Timeline::requests (not stored: 4 bytes
  // of every record, which is what the load generator's memory is made of).
  std::uint32_t connection = 0;  // connection id, unique in the run
  std::uint16_t reuse = 0;       // requests sent on this connection before this one
  std::uint16_t kind = 0;        // index into the scenario's load.requests
  std::int16_t status = 0;       // HTTP status, 0 if none
  Outcome outcome = Outcome::kOk;
  std::uint8_t flags = 0;
  std::uint32_t bytes = 0;    // response bytes received
  Nanos intended = kNever;    // when the open model meant it to start (closed: = start)
  Nanos written = kNever;     // request fully written
  Nanos first_byte = kNever;  // first response byte (an interim 1xx response's too)
  Nanos done = kNever;        // outcome known
  Nanos connected = kNever;   // connection established (for a new connection), else kNever

  bool has(Flags f) const { return (flags & f) != 0; }
  bool dropped() const { return IsDropped(outcome); }
  // Latency from the intended start (no coordinated omission).
  Nanos latency() const { return done == kNever ? kNever : done - intended; }
};

// The write a request asked for, when its kind has a write_key.
struct WriteKey {
  std::uint32_t request_id;  // index in Timeline::requests
  std::string key;
};

struct ProcessEvent {
  enum class Kind : std::uint8_t {
    kSpawned,
    kReady,
    kSignalSent,    // value: signal number
    kExited,        // value: exit code
    kKilled,        // terminated by a signal; value: signal number
    kOrphanKilled,  // value: pid of a leftover process of the group, SIGKILLed after the run
  };
  Nanos t = 0;
  Kind kind = Kind::kSpawned;
  int value = 0;
  std::string detail;
};
const char* ProcessEventName(ProcessEvent::Kind k);

// A scripted fault and what became of it.
struct FaultRecord {
  std::string name;
  std::string action = "send";  // send, pause, kill_after, db, load
  int signal = 0;               // the signal its action sends first; 0 for db and load faults
  bool to_group = false;
  Nanos scheduled = kNever;  // when its trigger was met (for a time trigger: the exact time)
  Nanos delivered = kNever;  // when the action went out; kNever if it did not
  int deliveries = 0;        // signals sent (repeat, pause's SIGCONT, kill_after's SIGKILL)
  bool skipped = false;      // if_running and the target had already exited
  Duration tolerance{};
  std::string error;   // why it could not be delivered, if it was not
  std::string detail;  // what happened, e.g. "exited 1.2s after SIGTERM, no SIGKILL needed"
  Nanos lag() const {
    return delivered == kNever || scheduled == kNever ? kNever : delivered - scheduled;
  }
};

// /proc sample of the target process and its tree.
struct ProcSample {
  Nanos t = 0;  // when it began (the target's own status was read then)
  // When its reading of the tree ended: the descendants are read after the
  // target, so the sample shows the tree as it was before a moment only if
  // this is before it (a worker that left at the signal, read after it,
  // made a sample begun before the signal show a tree without workers).
  Nanos read_end = 0;
  // Threads of the whole tree: the target and every live descendant (a
  // pre-fork server's workers, the server behind a wrapper script).
  int threads = 0;
  int target_threads = 0;  // the target process's own
  int fds = 0;             // the target process's own
  std::int64_t rss_kb = 0;
  int children = 0;  // other live processes in the target's process group
  // Signal masks of the target's main thread (/proc/PID/status SigBlk,
  // SigIgn, SigCgt; bit N-1 for signal N), when signals_read.
  bool signals_read = false;
  std::uint64_t sig_blocked = 0;
  std::uint64_t sig_ignored = 0;
  std::uint64_t sig_caught = 0;
  // The set the main thread was waiting for in sigwait/sigtimedwait when
  // sampled (ReadSigwaitSet: the kernel takes it off SigBlk meanwhile).
  std::uint64_t sig_waited = 0;
};

// One process of the target's tree, as the /proc probe saw it: the target
// itself, and each descendant from the walk that found it (every 10 ms)
// until the first sample it was gone in. A pid the kernel reused is a new
// entry.
struct TreeProcess {
  int pid = 0;
  int ppid = 0;
  std::string command;  // the command line, arguments joined by spaces (at most 200 bytes)
  Nanos first_seen = kNever;
  Nanos last_seen = kNever;  // the last sample it was alive in
  Nanos gone = kNever;       // the first sample it was not (kNever: alive when sampling ended)
  // Its thread count, (t, threads) at first sight and whenever it changed.
  std::vector<std::pair<Nanos, int>> threads;

  // The count at `t`, or -1 when it was not seen alive then.
  int ThreadsAt(Nanos t) const;
  // The lowest count over [from, until) (until kNever: to its end), or -1
  // when it was not alive at `from` or was gone by `until`.
  int LowestThreads(Nanos from, Nanos until) const;
};

// pg_stat_activity sample of the run's database (client backends only).
struct DbSample {
  // The snapshot was taken between `sent` (its query went out) and `t` (the
  // answer came back): a claim that it shows the state after some moment
  // holds only if `sent` is after it.
  Nanos t = 0;
  Nanos sent = 0;
  int active = 0;
  int idle = 0;
  int idle_in_transaction = 0;
  int other = 0;
  int total() const { return active + idle + idle_in_transaction + other; }
};

// One session of the run's database, as the probe saw it come and go.
struct DbSession {
  int pid = 0;
  std::string backend_start;  // identity together with pid
  int client_port = 0;
  Nanos first_seen = kNever;
  Nanos last_seen = kNever;
  Nanos last_seen_sent = kNever;  // the `sent` of the sample that last showed it
  std::string last_state;         // state in the last sample that showed it
  Nanos state_since = kNever;     // first sample of the unbroken run of samples showing last_state
  std::string last_query;         // truncated
};

// How one session of the run's database ended, in the embedded cluster's own
// words (its JSON-lines log: log_disconnections, and the message a backend
// logs when its client vanished). Times come from the log's wall clock, which
// has millisecond resolution: they are within kLogTimeError of the truth.
struct DbSessionEnd {
  int pid = 0;
  Nanos ended = kNever;           // its "disconnection" line; kNever if none was logged
  bool client_vanished = false;   // the client went away without a Terminate message
  bool open_transaction = false;  // ... while a transaction was open ("with an open transaction")
  bool mid_query = false;         // ... while a query ran: its answer could not be sent (FATAL)
  bool terminated = false;        // ended by the server (pg_terminate_backend, a restart)
  int unknown_statements = 0;     // 'prepared statement "x" does not exist' errors in it
  bool cancelled = false;         // a query of it was cancelled ("canceling statement due to
                                  // user request": PQcancel, pg_cancel_backend)
  std::string state;    // the session's state when the message was logged ("idle in transaction")
  std::string message;  // the message that explains an abnormal end; empty for a clean close
};
constexpr Nanos kLogTimeError = 2'000'000;  // 1 ms of log resolution + 1 ms of epoch resolution

// A per-run pooler between the target and the database (target.pooler).
// With one, Timeline's db_samples, db_sessions and db_session_ends are the
// target's connections to the pooler (its admin console and its log): the
// sessions the target opens and closes. What the server saw, the pooler's
// own connections to it, is kept here: the checks of what runs on the
// server (db.orphaned_queries, db.idle_in_transaction) judge these.
struct PoolerView {
  std::string describe;  // "PgBouncer 1.18.0, session mode, on 127.0.0.1:4123"
  std::vector<DbSample> server_samples;
  std::vector<DbSession> server_sessions;
  bool server_log_read = false;
  std::vector<DbSessionEnd> server_session_ends;
  long long server_sessions_abandoned = -1;  // pg_stat_database deltas
  long long server_sessions_fatal = -1;
};

struct Timeline {
  std::string scenario;
  std::string scenario_file;  // the scenario's path, as given on the command line
  std::string scenario_sha256;              // of its bytes
  std::vector<std::string> target_command;  // as written, placeholders and all (a replay's)
  std::vector<std::string> target_argv;     // as spawned (secrets masked in the reports)
  std::string target_name;
  std::int64_t epoch_unix_ms = 0;  // wall clock at the epoch, for people

  int target_pid = 0;
  Nanos spawned = kNever;
  Nanos ready = kNever;
  Nanos load_start = kNever;
  Nanos load_end = kNever;
  Nanos first_signal =
      kNever;             // the first fault that signals the target, delivered (JSON: first_fault)
  Nanos exited = kNever;  // target reaped
  bool exit_signaled = false;
  int exit_code = 0;
  int exit_signal = 0;
  // Pids of the group and tree still alive kOrphanSettle after the target
  // exited, SIGKILLed then by gracecheck.
  std::vector<int> orphans;

  std::vector<RequestRecord> requests;
  // When the load generator's loop ran late (LoadGenerator::TakeStalls), in
  // order: the request stamps it took inside one may be late by the overlap.
  std::vector<std::pair<Nanos, Nanos>> generator_stalls;
  // Requests re-judged by ExcuseServerCpuWaits: request id -> how long of
  // their write-to-close was left out as the target's wait for a CPU.
  std::map<std::uint32_t, Nanos> server_cpu_waits;
  // What each RequestRecord::kind is: "METHOD path-template" per entry of
  // the scenario's load.requests, for evidence lines.
  std::vector<std::string> request_kinds;
  std::vector<WriteKey> write_keys;
  std::vector<ProcessEvent> process_events;
  std::vector<FaultRecord> faults;
  std::vector<ProcSample> proc_samples;
  // The target's tree, the target first, then in the order first seen.
  std::vector<TreeProcess> processes;
  // The processes of the tree that held the listening socket once the
  // target was ready (a wrapper's child, a pre-fork master and its workers).
  std::vector<int> listeners;
  std::vector<DbSample> db_samples;
  std::vector<DbSession> db_sessions;
  std::optional<PoolerView> pooler;
  // Why db_samples and db_sessions are not the target's sessions (a pooler
  // between gracecheck and the server), or "": the session checks skip.
  std::string sessions_unmeasurable;
  Nanos db_sessions_gone = kNever;  // first sample after exit with no session left
  // The cluster's log, read after the run: embedded cluster only (an
  // external server's log is not ours to read).
  bool db_log_read = false;
  std::vector<DbSessionEnd> db_session_ends;

  // Writes: keys acknowledged (2xx) that verify_sql did not return, and keys
  // present whose request was not acknowledged. Empty when not verified.
  bool writes_verified = false;
  std::vector<std::string> lost_writes;
  std::vector<std::string> unacknowledged_applied;

  // Threads: the count in the last sample before load began, and the lowest
  // count between the end of the load and the first fault (kUnknown when the
  // fault came during the load).
  static constexpr int kUnknown = -1;
  int threads_before_load = kUnknown;
  int threads_idle_after_load = kUnknown;
  // When the tree (its processes and their threads) was first seen
  // unchanged for a while after readiness, before the load: kNever if it
  // still changed when the harness stopped waiting (RunState::WaitForTheTree).
  Nanos tree_settled = kNever;
  std::vector<std::pair<std::string, int>> thread_names_at_exit;  // comm -> count

  // pg_stat_database.sessions_abandoned for the run's database, after minus
  // before (kUnknown if it could not be read).
  long long sessions_abandoned = kUnknown;
  // pg_stat_database.sessions_fatal likewise: sessions ended by a FATAL
  // error, among them "connection to client lost" (the client vanished
  // while a query ran: the answer could not be sent).
  long long sessions_fatal = kUnknown;
  // pg_stat_database.xact_rollback likewise: transactions that ended in a
  // rollback, the explicit ones and those of a session that ended in one.
  long long xact_rollback = kUnknown;

  std::uint64_t seed = 0;
  std::string target_log_tail;  // last lines of the target's stdout/stderr
  // Why the target never became ready ("the target exited before it was
  // ready (exit 1)"): the run stopped there, nothing was judged, and its
  // verdict is an error.
  std::string start_error;

  // What went wrong in the harness itself during the run, one line each
  // ("the database monitor connection was lost at +120.0ms: ..."): a probe
  // that died, the monitor connection lost, the load generator unable to
  // open sockets. Any line makes the run invalid (verdict "error"): its
  // record is incomplete, so its checks prove nothing either way.
  std::vector<std::string> harness_errors;
  // What a reader of the verdict should know that is no verdict, one line
  // each: the target is a wrapper whose child serves (signals reach the
  // wrapper), ... Never makes a run fail or invalid.
  std::vector<std::string> warnings;
};

// How long after the target's exit a descendant may take to exit by itself
// before it is an orphan. Python's multiprocessing resource tracker, whose
// cue is its parent's exit, leaves 8-11 ms after a `uvicorn --workers 2`
// supervisor on an idle machine, and up to 354 ms on a loaded one (its
// interpreter's teardown waits for a CPU); see DESIGN.md.
constexpr Nanos kOrphanSettle = 1'000'000'000;

// How much of [from, to] lies inside `stretches` ([from, to] each, in
// order, disjoint), e.g. Timeline::generator_stalls.
Nanos OverlapWith(const std::vector<std::pair<Nanos, Nanos>>& stretches, Nanos from, Nanos to);

// A request's id: its index in tl.requests (`r` must be one of them).
inline std::uint32_t RequestId(const Timeline& tl, const RequestRecord& r) {
  return static_cast<std::uint32_t>(&r - tl.requests.data());
}

// The request a write key belongs to, or nullptr if there is none such.
inline const RequestRecord* RequestOf(const Timeline& tl, const WriteKey& w) {
  return w.request_id < tl.requests.size() ? &tl.requests[w.request_id] : nullptr;
}

}  // namespace gracecheck
