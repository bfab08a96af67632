#include "json.h"

#include <fmt/format.h>

#include <algorithm>

#include "report_files.h"
#include "request_series.h"
#include "signal_names.h"
#include "subprocess.h"
#include "summary.h"

#ifndef GRACECHECK_VERSION
#define GRACECHECK_VERSION "unknown"
#endif

namespace gracecheck {

namespace {

using nlohmann::json;

// Milliseconds since the epoch (or a span in ms); null for kNever.
json Ms(Nanos t) { return t == kNever ? json(nullptr) : json(static_cast<double>(t) / 1e6); }
json Ms(Duration d) { return json(ToMillis(d)); }

json Count(int n) { return n == Timeline::kUnknown ? json(nullptr) : json(n); }

json Phase(const PhaseSummary& p) {
  json j = json::object();
  for (int i = 0; i < kOutcomeCount; ++i) {
    j[OutcomeName(static_cast<Outcome>(i))] = p.outcomes[static_cast<std::size_t>(i)];
  }
  j["total"] = p.total;
  j["dropped"] = p.dropped;
  return j;
}

json Latency(const LatencySummary& l) {
  return {{"count", l.count},
          {"p50", Ms(l.p50)},
          {"p90", Ms(l.p90)},
          {"p99", Ms(l.p99)},
          {"max", Ms(l.max)}};
}

json Sessions(const DbSample& s, bool known) {
  if (!known) return nullptr;
  return {{"t_ms", Ms(s.t)},
          {"total", s.total()},
          {"active", s.active},
          {"idle", s.idle},
          {"idle_in_transaction", s.idle_in_transaction},
          {"other", s.other}};
}

std::vector<std::string> Redacted(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (const std::string& line : lines) out.push_back(RedactSecrets(line));
  return out;
}

// Check texts are redacted too: evidence may quote a process's command line
// or a target's output.
json Checks(const std::vector<CheckResult>& checks) {
  json j = json::object();
  for (const CheckResult& c : checks) {
    j[c.name] = {{"status", CheckStatusName(c.status)},
                 {"passed", c.passed()},  // kept from before "status": true only for a pass
                 {"expected", c.expected},
                 {"observed", RedactSecrets(c.observed)},
                 {"evidence", Redacted(c.evidence)}};
    if (c.where.line > 0) j[c.name]["at"] = {{"line", c.where.line}, {"col", c.where.col}};
  }
  return j;
}

// Trigger met -> action delivered, over the faults that were delivered:
// nearest-rank p50/p99 and the max (null when none was delivered).
json FaultLag(const Timeline& tl) {
  std::vector<Nanos> lags;
  for (const FaultRecord& f : tl.faults) {
    if (f.lag() != kNever) lags.push_back(f.lag());
  }
  if (lags.empty()) return nullptr;
  const LatencySummary s = Percentiles(&lags);
  return {{"count", s.count}, {"p50", Ms(s.p50)}, {"p99", Ms(s.p99)}, {"max", Ms(s.max)}};
}

json Faults(const Timeline& tl) {
  json j = json::array();
  for (const FaultRecord& f : tl.faults) {
    j.push_back({{"name", f.name},
                 {"action", f.action},
                 {"signal", f.signal == 0 ? json(nullptr) : json(SignalName(f.signal))},
                 {"signal_number", f.signal},
                 {"deliveries", f.deliveries},
                 {"detail", f.detail.empty() ? json(nullptr) : json(f.detail)},
                 {"to_group", f.to_group},
                 {"scheduled_ms", Ms(f.scheduled)},
                 {"delivered_ms", Ms(f.delivered)},
                 {"lag_ms", Ms(f.lag())},
                 {"tolerance_ms", Ms(f.tolerance)},
                 {"skipped", f.skipped},
                 {"error", f.error.empty() ? json(nullptr) : json(f.error)}});
  }
  return j;
}

json ProcessEvents(const Timeline& tl) {
  json j = json::array();
  for (const ProcessEvent& e : tl.process_events) {
    json event = {{"t_ms", Ms(e.t)}, {"kind", ProcessEventName(e.kind)}, {"value", e.value}};
    if (e.kind == ProcessEvent::Kind::kSignalSent || e.kind == ProcessEvent::Kind::kKilled) {
      event["signal"] = SignalName(e.value);
    }
    if (!e.detail.empty()) event["detail"] = RedactSecrets(e.detail);
    j.push_back(std::move(event));
  }
  return j;
}

// Requests per bucket (request_series.h): started and finished by outcome,
// and the most in flight, as rows under named columns like the samples.
void AddRequestSeries(const Timeline& tl, json* series) {
  const RequestSeries rs = BucketRequests(tl);
  json outcome_columns = {"t_ms"};
  for (int i = 0; i < kOutcomeCount; ++i)
    outcome_columns.push_back(OutcomeName(static_cast<Outcome>(i)));
  json started = json::array();
  json finished = json::array();
  json in_flight = json::array();
  for (const RequestBucket& b : rs.buckets) {
    json s = {Ms(b.t)};
    json f = {Ms(b.t)};
    for (std::size_t i = 0; i < b.started.size(); ++i) {
      s.push_back(b.started[i]);
      f.push_back(b.finished[i]);
    }
    started.push_back(std::move(s));
    finished.push_back(std::move(f));
    in_flight.push_back({Ms(b.t), b.in_flight_max});
  }
  const json width = Ms(rs.bucket);
  (*series)["requests_started"] = {
      {"bucket_ms", width}, {"columns", outcome_columns}, {"rows", started}};
  (*series)["requests_finished"] = {
      {"bucket_ms", width}, {"columns", outcome_columns}, {"rows", finished}};
  (*series)["requests_in_flight"] = {
      {"bucket_ms", width}, {"columns", {"t_ms", "max"}}, {"rows", in_flight}};
}

// The first refused connection attempt: the listener was closed by then.
Nanos FirstRefused(const Timeline& tl) {
  Nanos t = kNever;
  for (const RequestRecord& r : tl.requests) {
    if (r.outcome == Outcome::kRefused && r.done != kNever && (t == kNever || r.done < t))
      t = r.done;
  }
  return t;
}

// The last complete response (ok or http_error).
Nanos LastResponse(const Timeline& tl) {
  Nanos t = kNever;
  for (const RequestRecord& r : tl.requests) {
    if ((r.outcome == Outcome::kOk || r.outcome == Outcome::kHttpError) && r.done != kNever) {
      t = std::max(t, r.done);
    }
  }
  return t;
}

// The first database sample, after the first fault (after the load when no
// fault was delivered), from which on the run's database shows no session:
// the pool was closed (or its last connection ended) before it. kNever when
// sessions remain in the last sample, or there never was one.
Nanos DbPoolClosed(const Timeline& tl) {
  const Nanos from = tl.first_signal != kNever ? tl.first_signal : tl.load_end;
  if (from == kNever) return kNever;
  bool had_sessions = false;
  Nanos closed = kNever;
  for (const DbSample& s : tl.db_samples) {
    had_sessions = had_sessions || s.total() > 0;
    if (s.t < from) continue;
    if (s.total() > 0) {
      closed = kNever;
    } else if (closed == kNever) {
      closed = s.t;
    }
  }
  return had_sessions ? closed : kNever;
}

json Series(const Timeline& tl) {
  json proc_rows = json::array();
  for (const ProcSample& s : tl.proc_samples) {
    proc_rows.push_back({Ms(s.t), s.threads, s.fds, s.rss_kb, s.children, s.target_threads});
  }
  json db_rows = json::array();
  for (const DbSample& s : tl.db_samples) {
    db_rows.push_back({Ms(s.t), s.active, s.idle, s.idle_in_transaction, s.other});
  }
  json series = {{"proc_samples",
                  {{"columns", {"t_ms", "threads", "fds", "rss_kb", "children", "target_threads"}},
                   {"rows", proc_rows}}},
                 {"db_samples",
                  {{"columns", {"t_ms", "active", "idle", "idle_in_transaction", "other"}},
                   {"rows", db_rows}}}};
  AddRequestSeries(tl, &series);
  return series;
}

// The target's tree; a command line may hold a password (a --db URL).
json Processes(const Timeline& tl) {
  json j = json::array();
  for (const TreeProcess& p : tl.processes) {
    json threads = json::array();
    for (const auto& [t, n] : p.threads) threads.push_back({Ms(t), n});
    j.push_back({{"pid", p.pid},
                 {"ppid", p.ppid},
                 {"command", RedactSecrets(p.command)},
                 {"first_seen_ms", Ms(p.first_seen)},
                 {"last_seen_ms", Ms(p.last_seen)},
                 {"gone_ms", Ms(p.gone)},
                 {"threads", threads}});
  }
  return j;
}

json DbSessions(const Timeline& tl) {
  json j = json::array();
  for (const DbSession& s : tl.db_sessions) {
    j.push_back({{"pid", s.pid},
                 {"backend_start", s.backend_start},
                 {"client_port", s.client_port},
                 {"first_seen_ms", Ms(s.first_seen)},
                 {"last_seen_ms", Ms(s.last_seen)},
                 {"last_state", s.last_state},
                 {"last_query", RedactSecrets(s.last_query)}});
  }
  return j;
}

}  // namespace

json RunJson(const RunReport& run) {
  const Timeline& tl = *run.timeline;
  const Summary s = Summarize(tl);
  json j;
  j["scenario"] = tl.scenario;
  j["scenario_file"] = tl.scenario_file;
  j["scenario_sha256"] = tl.scenario_sha256;
  j["target_command"] = tl.target_command;  // templates: no secret in them
  j["target_argv"] = Redacted(tl.target_argv);
  j["target"] = tl.target_name;
  j["seed"] = tl.seed;
  j["epoch"] = FormatUnixMillis(tl.epoch_unix_ms);
  j["epoch_unix_ms"] = tl.epoch_unix_ms;
  j["verdict"] = RunVerdictName(JudgeRun(run.checks, tl));
  j["harness_errors"] = tl.harness_errors;
  j["warnings"] = Redacted(tl.warnings);
  if (tl.pooler) {
    // Behind a per-run pooler the run's db_sessions are the target's
    // connections to it; what the server saw of the pooler is summed here.
    int most = 0;
    for (const DbSample& d : tl.pooler->server_samples) most = std::max(most, d.total());
    j["pooler"] = {{"describe", tl.pooler->describe},
                   {"server_sessions_seen", tl.pooler->server_sessions.size()},
                   {"server_sessions_at_once", most},
                   {"server_log_read", tl.pooler->server_log_read}};
  }
  j["start_error"] = tl.start_error.empty() ? json(nullptr) : json(RedactSecrets(tl.start_error));
  j["checks"] = Checks(run.checks);
  j["request_kinds"] = tl.request_kinds;  // what a per-request record's `kind` indexes
  j["target_pid"] = tl.target_pid;
  j["moments_ms"] = {{"spawned", Ms(tl.spawned)},
                     {"ready", Ms(tl.ready)},
                     {"load_start", Ms(tl.load_start)},
                     {"load_end", Ms(tl.load_end)},
                     {"first_fault", Ms(tl.first_signal)},
                     {"exited", Ms(tl.exited)},
                     {"db_sessions_gone", Ms(tl.db_sessions_gone)},
                     {"first_refused", Ms(FirstRefused(tl))},
                     {"last_response", Ms(LastResponse(tl))},
                     {"db_pool_closed", Ms(DbPoolClosed(tl))},
                     {"db_pool_closing", Ms(DbPoolClosingBegan(tl))}};
  j["exit"] = {{"exited", tl.exited != kNever},
               {"status", tl.exited != kNever ? json(FormatExitStatus(tl.exit_signaled,
                                                                      tl.exit_code, tl.exit_signal))
                                              : json(nullptr)},
               {"signaled", tl.exit_signaled},
               {"code", tl.exit_code},
               {"signal", tl.exit_signaled ? json(SignalName(tl.exit_signal)) : json(nullptr)},
               {"fault_to_exit_ms", Ms(s.fault_to_exit)},
               {"orphans", tl.orphans}};
  j["faults"] = Faults(tl);
  j["fault_lag_ms"] = FaultLag(tl);
  j["process_events"] = ProcessEvents(tl);
  j["processes"] = Processes(tl);
  j["listeners"] = tl.listeners;
  j["outcomes"] = {
      {"before_fault", Phase(s.before)}, {"after_fault", Phase(s.after)}, {"all", Phase(s.all)}};
  j["latency_ms"] = {{"before_fault", Latency(s.before.latency)},
                     {"after_fault", Latency(s.after.latency)},
                     {"all", Latency(s.all.latency)}};
  json names = json::object();
  for (const auto& [name, n] : tl.thread_names_at_exit) names[name] = n;
  j["summary"] = {
      {"requests", tl.requests.size()},
      {"requests_per_second", s.requests_per_second},
      {"load_duration_ms", Ms(s.load_duration)},
      {"fault_to_exit_ms", Ms(s.fault_to_exit)},
      {"threads",
       {{"before_load", Count(s.threads.before_load)},
        {"idle_after_load", Count(s.threads.idle_after_load)},
        {"peak", Count(s.threads.peak)},
        {"at_fault", Count(s.threads.at_fault)},
        {"last_before_exit", Count(s.threads.last_before_exit)},
        {"names_at_exit", names}}},
      {"db_sessions",
       {{"before_load", Sessions(s.db.before_load, s.db.known_before_load)},
        {"peak", Sessions(s.db.peak, s.db.known_peak)},
        {"highest_by_state",
         s.db.known_peak ? json{{"active", s.db.highest_by_state.active},
                                {"idle", s.db.highest_by_state.idle},
                                {"idle_in_transaction", s.db.highest_by_state.idle_in_transaction},
                                {"other", s.db.highest_by_state.other}}
                         : json(nullptr)},
        {"at_fault", Sessions(s.db.at_fault, s.db.known_at_fault)},
        {"last_before_exit", Sessions(s.db.last_before_exit, s.db.known_last_before_exit)},
        {"gone_ms", Ms(tl.db_sessions_gone)},
        {"abandoned",
         tl.sessions_abandoned == Timeline::kUnknown ? json(nullptr) : json(tl.sessions_abandoned)},
        {"fatal",
         tl.sessions_fatal == Timeline::kUnknown ? json(nullptr) : json(tl.sessions_fatal)},
        {"rolled_back",
         tl.xact_rollback == Timeline::kUnknown ? json(nullptr) : json(tl.xact_rollback)}}},
      {"writes",
       {{"verified", tl.writes_verified},
        {"keys", tl.write_keys.size()},
        {"lost", tl.lost_writes},
        {"unacknowledged_applied", tl.unacknowledged_applied}}}};
  j["series"] = Series(tl);
  j["db_sessions"] = DbSessions(tl);
  j["target_log_tail"] = RedactSecrets(tl.target_log_tail);
  return j;
}

json ReportJsonOfRuns(json runs) {
  json j;
  j["schema"] = kReportSchema;
  j["gracecheck_version"] = GRACECHECK_VERSION;
  j["time_unit"] = "ms";
  j["runs"] = std::move(runs);
  return j;
}

json ReportJson(const std::vector<RunReport>& runs) {
  json list = json::array();
  for (const RunReport& r : runs) list.push_back(RunJson(r));
  return ReportJsonOfRuns(std::move(list));
}

std::string JsonReportText(const json& report) {
  // Invalid UTF-8 from the target (log tail, queries) is replaced, never fatal.
  return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

json AsReadBack(const json& report) { return json::parse(JsonReportText(report)); }

void WriteJsonReport(const std::string& path, const json& report) {
  WriteReportFile(path, JsonReportText(report), "the JSON report");
}

void WriteJsonReport(const std::string& path, const std::vector<RunReport>& runs) {
  WriteJsonReport(path, ReportJson(runs));
}

}  // namespace gracecheck
