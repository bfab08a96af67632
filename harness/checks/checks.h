// Checks: pure functions `Timeline × Expectations → CheckResult` that judge
// a finished run (DESIGN.md, "Checks"). Each check has a stable name (a JSON
// key and a JUnit test case), says what it expected and what it observed, and
// on failure gives evidence: at most ~10 self-contained lines, with moments
// relative to the first fault's delivery ("+12.3ms"; "t=1.234s" since the
// run's epoch when no fault was delivered).
//
// A check that cannot measure what it judges (e.g. thread growth when the
// fault came during the load) is *skipped*, its reason in `observed`
// ("not measurable: …"): it is neither a pass nor a failure of the target.
// A run whose checks all passed or were skipped passes; one failed check
// fails it.
//
// Threading: pure functions over read-only inputs; call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario.h"
#include "timeline.h"

namespace gracecheck {

enum class CheckStatus { kPassed, kFailed, kSkipped };
const char* CheckStatusName(CheckStatus s);  // "passed", "failed", "skipped"
std::optional<CheckStatus> ParseCheckStatus(const std::string& name);

struct CheckResult {
  std::string name;  // stable: "requests.dropped", ...
  CheckStatus status = CheckStatus::kFailed;
  std::string expected;               // "<= 0 dropped", "exit 0 within 10s"
  std::string observed;               // "3 dropped (2 eof, 1 reset)"
  std::vector<std::string> evidence;  // at most ~10 lines, each self-contained
  // The scenario's line of the expectation judged (its key, else the
  // nearest enclosing one, else `expect`); line 0 when unknown.
  SourcePos where;

