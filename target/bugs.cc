#include "bugs.h"

namespace gracecheck::refapi {

const std::vector<BugInfo>& KnownBugs() {
  static const std::vector<BugInfo> bugs = {
      {Bug::kExitImmediately, "exit-immediately",
       "exit 0 at the signal without draining: in-flight requests get EOF/RST"},
      {Bug::kDbFirst, "db-first",
       "close the pool before stopping HTTP: in-flight requests answer 503"},
      {Bug::kNoDbClose, "no-db-close",
       "never close pooled connections; the exit drops them (abandoned)"},
      {Bug::kIgnoreSigterm, "ignore-sigterm",
       "ignore SIGTERM, as a PID 1 with no handler does (SIGINT still drains)"},
      {Bug::kHangOnShutdown, "hang-on-shutdown",
       "join a background thread never told to stop: the shutdown hangs"},
      {Bug::kLeakThreads, "leak-threads", "start a detached thread per request that never ends"},
      {Bug::kLeakSessions, "leak-sessions",
       "open a DB connection outside the pool every 20 requests, never closed"},
      {Bug::kOrphanChild, "orphan-child",
       "start a helper holding a DB session that outlives the server"},
      {Bug::kAckBeforeCommit, "ack-before-commit",
       "answer POST /items before its commit; shutdown drops pending commits"},
      {Bug::kResetKeepalive, "reset-keepalive",
       "at shutdown, RST (SO_LINGER 0) every keep-alive connection, busy or not"},
      {Bug::kIdleInTransaction, "idle-in-transaction",
       "at shutdown, BEGIN on a pooled connection, exit without COMMIT/close"},
      {Bug::kNoLameDuck, "no-lame-duck",
       "skip --lame-duck: stop accepting the instant the signal arrives"},
      {Bug::kCancelInflight, "cancel-inflight",
       "cancel the queries of requests in flight at shutdown: they answer 503"},
      {Bug::kSmallBacklog, "small-backlog",
       "stock cpp-httplib: <= 8 workers, backlog 5, queued connections dropped"},
      {Bug::kPoolRefuses, "pool-refuses",
       "refuse pool checkouts at the signal (503); close its sessions at exit"},
      {Bug::kNoForward, "no-forward",
       "--workers: the master exits at the signal without telling its workers"},
  };
  return bugs;
}

std::optional<Bug> ParseBug(std::string_view name) {
  for (const BugInfo& info : KnownBugs()) {
    if (info.name == name) return info.bug;
  }
  return std::nullopt;
}

std::string_view BugName(Bug bug) {
  for (const BugInfo& info : KnownBugs()) {
    if (info.bug == bug) return info.name;
  }
  return "?";
}

std::string KnownBugNames() {
  std::string names;
  for (const BugInfo& info : KnownBugs()) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

}  // namespace gracecheck::refapi
