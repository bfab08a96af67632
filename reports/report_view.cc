#include "report_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "json.h"

namespace gracecheck {

namespace {

using nlohmann::json;

// obj[key], or null when obj is not an object or has no such key.
const json& Get(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

Nanos Moment(const json& v) { return v.is_number() ? MsToNanos(v.get<double>()) : kNever; }

long long Integer(const json& v, long long unknown) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number()) return std::llround(v.get<double>());
  return unknown;
}

int Int(const json& v, int unknown = 0) { return static_cast<int>(Integer(v, unknown)); }

double Double(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }

bool Bool(const json& v) { return v.is_boolean() && v.get<bool>(); }

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

std::vector<std::string> Texts(const json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const json& e : v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<CheckResult> Checks(const json& checks) {
  std::vector<CheckResult> out;
  if (!checks.is_object()) return out;
  for (const auto& [name, c] : checks.items()) {
    CheckResult r;
    r.name = name;
    // "status" came within v1; before it, a check passed or failed.
    const std::optional<CheckStatus> status = ParseCheckStatus(Text(Get(c, "status")));
    r.status = status                   ? *status
               : Bool(Get(c, "passed")) ? CheckStatus::kPassed
                                        : CheckStatus::kFailed;
    r.expected = Text(Get(c, "expected"));
    r.observed = Text(Get(c, "observed"));
    r.evidence = Texts(Get(c, "evidence"));
    r.where = {Int(Get(Get(c, "at"), "line")), Int(Get(Get(c, "at"), "col"))};
    out.push_back(std::move(r));
  }
  const std::vector<std::string>& order = CheckOrder();
  auto rank = [&](const CheckResult& r) {
    return std::find(order.begin(), order.end(), r.name) - order.begin();
  };
  // Stable: names unknown here keep the JSON's (sorted) order after the rest.
  std::stable_sort(out.begin(), out.end(),
                   [&](const CheckResult& a, const CheckResult& b) { return rank(a) < rank(b); });
  return out;
}

PhaseSummary Phase(const json& outcomes, const json& latency) {
  PhaseSummary p;
  for (int i = 0; i < kOutcomeCount; ++i) {
    p.outcomes[static_cast<std::size_t>(i)] =
        Int(Get(outcomes, OutcomeName(static_cast<Outcome>(i))));
  }
  p.total = Int(Get(outcomes, "total"));
  p.dropped = Int(Get(outcomes, "dropped"));
  p.latency.count = Int(Get(latency, "count"));
  p.latency.p50 = Moment(Get(latency, "p50"));
  p.latency.p90 = Moment(Get(latency, "p90"));
  p.latency.p99 = Moment(Get(latency, "p99"));
  p.latency.max = Moment(Get(latency, "max"));
  return p;
}

// A {t_ms, total, active, ...} sample; false when null.
bool Sessions(const json& v, DbSample* s) {
  if (!v.is_object()) return false;
  s->t = Moment(Get(v, "t_ms"));
  s->active = Int(Get(v, "active"));
  s->idle = Int(Get(v, "idle"));
  s->idle_in_transaction = Int(Get(v, "idle_in_transaction"));
  s->other = Int(Get(v, "other"));
  return true;
}

Summary ReadSummary(const json& run) {
  const json& outcomes = Get(run, "outcomes");
  const json& latency = Get(run, "latency_ms");
  const json& summary = Get(run, "summary");
  Summary s;
  s.before = Phase(Get(outcomes, "before_fault"), Get(latency, "before_fault"));
  s.after = Phase(Get(outcomes, "after_fault"), Get(latency, "after_fault"));
  s.all = Phase(Get(outcomes, "all"), Get(latency, "all"));
  s.requests_per_second = Double(Get(summary, "requests_per_second"));
  s.load_duration = Moment(Get(summary, "load_duration_ms"));
  s.fault_to_exit = Moment(Get(summary, "fault_to_exit_ms"));
  const json& threads = Get(summary, "threads");
  s.threads.before_load = Int(Get(threads, "before_load"), Timeline::kUnknown);
  s.threads.idle_after_load = Int(Get(threads, "idle_after_load"), Timeline::kUnknown);
  s.threads.peak = Int(Get(threads, "peak"), Timeline::kUnknown);
  s.threads.at_fault = Int(Get(threads, "at_fault"), Timeline::kUnknown);
  s.threads.last_before_exit = Int(Get(threads, "last_before_exit"), Timeline::kUnknown);
  const json& db = Get(summary, "db_sessions");
  s.db.known_before_load = Sessions(Get(db, "before_load"), &s.db.before_load);
  s.db.known_peak = Sessions(Get(db, "peak"), &s.db.peak);
  Sessions(Get(db, "highest_by_state"), &s.db.highest_by_state);
  s.db.known_at_fault = Sessions(Get(db, "at_fault"), &s.db.at_fault);
  s.db.known_last_before_exit = Sessions(Get(db, "last_before_exit"), &s.db.last_before_exit);
  return s;
}

// A series {columns: [...], rows: [[...], ...]}: calls row(values) with the
// row's values in the order of `wanted` (0 for a column it lacks).
template <typename Row>
void ForEachRow(const json& series, const std::vector<std::string>& wanted, Row row) {
  const json& columns = Get(series, "columns");
  const json& rows = Get(series, "rows");
  if (!columns.is_array() || !rows.is_array()) return;
  std::vector<int> index;
  for (const std::string& name : wanted) {
    int at = -1;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) at = static_cast<int>(i);
    }
    index.push_back(at);
  }
  std::vector<double> values(wanted.size());
  for (const json& r : rows) {
    if (!r.is_array()) continue;
    for (std::size_t i = 0; i < index.size(); ++i) {
      const int at = index[i];
      values[i] = at >= 0 && static_cast<std::size_t>(at) < r.size()
                      ? Double(r[static_cast<std::size_t>(at)])
                      : 0.0;
    }
    row(values);
  }
}