  bool passed() const { return status == CheckStatus::kPassed; }
  bool failed() const { return status == CheckStatus::kFailed; }
  bool skipped() const { return status == CheckStatus::kSkipped; }
  // kPassed when `ok`, else kFailed.
  void Judge(bool ok) { status = ok ? CheckStatus::kPassed : CheckStatus::kFailed; }
  // Skipped, `why` ("the fault came during the load") in observed as
  // "not measurable: why".
  void Skip(const std::string& why);
};

// One row of the table of checks (CheckTable): its stable name, when it
// applies (nullptr: always; else only when the scenario asked for it), and
// its judge. A judge leaves `name` empty; RunChecks fills it from the row.
// Adding a check is one judge in its family's file under checks/ (or a new
// file there) and one row; RunChecks and CheckOrder derive from the table.
struct CheckSpec {
  const char* name;
  bool (*applies)(const Timeline& tl, const Expectations& expect);
  CheckResult (*judge)(const Timeline& tl, const Expectations& expect);
  // Judges what ran on the server: behind a per-run pooler, the pooler's
  // connections to it (ServerSide), not the target's to the pooler.
  bool server_side = false;
  // The scenario key it judges (Expectations::positions), for `where`.
  const char* key = "expect";
};
const std::vector<CheckSpec>& CheckTable();

// Behind a per-run pooler (Timeline::pooler), `tl` with its sessions
// replaced by the server's view of the pooler's connections (and no pooler):
// what the checks of the server side judge.
Timeline ServerSide(const Timeline& tl);

// Every check that applies, in the order of DESIGN.md's table.
// `threads.*` only when expect.threads sets them; `writes.lost` only when
// expect.writes is set (skipped if the writes were not verified); `requests.lame_duck`
// only with expect.lame_duck; `db.max_sessions` only with
// expect.db_sessions.max. None when the target never started
// (Timeline::start_error): there is nothing to judge.
std::vector<CheckResult> RunChecks(const Timeline& tl, const Expectations& expect);

// The run's verdict as far as its checks go: none failed (each passed or
// was skipped).
bool NoneFailed(const std::vector<CheckResult>& results);

// A run's verdict: kError when the harness failed itself during the run
// (Timeline::harness_errors, an *invalid run*), whatever its checks say, or
// when the target never started (Timeline::start_error); else kFail when a
// check failed; else kPass (every check passed or was skipped).
enum class RunVerdict { kPass, kFail, kError };
const char* RunVerdictName(RunVerdict v);  // "pass", "fail", "error": the JSON report's
std::optional<RunVerdict> ParseRunVerdict(const std::string& name);
RunVerdict JudgeRun(const std::vector<CheckResult>& checks, const Timeline& tl);
// The worse of two verdicts: error over fail over pass.
RunVerdict Worse(RunVerdict a, RunVerdict b);
// gracecheck's exit code for the worst verdict of its runs (exit_codes.h):
// kExitPassed, kExitCheckFailed or kExitInfrastructure.
int VerdictExitCode(RunVerdict worst);

// How many checks have `status`.
int CountStatus(const std::vector<CheckResult>& results, CheckStatus status);

// "10 passed, 2 skipped", "1 failed, 10 passed, 1 skipped"; "no checks".
std::string StatusCounts(const std::vector<CheckResult>& results);

// When the target's pool began closing after the first fault (its first
// session closed cleanly, and none outlived the last that did), as
// db.closed_before_drain sees it; kNever if it did not close, or only
// trimmed idle sessions.
Nanos DbPoolClosingBegan(const Timeline& tl);

// Every check's name, in the order RunChecks emits those it runs (DESIGN.md's
// order). Renderers of a saved report, whose JSON keeps checks sorted by
// name, put them back in this order.
const std::vector<std::string>& CheckOrder();

// Each check's judge on its own (for tests), by family: checks/requests.cc,
// checks/process.cc, checks/db.cc, checks/faults.cc. A judge's result has no
// name (RunChecks gives it its row's).
CheckResult CheckRequestsDropped(const Timeline& tl, const Expectations& expect);
// No connection refused within expect.lame_duck of the first fault.
CheckResult CheckRequestsLameDuck(const Timeline& tl, const Expectations& expect);
CheckResult CheckWritesLost(const Timeline& tl, const Expectations& expect);
CheckResult CheckProcessExit(const Timeline& tl, const Expectations& expect);
CheckResult CheckProcessOrphans(const Timeline& tl, const Expectations& expect);
// The first signal sent to the target's process was one it takes: caught by
// a handler, or blocked for sigwait/signalfd, in the last /proc sample
// before it went out; not left at its default action (the process dies at
// once, and as PID 1 of a container it would ignore it) nor ignored.
CheckResult CheckProcessSignalHandled(const Timeline& tl, const Expectations& expect);
CheckResult CheckThreadsGrowth(const Timeline& tl, const Expectations& expect);
CheckResult CheckThreadsAtExit(const Timeline& tl, const Expectations& expect);
CheckResult CheckDbSessionsAfterExit(const Timeline& tl, const Expectations& expect);
CheckResult CheckDbAbandoned(const Timeline& tl, const Expectations& expect);
CheckResult CheckDbOrphanedQueries(const Timeline& tl, const Expectations& expect);
// The pool closed before the HTTP drain: after the first fault, sessions the
// target closed itself went away while it still served (a 5xx to a request
// written after the first of them went, any answer to one written after the
// last went) or while requests it had accepted were still in flight.
CheckResult CheckDbClosedBeforeDrain(const Timeline& tl, const Expectations& expect);
// Transactions left open at the exit: the server log says the client
// vanished "with an open transaction", or a session is still idle in
// transaction after the exit; without the log (external server), also a
// session idle in transaction from the first fault to the last sample before
// the exit.
CheckResult CheckDbIdleInTransaction(const Timeline& tl, const Expectations& expect);
// More sessions of the run's database at once than expect.db_sessions.max.
CheckResult CheckDbMaxSessions(const Timeline& tl, const Expectations& expect);
CheckResult CheckFaultsDelivered(const Timeline& tl, const Expectations& expect);

// Samples taken within this time after the exit may still show a session
// `active` (pg_stat_activity lags the client's exit by a few ms); later ones
// count for db.orphaned_queries.
constexpr Nanos kOrphanedQuerySettle = 100'000'000;

// db.closed_before_drain: how late a client may see a response the server
// sent before its pool began closing (the load generator's own lag in
// reading it; measured: see docs/DESIGN.md), and how late its stamp of a
// request's write may be.
constexpr Nanos kResponseLagAllowance = 50'000'000;
constexpr Nanos kWriteStampAllowance = 5'000'000;

// Lines of evidence a check gives at most (the last may say "… and N more").
constexpr int kMaxEvidence = 10;

}  // namespace gracecheck
