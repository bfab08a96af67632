// A scenario: one graceful-shutdown experiment, read from a YAML file. It
// names the target to start, the load to drive at it, the faults to inject at
// scripted moments, and what must hold afterwards. The format is documented
// for users in scenarios/README.md and formally in
// scenarios/scenario.schema.json; the parser here is the reference.
//
// A file is validated completely before anything runs: ParseScenario reports
// every problem it finds, each as `file:line:col: message`, and returns a
// Scenario only when there is none. Strings that may hold placeholders
// ({port}, {key}, …; see placeholders.h) are compiled here, so an unknown
// placeholder is a validation error with its position.
//
// Defaults (what an absent key means):
//   name                      the file name without directory and extension
//   description               empty
//   target.shell              false: command is an argv list (a string is split
//                             like a shell would, see command_line.h)
//   target.env                none added (the target inherits the harness's environment)
//   target.ready              {http_get: /healthz, timeout: 10s, interval: 50ms}:
//                             ready once GET returns 2xx
//   target.signal_to          process (the target's pid); group: its process group
//   load                      absent: no load; time 0 is when the target became ready
//   load.model                open (arrivals at `rate`, which is then required)
//   load.connections          32 (open: at most this many at once; closed: this
//                             many loops sending back to back)
//   load.duration             5s
//   load.keep_alive           true
//   load.timeout              5s per request
//   requests[].weight         1
//   requests[].method         GET
//   requests[].body           empty
//   requests[].expect_status  any 2xx
//   requests[].write_key      none: the request is not a write
//   faults[].name             the signal's name ("SIGTERM"), with " #N" added
//                             (N = 1-based position) when two would be alike
//   faults[].to               target.signal_to
//   faults[].if_running       false: a target that already exited is a fault
//                             that could not be delivered
//   faults[].tolerance        100ms of lateness allowed before faults.delivered fails
//   expect.dropped            0
//   expect.dropped_after_signal  unset: `dropped` counts every request
//   expect.allow_after_signal none
//   expect.exit               {code: graceful, within: 10s}: exit 0, or 128+N
//                             after a signal N gracecheck sent (ExitExpectation);
//                             `within` counted from the first fault's delivery
//   expect.lame_duck          not checked (a duration: no connection refused that
//                             long after the first fault)
//   expect.threads            not checked
//   expect.db_sessions        {after_exit: 0, abandoned: 0, closed_before_drain: 0,
//                             orphaned_queries: 0, idle_in_transaction: 0, settle: 1s};
//                             max (sessions at once) not checked
//   expect.writes             not checked; when given, verify_sql is required
//                             and lost defaults to 0
//
// Time 0 for fault triggers is the start of load, or the moment the target
// became ready when there is no load.
//
// Threading: parsing is a pure function. A Scenario is a value; share it
// read-only between threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "duration.h"
#include "faults/action.h"
#include "file_error.h"
#include "placeholders.h"
#include "triggers/trigger.h"

namespace gracecheck {

// One problem with a scenario file (file_error.h).
using ScenarioError = FileError;

enum class SignalTarget { kProcess, kGroup };
enum class LoadModel { kOpen, kClosed };

// Arrivals per unit of time, as written "500/s", "20/ms", "90/m", "3/h", or
// vegeta's "50/100ms". Positive and at most 1,000,000/s.
struct Rate {
  double per_second = 0;
  Duration Interval() const;     // time between two arrivals
  std::string ToString() const;  // "500/s"
};
std::optional<Rate> ParseRate(std::string_view text, std::string* error = nullptr);

// Which HTTP statuses count as expected: exact codes and classes ("2xx").
class StatusSet {
 public:
  StatusSet() = default;          // empty: contains nothing
  static StatusSet Successful();  // 200..299
  void Add(int lo, int hi);       // inclusive
  bool Contains(int status) const;
  bool empty() const { return ranges_.empty(); }
  std::string ToString() const;  // "200, 3xx"

 private:
  std::vector<std::pair<int, int>> ranges_;
};

struct ReadyProbe {
  Template http_get = Template::Literal("/healthz");  // request path
  Duration timeout = std::chrono::seconds(10);        // from spawn to ready
  Duration interval = std::chrono::milliseconds(50);  // between probes
};

// A connection pooler gracecheck starts for the run between the target and
// its database (target.pooler): PgBouncer, the only kind so far.
struct PoolerSpec {
  std::string mode = "session";  // PgBouncer's pool_mode: session or transaction
  int pool_size = 50;            // server connections at most (default_pool_size)
  SourcePos pos;                 // of target.pooler, for messages
};

struct TargetSpec {
  // argv with per-run placeholders; with `shell`, a single element: the script.
  std::vector<Template> command;
  bool shell = false;
  std::vector<std::pair<std::string, Template>> env;  // added to the harness's environment
  ReadyProbe ready;
  SignalTarget signal_to = SignalTarget::kProcess;
  std::optional<PoolerSpec> pooler;

