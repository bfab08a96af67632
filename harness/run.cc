#include "run.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cpu_wait.h"
#include "faults.h"
#include "interrupt.h"
#include "load.h"
#include "log_watch.h"
#include "ports.h"
#include "probes.h"
#include "target_process.h"

namespace gracecheck {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

void Say(const RunConfig& config, const std::string& line) {
  if (config.progress) config.progress(line);
}

// The keys verify_sql returns.
std::unordered_set<std::string> PresentKeys(const std::string& url, const std::string& sql) {
  std::unordered_set<std::string> keys;
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  for (const auto& row : tx.exec(sql)) {
    if (!row[0].is_null()) keys.insert(row[0].as<std::string>());
  }
  return keys;
}

// Work that must run on the run's own thread, handed over from the fault
// scheduler: restarting the embedded cluster (a postmaster's parent-death
// signal follows the thread that started it, and that thread is this one).
class MainThreadTasks {
 public:
  // From another thread: runs `task` on the main thread and returns its result.
  std::string Run(std::function<std::string()> task) {
    std::packaged_task<std::string()> job(std::move(task));
    std::future<std::string> result = job.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return "the run was ending";
      jobs_.push_back(std::move(job));
    }
    return result.get();
  }
  // On the main thread.
  void RunPending() {
    std::vector<std::packaged_task<std::string()>> jobs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs.swap(jobs_);
    }
    for (auto& job : jobs) job();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    RunPending();
  }

 private:
  std::mutex mu_;
  bool closed_ = false;
  std::vector<std::packaged_task<std::string()>> jobs_;
};

// log_timezone's offset from UTC in seconds (the embedded cluster's log
// stamps its lines in that zone); 0 if it cannot be read.
long LogUtcOffset(const std::string& admin) {
  try {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    return tx
        .exec1(
            "SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE current_setting('log_timezone')) "
            "- (now() AT TIME ZONE 'UTC'))::bigint")[0]
        .as<long>();
  } catch (const std::exception&) {
    return 0;
  }
}

// The embedded cluster's account of how the run's sessions ended. The log
// reaches its file through the server's logging collector, a little after
// the sessions are gone from pg_stat_activity: read until every session the
// probe saw go has its disconnection line (or 1 s passed).
std::vector<DbSessionEnd> ReadSessionEnds(const EmbeddedPostgres& server, std::uintmax_t offset,
                                          const std::string& database, const Timeline& tl) {
  const long utc_offset = LogUtcOffset(server.AdminConnString());
  const Nanos last_sample = tl.db_samples.empty() ? kNever : tl.db_samples.back().t;
  std::vector<DbSessionEnd> ends;
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(20ms);
    ends = ReadDbSessionEnds(server.log_path().string(), offset, database, tl.epoch_unix_ms,
                             utc_offset);
    std::unordered_set<int> ended;
    for (const DbSessionEnd& e : ends) {
      if (e.ended != kNever) ended.insert(e.pid);
    }
    bool complete = true;
    for (const DbSession& s : tl.db_sessions) {
      if (s.last_seen < last_sample && ended.count(s.pid) == 0) complete = false;
    }
    if (complete) break;
  }
  return ends;
}

}  // namespace