int Count(double v) { return static_cast<int>(std::lround(v)); }

void ReadSeries(const json& series, RunView* run) {
  ForEachRow(Get(series, "proc_samples"),
             {"t_ms", "threads", "fds", "rss_kb", "children", "target_threads"},
             [&](const std::vector<double>& v) {
               ProcSample s;
               s.t = MsToNanos(v[0]);
               s.threads = Count(v[1]);
               s.fds = Count(v[2]);
               s.rss_kb = std::llround(v[3]);
               s.children = Count(v[4]);
               s.target_threads = Count(v[5]);
               run->proc_samples.push_back(s);
             });
  ForEachRow(Get(series, "db_samples"), {"t_ms", "active", "idle", "idle_in_transaction", "other"},
             [&](const std::vector<double>& v) {
               DbSample s;
               s.t = MsToNanos(v[0]);
               s.active = Count(v[1]);
               s.idle = Count(v[2]);
               s.idle_in_transaction = Count(v[3]);
               s.other = Count(v[4]);
               run->db_samples.push_back(s);
             });

  // Requests per bucket: added within v1, absent from older reports.
  const json& started = Get(series, "requests_started");
  const json& finished = Get(series, "requests_finished");
  const json& in_flight = Get(series, "requests_in_flight");
  if (!started.is_object() || !finished.is_object() || !in_flight.is_object()) return;
  run->has_request_series = true;
  run->requests.bucket = Moment(Get(started, "bucket_ms"));
  if (run->requests.bucket == kNever) run->requests.bucket = 0;
  std::vector<std::string> outcome_columns = {"t_ms"};
  for (int i = 0; i < kOutcomeCount; ++i)
    outcome_columns.push_back(OutcomeName(static_cast<Outcome>(i)));
  std::vector<RequestBucket>& buckets = run->requests.buckets;
  ForEachRow(started, outcome_columns, [&](const std::vector<double>& v) {
    RequestBucket b;
    b.t = MsToNanos(v[0]);
    for (std::size_t i = 0; i < b.started.size(); ++i) b.started[i] = Count(v[i + 1]);
    buckets.push_back(b);
  });
  std::size_t i = 0;
  ForEachRow(finished, outcome_columns, [&](const std::vector<double>& v) {
    if (i >= buckets.size()) return;
    for (std::size_t o = 0; o < buckets[i].finished.size(); ++o)
      buckets[i].finished[o] = Count(v[o + 1]);
    ++i;
  });
  i = 0;
  ForEachRow(in_flight, {"t_ms", "max"}, [&](const std::vector<double>& v) {
    if (i < buckets.size()) buckets[i++].in_flight_max = Count(v[1]);
  });
}

}  // namespace

