#include "checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "exit_codes.h"

namespace gracecheck {

// The checks, in the order of DESIGN.md's table: the one place a check is
// named and registered. A row's `applies` says when the scenario asked for
// it (nullptr: always); its judge is in the family's file under checks/.
namespace {

bool WithLameDuck(const Timeline&, const Expectations& e) { return e.lame_duck.has_value(); }
bool WithWrites(const Timeline&, const Expectations& e) { return e.writes.has_value(); }
bool WithThreadsGrowth(const Timeline&, const Expectations& e) {
  return e.threads && e.threads->growth;
}
bool WithThreadsAtExit(const Timeline&, const Expectations& e) {
  return e.threads && e.threads->at_exit;
}
bool WithMaxSessions(const Timeline&, const Expectations& e) {
  return e.db_sessions.max.has_value();
}

// The position of `key` ("expect.db_sessions.max"), else of the nearest
// key around it that the file has, else {0, 0}.
SourcePos WhereIs(const Expectations& e, std::string key) {
  for (;;) {
    if (auto it = e.positions.find(key); it != e.positions.end()) return it->second;
    const std::size_t dot = key.rfind('.');
    if (dot == std::string::npos) break;
    key.resize(dot);
  }
  const auto it = e.positions.find("expect");
  return it != e.positions.end() ? it->second : SourcePos{};
}

}  // namespace

const std::vector<CheckSpec>& CheckTable() {
  static const std::vector<CheckSpec> kTable = {
      {"requests.dropped", nullptr, CheckRequestsDropped, false, "expect.dropped"},
      {"requests.lame_duck", WithLameDuck, CheckRequestsLameDuck, false, "expect.lame_duck"},
      {"writes.lost", WithWrites, CheckWritesLost, false, "expect.writes.lost"},
      {"process.exit", nullptr, CheckProcessExit, false, "expect.exit"},
      {"process.orphans", nullptr, CheckProcessOrphans},
      {"process.signal_handled", nullptr, CheckProcessSignalHandled},
      {"threads.growth", WithThreadsGrowth, CheckThreadsGrowth, false, "expect.threads.growth"},
      {"threads.at_exit", WithThreadsAtExit, CheckThreadsAtExit, false, "expect.threads.at_exit"},
      {"db.sessions_after_exit", nullptr, CheckDbSessionsAfterExit, false,
       "expect.db_sessions.after_exit"},
      {"db.abandoned", nullptr, CheckDbAbandoned, false, "expect.db_sessions.abandoned"},
      {"db.orphaned_queries", nullptr, CheckDbOrphanedQueries, /*server_side=*/true,
       "expect.db_sessions.orphaned_queries"},
      {"db.closed_before_drain", nullptr, CheckDbClosedBeforeDrain, false,
       "expect.db_sessions.closed_before_drain"},
      {"db.idle_in_transaction", nullptr, CheckDbIdleInTransaction, /*server_side=*/true,
       "expect.db_sessions.idle_in_transaction"},
      {"db.max_sessions", WithMaxSessions, CheckDbMaxSessions, false, "expect.db_sessions.max"},
      {"faults.delivered", nullptr, CheckFaultsDelivered, false, "faults"},
  };
  return kTable;
}

Timeline ServerSide(const Timeline& tl) {
  Timeline server = tl;
  if (!tl.pooler) return server;
  const PoolerView& p = *tl.pooler;
  server.pooler.reset();
  server.db_samples = p.server_samples;
  server.db_sessions = p.server_sessions;
  server.db_session_ends = p.server_session_ends;
  server.db_log_read = p.server_log_read;
  server.sessions_abandoned = p.server_sessions_abandoned;
  server.sessions_fatal = p.server_sessions_fatal;
  server.db_sessions_gone = kNever;
  for (const DbSample& s : server.db_samples) {
    if (tl.exited != kNever && s.t >= tl.exited && s.total() == 0) {
      server.db_sessions_gone = s.t;
      break;
    }
  }
  return server;
}

std::vector<CheckResult> RunChecks(const Timeline& tl, const Expectations& e) {
  std::vector<CheckResult> results;
  if (!tl.start_error.empty()) return results;
  std::optional<Timeline> server;  // made once, if a check needs it
  for (const CheckSpec& spec : CheckTable()) {
    if (spec.applies && !spec.applies(tl, e)) continue;
    if (spec.server_side && tl.pooler && !server) server = ServerSide(tl);
    CheckResult r = spec.judge(spec.server_side && server ? *server : tl, e);
    r.name = spec.name;
    r.where = WhereIs(e, spec.key);
    results.push_back(std::move(r));
  }
  return results;
}

const std::vector<std::string>& CheckOrder() {
  static const std::vector<std::string> kOrder = [] {
    std::vector<std::string> order;
    for (const CheckSpec& spec : CheckTable()) order.emplace_back(spec.name);
    return order;
  }();
  return kOrder;
}

const char* CheckStatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPassed:
      return "passed";
    case CheckStatus::kFailed:
      return "failed";
    case CheckStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

std::optional<CheckStatus> ParseCheckStatus(const std::string& name) {
  for (CheckStatus s : {CheckStatus::kPassed, CheckStatus::kFailed, CheckStatus::kSkipped}) {
    if (name == CheckStatusName(s)) return s;
  }
  return std::nullopt;
}

void CheckResult::Skip(const std::string& why) {
  status = CheckStatus::kSkipped;
  observed = "not measurable: " + why;
}

const char* RunVerdictName(RunVerdict v) {
  switch (v) {
    case RunVerdict::kPass:
      return "pass";
    case RunVerdict::kFail:
      return "fail";
    case RunVerdict::kError:
      return "error";
  }
  return "error";
}

std::optional<RunVerdict> ParseRunVerdict(const std::string& name) {
  for (RunVerdict v : {RunVerdict::kPass, RunVerdict::kFail, RunVerdict::kError}) {
    if (name == RunVerdictName(v)) return v;
  }
  return std::nullopt;
}

RunVerdict JudgeRun(const std::vector<CheckResult>& checks, const Timeline& tl) {
  if (!tl.harness_errors.empty() || !tl.start_error.empty()) return RunVerdict::kError;
  return NoneFailed(checks) ? RunVerdict::kPass : RunVerdict::kFail;
}

RunVerdict Worse(RunVerdict a, RunVerdict b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

int VerdictExitCode(RunVerdict worst) {
  switch (worst) {
    case RunVerdict::kPass:
      return kExitPassed;
    case RunVerdict::kFail:
      return kExitCheckFailed;
    case RunVerdict::kError:
      return kExitInfrastructure;
  }
  return kExitInfrastructure;
}

bool NoneFailed(const std::vector<CheckResult>& results) {
  return CountStatus(results, CheckStatus::kFailed) == 0;
}

int CountStatus(const std::vector<CheckResult>& results, CheckStatus status) {
  return static_cast<int>(std::count_if(results.begin(), results.end(),
                                        [&](const CheckResult& c) { return c.status == status; }));
}

std::string StatusCounts(const std::vector<CheckResult>& results) {
  std::vector<std::string> parts;
  for (CheckStatus s : {CheckStatus::kFailed, CheckStatus::kPassed, CheckStatus::kSkipped}) {
    if (const int n = CountStatus(results, s); n > 0) {
      parts.push_back(fmt::format("{} {}", n, CheckStatusName(s)));
    }
  }
  return parts.empty() ? std::string("no checks") : fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace gracecheck