Timeline RunScenario(const RunConfig& config) {
  const Scenario& scenario = *config.scenario;
  const Clock::time_point epoch = Clock::now();
  auto now = [&] { return (Clock::now() - epoch).count(); };
  Timeline tl;
  tl.scenario = scenario.name;
  tl.target_name = config.target_name;
  tl.seed = config.seed;
  if (scenario.load) {
    for (const RequestSpec& r : scenario.load->requests) {
      tl.request_kinds.push_back(r.method + " " + r.path.source());
    }
  }
  tl.epoch_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();

  std::unique_ptr<RunDatabase> db = RunDatabase::Create(*config.server, scenario.name);
  interrupt::ThrowIfRequested();
  // Where this run's part of the embedded cluster's log begins.
  const auto* embedded_server = dynamic_cast<const EmbeddedPostgres*>(config.server);
  std::uintmax_t log_offset = 0;
  if (embedded_server) {
    std::error_code ec;
    log_offset = std::filesystem::file_size(embedded_server->log_path(), ec);
    if (ec) log_offset = 0;
  }

  RunValues values;
  values.port = PickFreePort();
  values.database_url = db->url();
  values.binaries = config.binaries;
  std::string error;
  std::optional<std::vector<std::string>> argv = scenario.target.Argv(values, &error);
  if (!argv) throw UsageError(fmt::format("{}: target.command: {}", scenario.file, error));
  TargetOptions target;
  target.argv = *argv;
  for (const auto& [name, value] : scenario.target.env) {
    std::optional<std::string> v = value.Expand(values, &error);
    if (!v) throw UsageError(fmt::format("{}: target.env.{}: {}", scenario.file, name, error));
    target.env.push_back(name + "=" + *v);
  }
  target.port = values.port;
  target.stdout_path = (config.out_dir / (config.target_name + ".stdout")).string();
  target.stderr_path = (config.out_dir / (config.target_name + ".stderr")).string();
  std::optional<std::string> ready_path = scenario.target.ready.http_get.Expand(values, &error);
  if (!ready_path) throw UsageError(fmt::format("{}: target.ready: {}", scenario.file, error));
  target.ready_path = *ready_path;
  target.ready_timeout = scenario.target.ready.timeout;
  target.ready_interval = scenario.target.ready.interval;
  std::optional<LoadOptions> load_options;
  if (scenario.load) {
    load_options = MakeLoadOptions(*scenario.load, values, &error);
    if (!load_options) throw UsageError(fmt::format("{}: load: {}", scenario.file, error));
    load_options->seed = config.seed;
    load_options->key_prefix = fmt::format("{}-{:x}", db->name(), config.seed);
  }

  // A target that does not start is this run's error, not the suite's end:
  // the runs before and after it are judged and reported as usual.
  std::unique_ptr<TargetProcess> started;
  try {
    started = std::make_unique<TargetProcess>(target, epoch);
    tl.target_pid = started->pid();
    tl.spawned = now();
    tl.ready = started->WaitReady();
  } catch (const TargetError& e) {
    interrupt::ThrowIfRequested();  // an interrupted suite stops
    const std::string what = e.what();
    tl.start_error = what.substr(0, what.find("; its output:"));
    if (started) tl.target_log_tail = started->LogTail(20);
    return tl;
  }
  TargetProcess& process = *started;
  Say(config,
      fmt::format("{} ready after {} (pid {}, port {})", config.target_name,
                  FormatDuration(ToDuration(tl.ready - tl.spawned)), process.pid(), values.port));

  DbProbe db_probe(config.server->AdminConnString(), db->name(), epoch);
  db_probe.Start();
  const DbProbe::DatabaseCounters counters_before = db_probe.Counters();
  ProcProbe proc_probe(process.pid(), epoch);
  proc_probe.Start();
  // A few samples of the idle target before the load, waited for: a fixed
  // 30 ms sleep here read "0 threads before the load" (no sample yet) under
  // --jobs 2 on 2 cores, and threads.growth failed a correct server by +131.
  // (A target that exits meanwhile ends the probe: its own doing.)
  const bool sampled = proc_probe.WaitForSamples(3, 2s);
  if (const ProcSample idle = proc_probe.Latest(); idle.t != 0) {
    tl.threads_before_load = idle.threads;
  }
  if (!sampled && !proc_probe.ended()) {
    tl.harness_errors.push_back(
        "the /proc probe took fewer than 3 samples of the target in the 2s after its readiness");
  }

  std::unique_ptr<LoadGenerator> load;
  // The target's waits for a CPU judge only the load's late closes.
  std::unique_ptr<CpuWaitProbe> cpu_probe;
  Nanos time_zero = tl.ready;
  if (load_options) {
    cpu_probe = std::make_unique<CpuWaitProbe>(process.pid(), epoch, 10ms, 2ms,
                                               [&proc_probe] { return proc_probe.Descendants(); });
    cpu_probe->Start();
    load = std::make_unique<LoadGenerator>(*load_options, epoch);
    load->Start();
    while (load->started_at() == kNever) std::this_thread::sleep_for(100us);
    time_zero = load->started_at();
  }

  std::atomic<Nanos> first_signal{kNever};
  MainThreadTasks main_thread;
  FaultHooks hooks;
  hooks.send = [&](int sig, bool group) { return process.Signal(sig, group); };
  hooks.target_running = [&] { return !process.exited(); };
  hooks.target_port = values.port;
  hooks.first_delivered = [&](Nanos t) {
    first_signal = t;
    proc_probe.SetDense();
    db_probe.SetDense();
    if (cpu_probe) cpu_probe->SetDense();
    if (load) load->MarkFirstSignal(t);
  };
  std::vector<RestartWindow> restarts;  // written and read on this thread
  hooks.db_admin = config.server->AdminConnString();
  hooks.db_name = db->name();
  if (auto* embedded = dynamic_cast<EmbeddedPostgres*>(config.server)) {
    hooks.restart_db = [embedded, &main_thread, &restarts, &now] {
      return main_thread.Run([embedded, &restarts, &now] {
        restarts.push_back({now(), kNever});
        embedded->Restart();
        restarts.back().to = now();
        return std::string();
      });
    };
  }
  if (load) {
    hooks.stop_load = [&] { load->Stop(); };
    hooks.set_load_rate = [&](double rate) { return load->SetRate(rate); };
  }
  std::vector<std::string> patterns;
  for (const Fault& f : scenario.faults) CollectLogPatterns(f.trigger, &patterns);
  LogWatch log_watch({target.stdout_path, target.stderr_path}, patterns, epoch);
  TriggerInputs inputs;
  inputs.completed = [&] { return load ? load->completed() : std::uint64_t{0}; };
  inputs.inflight = [&] { return load ? load->inflight() : 0; };
  inputs.db_active = [&] { return db_probe.Latest().active; };
  inputs.log_matched = [&] { return log_watch.Matched(); };
  FaultScheduler faults(scenario.faults, time_zero, tl.ready, epoch, hooks, inputs, config.seed);
  faults.Start();

  // Wait for the exit, or declare a hang: no exit within `exit.within` of
  // the first fault (plus a second of grace to see it happen).
  const Duration within = scenario.expect.exit.within;
  Nanos last_status = 0;
  bool hung = false;
  while (!process.WaitExit(10ms)) {
    main_thread.RunPending();
    interrupt::ThrowIfRequested();
    const Nanos t = now();
    const Nanos ff = first_signal.load();
    if (ff != kNever && t > ff + (within + 1s).count()) {
      hung = true;
      break;
    }
    if (ff == kNever && faults.finished() && (!load || load->ended_at() != kNever)) {
      break;  // no fault could be delivered: nothing more will happen
    }
    if (config.status && load && t - last_status > 100'000'000) {
      last_status = t;
      const ProcSample ps = proc_probe.Latest();
      const DbSample ds = db_probe.Latest();
      config.status(fmt::format(
          "{:6.2f}s  {} done, {} in flight, {} ok, {} refused, {} dropped so far; threads {}, "
          "db sessions {} ({} active)",
          static_cast<double>(t - time_zero) / 1e9, load->completed(), load->inflight(),
          load->count(Outcome::kOk), load->count(Outcome::kRefused),
          load->completed() - load->count(Outcome::kOk) - load->count(Outcome::kRefused) -
              load->count(Outcome::kIdleClosed),
          ps.threads, ds.total(), ds.active));
    }
  }
  std::map<std::string, int> names = proc_probe.ThreadNames();
  tl.thread_names_at_exit.assign(names.begin(), names.end());
  if (process.exited()) {
    Say(config,
        fmt::format("{} exited: {}", config.target_name, process.exit_status()->ToString()));
  } else if (hung) {
    Say(config, fmt::format("{} did not exit within {} of the first fault: killing it",
                            config.target_name, FormatDuration(within)));
    process.Signal(SIGKILL, /*group=*/true);
    process.WaitExit(5s);
  }

  main_thread.Close();  // a fault waiting on the main thread gets an answer now
  faults.Stop();
  faults.Join();
  if (load) {
    load->Stop();  // after the exit (or the hang) nothing more is learnt
    load->Join();
    tl.load_start = load->started_at();
    tl.load_end = load->ended_at();
    tl.generator_stalls = load->TakeStalls();
    for (const auto& [err, count] : load->ClientErrors()) {
      const char* name = strerrorname_np(err);
      tl.harness_errors.push_back(fmt::format(
          "the load generator itself failed {} request{} with {} ({}): not the target's doing",
          count, count == 1 ? "" : "s", name ? name : "errno", std::strerror(err)));
    }
  }

  // Database sessions of a correct target are gone within milliseconds of
  // its exit; give them `settle`, then count what is left.
  const Nanos exit_or_now = process.exited() ? process.exit_time() : now();
  tl.db_sessions_gone = db_probe.WaitSessionsGone(exit_or_now, scenario.expect.db_sessions.settle);
  if (tl.db_sessions_gone == kNever) {
    // Sessions linger: make sure a sample at exit + settle shows them before
    // the leftovers (which may hold them) are killed.
    db_probe.WaitSampleAt(exit_or_now + scenario.expect.db_sessions.settle.count(), 200ms);
  }

  // Leftovers: the group and every descendant ever seen (a hung target was
  // killed above, with its group).
  tl.orphans = process.KillLeftovers(proc_probe.Descendants());

  proc_probe.Stop();
  if (cpu_probe) cpu_probe->Stop();
  if (!tl.orphans.empty()) {
    // Orphans may have held sessions; let the database see them go.
    db_probe.WaitSessionsGone(now(), 2s);
  }
  db_probe.Stop();
  const DbProbe::DatabaseCounters counters_after = db_probe.Counters();
  auto delta = [](long long before, long long after) {
    return before >= 0 && after >= 0 ? after - before : Timeline::kUnknown;
  };
  tl.sessions_abandoned =
      delta(counters_before.sessions_abandoned, counters_after.sessions_abandoned);
  tl.sessions_fatal = delta(counters_before.sessions_fatal, counters_after.sessions_fatal);
  tl.xact_rollback = delta(counters_before.xact_rollback, counters_after.xact_rollback);

  if (std::optional<ExitStatus> s = process.exit_status(); s && !hung) {
    tl.exited = process.exit_time();
    tl.exit_signaled = s->signaled;
    tl.exit_code = s->code;
    tl.exit_signal = s->signal;
  }
  tl.process_events = process.events();
  tl.faults = faults.TakeRecords();
  for (const FaultRecord& f : tl.faults) {
    if (f.delivered != kNever && f.signal != 0) {
      tl.first_signal = f.delivered;
      break;
    }
  }
  if (load) {
    tl.requests = load->TakeRecords();
    tl.write_keys = load->TakeWriteKeys();
    ExcuseServerCpuWaits(&tl.requests, tl.generator_stalls, cpu_probe->TakeWaits(),
                         load->options().race_window, &tl.server_cpu_waits);
  }
  tl.proc_samples = proc_probe.TakeSamples();
  tl.db_samples = db_probe.TakeSamples();
  tl.db_sessions = db_probe.TakeSessions();
  for (std::string& line :
       ProbeHarnessErrors(proc_probe.error(), db_probe.error(), db_probe.outages(), restarts, tl)) {
    tl.harness_errors.push_back(std::move(line));
  }
  if (embedded_server) {
    tl.db_session_ends = ReadSessionEnds(*embedded_server, log_offset, db->name(), tl);
    tl.db_log_read = true;
  }

  // Idle threads after the load: only measurable if the load ended before
  // the first fault.
  if (tl.load_end != kNever && (tl.first_signal == kNever || tl.load_end < tl.first_signal)) {
    const Nanos until = tl.first_signal == kNever ? tl.exited : tl.first_signal;
    int lowest = -1;
    for (const ProcSample& s : tl.proc_samples) {
      if (s.t >= tl.load_end && (until == kNever || s.t < until)) {
        lowest = lowest < 0 ? s.threads : std::min(lowest, s.threads);
      }
    }
    tl.threads_idle_after_load = lowest;
  }

  if (scenario.expect.writes) {
    std::optional<std::string> sql = scenario.expect.writes->verify_sql.Expand(values, &error);
    if (!sql)
      throw UsageError(fmt::format("{}: expect.writes.verify_sql: {}", scenario.file, error));
    // A query that cannot run leaves the writes unverified: the run is an
    // error that says why, its report written (it used to end gracecheck
    // with exit 2 and no report at all, the run's other checks lost).
    std::optional<std::unordered_set<std::string>> present;
    try {
      present = PresentKeys(db->url(), *sql);
    } catch (const std::exception& e) {
      std::string why = e.what();
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      tl.harness_errors.push_back(fmt::format(
          "expect.writes.verify_sql failed on the target's database, so no write could be "
          "verified: {}",
          why));
    }
    if (present) {
      for (const WriteKey& w : tl.write_keys) {
        const RequestRecord* r = RequestOf(tl, w);
        const bool acked = r && r->outcome == Outcome::kOk && r->status >= 200 && r->status < 300;
        const bool there = present->count(w.key) > 0;
        if (acked && !there) tl.lost_writes.push_back(w.key);
        if (!acked && there) tl.unacknowledged_applied.push_back(w.key);
      }
      tl.writes_verified = true;
    }
  }
  tl.target_log_tail = process.LogTail(20);
  db->Drop();
  return tl;
}

}  // namespace gracecheck