Nanos MsToNanos(double ms) { return static_cast<Nanos>(std::llround(ms * 1e6)); }

std::string RunView::Moment(Nanos t) const {
  if (t == kNever) return "never";
  if (first_signal == kNever) return "t=" + FormatMillis(t);
  const Nanos d = t - first_signal;
  return (d < 0 ? "-" : "+") + FormatMillis(std::llabs(d));
}

// The first fault that signalled the target (database and load faults do
// not start a shutdown), as Timeline::first_signal.
const FaultRecord* RunView::FirstDeliveredFault() const {
  for (const FaultRecord& f : faults) {
    if (f.delivered != kNever && f.signal != 0) return &f;
  }
  return nullptr;
}

int RunView::FailedChecks() const { return CountStatus(checks, CheckStatus::kFailed); }

int RunView::SkippedChecks() const { return CountStatus(checks, CheckStatus::kSkipped); }

RunVerdict ReportView::Worst() const {
  RunVerdict worst = RunVerdict::kPass;
  for (const RunView& r : runs) worst = Worse(worst, r.verdict);
  return worst;
}

int ReportView::Count(RunVerdict v) const {
  return static_cast<int>(
      std::count_if(runs.begin(), runs.end(), [v](const RunView& r) { return r.verdict == v; }));
}

Nanos RunView::LastMoment() const {
  Nanos last = kNever;
  for (Nanos t : {spawned, ready, load_start, load_end, first_signal, exited, db_sessions_gone,
                  first_refused, last_response, db_pool_closed, db_pool_closing}) {
    last = std::max(last, t);
  }
  for (const FaultRecord& f : faults) last = std::max({last, f.scheduled, f.delivered});
  if (!proc_samples.empty()) last = std::max(last, proc_samples.back().t);
  if (!db_samples.empty()) last = std::max(last, db_samples.back().t);
  if (!requests.buckets.empty()) last = std::max(last, requests.buckets.back().t + requests.bucket);
  return last;
}