  // What to execute, placeholders expanded: `command`, or
  // {"/bin/sh", "-c", script} with `shell`. nullopt (reason in *error) when
  // a placeholder cannot be filled.
  std::optional<std::vector<std::string>> Argv(const RunValues& values,
                                               std::string* error = nullptr) const;
};

// One kind of request in the load mix.
struct RequestSpec {
  int weight = 1;  // relative frequency
  std::string method = "GET";
  Template path;  // starts with '/'
  Template body;
  std::vector<std::pair<std::string, Template>> headers;
  std::optional<Template> write_key;  // set: a 2xx response acknowledges a write with this key
  StatusSet expect_status = StatusSet::Successful();
  SourcePos pos;  // of the list item, for messages
};

struct LoadSpec {
  LoadModel model = LoadModel::kOpen;
  std::optional<Rate> rate;  // set exactly when model is kOpen
  int connections = 32;
  Duration duration = std::chrono::seconds(5);
  bool keep_alive = true;
  Duration timeout = std::chrono::seconds(5);
  std::vector<RequestSpec> requests;  // at least one
};

struct Fault {
  std::string name;  // unique within the scenario
  Trigger trigger;   // when it fires (triggers/trigger.h)
  std::optional<Duration>
      timeout;         // fail faults.delivered if the trigger is not met by then (after time 0)
  FaultAction action;  // what it does (faults/action.h)
  SignalTarget to = SignalTarget::kProcess;
  bool if_running = false;  // true: skip, without failing, if the target already exited
  Duration tolerance = std::chrono::milliseconds(100);
  SourcePos pos;  // of the list item
};

// How the target must end. By default (and with `code: graceful`) an exit
// with code 0, or with 128+N after gracecheck sent it a signal N that a
// process can handle (not SIGKILL, SIGSTOP, SIGCONT): the convention of the
// JVM (143 after SIGTERM) and of shells for "ended because of signal N". A
// process *killed* by the signal never handled it and does not match.
struct ExitExpectation {
  bool signaled = false;         // false: exits with an accepted code; true: killed by `signal`
  std::vector<int> codes = {0};  // accepted exit codes, as listed (0 for `graceful`)
  bool graceful = true;          // also 128+N for each handleable signal N sent
  int signal = 0;
  Duration within = std::chrono::seconds(10);  // from the first fault's delivery
};

struct ThreadExpectation {
  std::optional<int> growth;   // idle threads after load minus before load
  std::optional<int> at_exit;  // threads in the last sample before exit
  SourcePos growth_pos;        // of the key, for warnings (scenario_warnings.h)
};

struct DbSessionExpectation {
  int after_exit = 0;
  int abandoned = 0;
  int closed_before_drain = 0;  // requests served or in flight once the pool began closing
  int orphaned_queries = 0;     // sessions allowed to stay active after the exit (a forced exit)
  int idle_in_transaction = 0;  // transactions allowed to be left open at the exit
  std::optional<int> max;       // sessions of the run's database at once; unset: not checked
  Duration settle = std::chrono::seconds(1);  // wait this long for sessions to go
  SourcePos closed_before_drain_pos;          // of the key when given, for warnings
};

struct WritesExpectation {
  int lost = 0;
  Template verify_sql;  // returns one column: the keys present in the database
};

struct Expectations {
  // Dropped requests allowed. With dropped_after_signal, requests sent after
  // the first fault fired count against that instead, and `dropped` limits
  // only those sent before it.
  int dropped = 0;
  std::optional<int> dropped_after_signal;
  // For requests sent after the first fault: these statuses count as ok and
  // these outcomes (timeline names: "reset", "eof", …) are not drops.
  StatusSet allow_status_after_signal;
  std::vector<std::string> allow_outcomes_after_signal;
  ExitExpectation exit;
  // Lame duck: for this long after the first fault the target keeps
  // accepting connections (none refused). Unset: not checked.
  std::optional<Duration> lame_duck;
  SourcePos lame_duck_pos;  // of the key when given, for warnings
  std::optional<ThreadExpectation> threads;
  DbSessionExpectation db_sessions;
  std::optional<WritesExpectation> writes;
  // Where the keys the checks judge are in the file, by dotted path
  // ("expect", "expect.dropped", "expect.db_sessions.max", "faults"): the
  // line a failed check points at (GitHub annotations).
  std::map<std::string, SourcePos> positions;
};

struct Scenario {
  std::string file;    // as given to the parser
  std::string sha256;  // of the file's bytes (ParseScenarioFile), for the reports
  std::string name;
  std::string description;
  TargetSpec target;
  std::optional<LoadSpec> load;
  std::vector<Fault> faults;  // at least one
  Expectations expect;
};

struct ParseOptions {
  // Binaries a scenario may name as placeholders ({refapi}).
  std::vector<std::string> binaries = {"refapi"};
};

struct ParseResult {
  std::optional<Scenario> scenario;   // set exactly when errors is empty
  std::vector<ScenarioError> errors;  // every problem, in file order
  bool ok() const { return errors.empty(); }
};

// `filename` is used in messages and for the default name.
ParseResult ParseScenario(std::string_view text, const std::string& filename,
                          const ParseOptions& options = {});
ParseResult ParseScenarioFile(const std::string& path, const ParseOptions& options = {});

// For `gracecheck validate FILE…`: every problem in every file, in order.
// With `warnings`, also every warning about a valid file
// (ScenarioWarnings, scenario_warnings.h). Prints nothing.
std::vector<ScenarioError> ValidateScenarioFiles(const std::vector<std::string>& paths,
                                                 const ParseOptions& options = {},
                                                 std::vector<ScenarioError>* warnings = nullptr);

// `--target NAME='cmd …'`: a target from the command line, replacing the
// scenario's command (ready probe, env and signal_to stay the scenario's).
struct TargetOverride {
  std::string name;
  std::vector<Template> command;
};
// Parses "NAME=cmd …"; nullopt with a one-line reason on failure.
std::optional<TargetOverride> ParseTargetOverride(std::string_view spec,
                                                  const ParseOptions& options = {},
                                                  std::string* error = nullptr);
void ApplyTargetOverride(const TargetOverride& target, Scenario* scenario);

std::string_view ToString(SignalTarget to);  // "process", "group"
std::string_view ToString(LoadModel model);  // "open", "closed"

}  // namespace gracecheck