RunView ReadRun(const json& run) {
  RunView v;
  v.scenario = Text(Get(run, "scenario"));
  v.scenario_file = Text(Get(run, "scenario_file"));
  v.target = Text(Get(run, "target"));
  v.seed = static_cast<std::uint64_t>(Integer(Get(run, "seed"), 0));
  v.epoch = Text(Get(run, "epoch"));
  v.epoch_unix_ms = Integer(Get(run, "epoch_unix_ms"), 0);
  v.target_pid = Int(Get(run, "target_pid"));
  v.checks = Checks(Get(run, "checks"));
  // "error" and "harness_errors" came within v1; an unknown verdict is not a pass.
  v.verdict = ParseRunVerdict(Text(Get(run, "verdict"))).value_or(RunVerdict::kFail);
  v.harness_errors = Texts(Get(run, "harness_errors"));
  v.warnings = Texts(Get(run, "warnings"));
  if (const json& pooler = Get(run, "pooler"); pooler.is_object()) {
    v.pooler = Text(Get(pooler, "describe"));
    v.pooler_server_sessions_at_once = Int(Get(pooler, "server_sessions_at_once"));
  }
  v.start_error = Text(Get(run, "start_error"));
  if (!v.harness_errors.empty() || !v.start_error.empty()) v.verdict = RunVerdict::kError;

  const json& m = Get(run, "moments_ms");
  v.spawned = Moment(Get(m, "spawned"));
  v.ready = Moment(Get(m, "ready"));
  v.load_start = Moment(Get(m, "load_start"));
  v.load_end = Moment(Get(m, "load_end"));
  v.first_signal = Moment(Get(m, "first_fault"));
  v.exited = Moment(Get(m, "exited"));
  v.db_sessions_gone = Moment(Get(m, "db_sessions_gone"));
  v.first_refused = Moment(Get(m, "first_refused"));
  v.last_response = Moment(Get(m, "last_response"));
  v.db_pool_closed = Moment(Get(m, "db_pool_closed"));
  v.db_pool_closing = Moment(Get(m, "db_pool_closing"));

  const json& exit = Get(run, "exit");
  v.exit_status = Text(Get(exit, "status"));
  if (const json& orphans = Get(exit, "orphans"); orphans.is_array()) {
    for (const json& p : orphans) v.orphans.push_back(Int(p));
  }
  if (const json& tree = Get(run, "processes"); tree.is_array()) {
    for (const json& p : tree) {
      TreeProcess t;
      t.pid = Int(Get(p, "pid"));
      t.ppid = Int(Get(p, "ppid"));
      t.command = Text(Get(p, "command"));
      t.first_seen = Moment(Get(p, "first_seen_ms"));
      t.last_seen = Moment(Get(p, "last_seen_ms"));
      t.gone = Moment(Get(p, "gone_ms"));
      if (const json& threads = Get(p, "threads"); threads.is_array()) {
        for (const json& point : threads) {
          if (point.is_array() && point.size() == 2) {
            t.threads.emplace_back(Moment(point[0]), Int(point[1]));
          }
        }
      }
      v.processes.push_back(std::move(t));
    }
  }
  if (const json& faults = Get(run, "faults"); faults.is_array()) {
    for (const json& f : faults) {
      FaultRecord r;
      r.name = Text(Get(f, "name"));
      if (const json& action = Get(f, "action"); action.is_string()) r.action = action;
      r.signal = Int(Get(f, "signal_number"));
      r.deliveries = Int(Get(f, "deliveries"));
      r.detail = Text(Get(f, "detail"));
      r.to_group = Bool(Get(f, "to_group"));
      r.scheduled = Moment(Get(f, "scheduled_ms"));
      r.delivered = Moment(Get(f, "delivered_ms"));
      r.skipped = Bool(Get(f, "skipped"));
      r.tolerance = Duration(std::max<Nanos>(0, Moment(Get(f, "tolerance_ms"))));
      r.error = Text(Get(f, "error"));
      v.faults.push_back(std::move(r));
    }
  }
  v.summary = ReadSummary(run);

  const json& summary = Get(run, "summary");
  const json& names = Get(Get(summary, "threads"), "names_at_exit");
  if (names.is_object()) {
    for (const auto& [name, n] : names.items()) v.thread_names_at_exit.emplace_back(name, Int(n));
  }
  const json& db = Get(summary, "db_sessions");
  v.sessions_abandoned = Integer(Get(db, "abandoned"), Timeline::kUnknown);
  const json& writes = Get(summary, "writes");
  v.writes.verified = Bool(Get(writes, "verified"));
  v.writes.keys = Int(Get(writes, "keys"));
  v.writes.lost = Texts(Get(writes, "lost"));
  v.writes.unacknowledged_applied = Texts(Get(writes, "unacknowledged_applied"));

  ReadSeries(Get(run, "series"), &v);
  if (const json& sessions = Get(run, "db_sessions"); sessions.is_array()) {
    for (const json& s : sessions) {
      DbSession d;
      d.pid = Int(Get(s, "pid"));
      d.backend_start = Text(Get(s, "backend_start"));
      d.client_port = Int(Get(s, "client_port"));
      d.first_seen = Moment(Get(s, "first_seen_ms"));
      d.last_seen = Moment(Get(s, "last_seen_ms"));
      d.last_state = Text(Get(s, "last_state"));
      d.last_query = Text(Get(s, "last_query"));
      v.db_sessions.push_back(std::move(d));
    }
  }
  v.target_log_tail = Text(Get(run, "target_log_tail"));
  return v;
}

ReportView ReadReport(const json& report, const std::string& origin) {
  const std::string schema = Text(Get(report, "schema"));
  if (schema.empty()) {
    throw ReportError(
        fmt::format("{}: not a gracecheck report (no \"schema\": \"{}\")", origin, kReportSchema));
  }
  if (schema != kReportSchema) {
    throw ReportError(fmt::format("{}: the report's schema is {}; this gracecheck reads {}", origin,
                                  schema, kReportSchema));
  }
  const json& runs = Get(report, "runs");
  if (!runs.is_array()) throw ReportError(fmt::format("{}: \"runs\" is not a list", origin));
  ReportView view;
  view.gracecheck_version = Text(Get(report, "gracecheck_version"));
  view.interrupted =
      Get(report, "interrupted").is_boolean() && Get(report, "interrupted").get<bool>();
  for (const json& r : runs) view.runs.push_back(ReadRun(r));
  return view;
}

json LoadReportFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReportError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  json report;
  try {
    report = json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw ReportError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  ReadReport(report, path);  // the schema check
  return report;
}

}  // namespace gracecheck
