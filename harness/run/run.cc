#include "run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
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
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cpu_wait.h"
#include "evidence.h"
#include "faults.h"
#include "interrupt.h"
#include "load.h"
#include "log_watch.h"
#include "ports.h"
#include "probes.h"
#include "summary.h"
#include "target_process.h"

namespace gracecheck {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

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

// One run as phases, each a method, in the order Execute calls them. What
// one phase leaves for the next is a member; the outside world is reached
// only through `parts_`.
class Run {
 public:
  Run(const RunConfig& config, RunParts& parts)
      : config_(config), scenario_(*config.scenario), parts_(parts), epoch_(Clock::now()) {}

  Timeline Execute() {
    Prepare();
    if (!Start()) return std::move(tl_);
    AwaitExitOrHang();
    Settle();
    Collect();
    return std::move(tl_);
  }

 private:
  Nanos Now() const { return (Clock::now() - epoch_).count(); }

  // The run's database, the target's argv and environment, the load's
  // options: every placeholder filled in, or a UsageError.
  void Prepare() {
    tl_.scenario = scenario_.name;
    tl_.scenario_file = scenario_.file;
    tl_.scenario_sha256 = scenario_.sha256;
    for (const Template& t : scenario_.target.command) tl_.target_command.push_back(t.source());
    tl_.target_name = config_.target_name;
    tl_.seed = config_.seed;
    if (scenario_.load) {
      for (const RequestSpec& r : scenario_.load->requests) {
        tl_.request_kinds.push_back(r.method + " " + r.path.source());
      }
    }
    tl_.epoch_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();

    db_ = parts_.CreateDatabase(scenario_.name);
    tl_.sessions_unmeasurable = db_.sessions_unmeasurable;
    interrupt::ThrowIfRequested();

    values_.port = PickFreePort();
    values_.database_url = db_.url;
    if (const std::optional<PoolerSpec>& pooler = scenario_.target.pooler) {
      // The target reaches its database through the pooler. One that does
      // not start is this run's error, as a target that does not start
      // (a missing binary was said before anything started): the suite's
      // other runs are judged and every report written.
      try {
        values_.database_url = parts_.StartPooler(pooler->mode, pooler->pool_size);
        tl_.pooler.emplace();
        tl_.pooler->describe = parts_.PoolerDescription();
      } catch (const PostgresError& e) {
        tl_.start_error = e.what();
      }
      interrupt::ThrowIfRequested();
    }
    values_.binaries = config_.binaries;
    std::string error;
    std::optional<std::vector<std::string>> argv = scenario_.target.Argv(values_, &error);
    if (!argv) throw UsageError(fmt::format("{}: target.command: {}", scenario_.file, error));
    target_.argv = *argv;
    tl_.target_argv = *argv;
    for (const auto& [name, value] : scenario_.target.env) {
      std::optional<std::string> v = value.Expand(values_, &error);
      if (!v) throw UsageError(fmt::format("{}: target.env.{}: {}", scenario_.file, name, error));
      target_.env.push_back(name + "=" + *v);
    }
    target_.port = values_.port;
    target_.stdout_path = (config_.out_dir / (config_.target_name + ".stdout")).string();
    target_.stderr_path = (config_.out_dir / (config_.target_name + ".stderr")).string();
    std::optional<std::string> ready_path = scenario_.target.ready.http_get.Expand(values_, &error);
    if (!ready_path) throw UsageError(fmt::format("{}: target.ready: {}", scenario_.file, error));
    target_.ready_path = *ready_path;
    target_.ready_timeout = scenario_.target.ready.timeout;
    target_.ready_interval = scenario_.target.ready.interval;
    if (scenario_.load) {
      load_options_ = MakeLoadOptions(*scenario_.load, values_, &error);
      if (!load_options_) throw UsageError(fmt::format("{}: load: {}", scenario_.file, error));
      load_options_->seed = config_.seed;
      load_options_->key_prefix = fmt::format("{}-{:x}", db_.name, config_.seed);
    }
  }

  // The target spawned and ready, then the probes, the load and the faults.
  // A target that does not start is this run's error, not the suite's end
  // (false, its reason in start_error): the runs before and after it are
  // judged and reported as usual.
  bool Start() {
    if (!tl_.start_error.empty()) return false;  // its pooler did not start
    try {
      process_ = parts_.StartTarget(target_, epoch_);
      tl_.target_pid = process_->pid();
      tl_.spawned = Now();
      tl_.ready = process_->WaitReady();
    } catch (const TargetError& e) {
      interrupt::ThrowIfRequested();  // an interrupted suite stops
      const std::string what = e.what();
      tl_.start_error = what.substr(0, what.find("; its output:"));
      if (process_) tl_.target_log_tail = process_->LogTail(20);
      return false;  // the database goes with the parts
    }
    Say(fmt::format("{} ready after {} (pid {}, port {})", config_.target_name,
                    FormatDuration(ToDuration(tl_.ready - tl_.spawned)), process_->pid(),
                    values_.port));

    // Behind a pooler, the target's sessions are its connections to the
    // pooler; the server's (the pooler's own) are watched beside them.
    if (tl_.pooler) {
      server_probe_ = parts_.WatchSessions(epoch_);
      server_probe_->Start();
      server_counters_before_ = server_probe_->Counters();
      db_probe_ = parts_.WatchPoolerClients(epoch_);
    } else {
      db_probe_ = parts_.WatchSessions(epoch_);
    }
    db_probe_->Start();
    counters_before_ = db_probe_->Counters();
    proc_probe_ = parts_.WatchProcesses(process_->pid(), epoch_);
    proc_probe_->Start();
    // A few samples of the idle target before the load, waited for: a fixed
    // 30 ms sleep here read "0 threads before the load" (no sample yet) under
    // --jobs 2 on 2 cores, and threads.growth failed a correct server by +131.
    // (A target that exits meanwhile ends the probe: its own doing.)
    const bool sampled = proc_probe_->WaitForSamples(3, 2s);
    if (!sampled && !proc_probe_->ended()) {
      tl_.harness_errors.push_back(
          "the /proc probe took fewer than 3 samples of the target in the 2s after its readiness");
    } else {
      WaitForTheTree();
    }
    if (const ProcSample idle = proc_probe_->Latest(); idle.t != 0) {
      tl_.threads_before_load = idle.threads;
    }
    std::set<int> pids = proc_probe_->Descendants();
    pids.insert(process_->pid());
    tl_.listeners = parts_.ListenersOn(values_.port, pids);

    time_zero_ = tl_.ready;
    if (load_options_) {
      // The target's waits for a CPU judge only the load's late closes.
      ProcWatch& tree = *proc_probe_;
      cpu_probe_ =
          parts_.WatchCpuWaits(process_->pid(), epoch_, [&tree] { return tree.Descendants(); });
      cpu_probe_->Start();
      load_ = parts_.MakeLoad(*load_options_, epoch_);
      load_->Start();
      while (load_->started_at() == kNever) std::this_thread::sleep_for(100us);
      time_zero_ = load_->started_at();
    }
    StartFaults();
    return true;
  }

  void StartFaults() {
    FaultHooks hooks;
    hooks.send = [this](int sig, bool group) { return process_->Signal(sig, group); };
    hooks.target_running = [this] { return !process_->exited(); };
    hooks.target_port = values_.port;
    hooks.first_delivered = [this](Nanos t) {
      first_signal_ = t;
      proc_probe_->SetDense();
      db_probe_->SetDense();
      if (server_probe_) server_probe_->SetDense();
      if (cpu_probe_) cpu_probe_->SetDense();
      if (load_) load_->MarkFirstSignal(t);
    };
    hooks.db_admin = parts_.AdminConnString();
    hooks.db_name = db_.name;
    if (parts_.CanRestartDatabase()) {
      hooks.restart_db = [this] {
        return main_thread_.Run([this] {
          restarts_.push_back({Now(), kNever});
          parts_.RestartDatabase();
          restarts_.back().to = Now();
          return std::string();
        });
      };
    }
    if (load_) {
      hooks.stop_load = [this] { load_->Stop(); };
      hooks.set_load_rate = [this](double rate) { return load_->SetRate(rate); };
    }
    std::vector<std::string> patterns;
    for (const Fault& f : scenario_.faults) CollectLogPatterns(f.trigger, &patterns);
    log_watch_ = std::make_unique<LogWatch>(
        std::vector<std::string>{target_.stdout_path, target_.stderr_path}, patterns, epoch_);
    TriggerInputs inputs;
    inputs.completed = [this] { return load_ ? load_->completed() : std::uint64_t{0}; };
    inputs.inflight = [this] { return load_ ? load_->inflight() : 0; };
    // Queries running on the server: the pooler's connections, behind one.
    inputs.db_active = [this] {
      return (server_probe_ ? server_probe_ : db_probe_)->Latest().active;
    };
    inputs.log_matched = [this] { return log_watch_->Matched(); };
    faults_ = std::make_unique<FaultScheduler>(scenario_.faults, time_zero_, tl_.ready, epoch_,
                                               hooks, inputs, config_.seed);
    faults_->Start();
  }

  // Waits for the exit, or declares a hang: no exit within `exit.within` of
  // the first signal (plus a second of grace to see it happen), and kills it.
  void AwaitExitOrHang() {
    const Duration within = scenario_.expect.exit.within;
    Nanos last_status = 0;
    while (!process_->WaitExit(10ms)) {
      main_thread_.RunPending();
      interrupt::ThrowIfRequested();
      const Nanos t = Now();
      const Nanos ff = first_signal_.load();
      if (ff != kNever && t > ff + (within + 1s).count()) {
        hung_ = true;
        break;
      }
      // No fault could be delivered: nothing more will happen. The first
      // signal is read again once the scheduler is finished: it may have
      // sent it between the read above and that, and the run then took
      // the target's graceful exit for "nothing more" and SIGKILLed it with
      // its leftovers (process.exit "signal SIGKILL after 10.8ms", 1 of 20
      // runs of a pre-fork server on a loaded machine).
      if (ff == kNever && faults_->finished() && first_signal_.load() == kNever &&
          (!load_ || load_->ended_at() != kNever)) {
        break;
      }
      // The moment the first signal went out, marked in the progress: the
      // status line after it is the shutdown's.
      if (ff != kNever && !signal_said_) {
        signal_said_ = true;
        Say(fmt::format("first signal sent at {:.2f}s",
                        static_cast<double>(ff - time_zero_) / 1e9));
      }
      if (config_.status && load_ && t - last_status > 100'000'000) {
        last_status = t;
        Status(t);
      }
    }
    std::map<std::string, int> names = proc_probe_->ThreadNames();
    tl_.thread_names_at_exit.assign(names.begin(), names.end());
    if (process_->exited()) {
      Say(fmt::format("{} exited: {}", config_.target_name, process_->exit_status()->ToString()));
    } else if (hung_) {
      Say(fmt::format("{} did not exit within {} of the first fault: killing it",
                      config_.target_name, FormatDuration(within)));
      process_->Signal(SIGKILL, /*group=*/true);
      process_->WaitExit(5s);
    }
  }

  void Status(Nanos t) {
    const ProcSample ps = proc_probe_->Latest();
    const DbSample ds = db_probe_->Latest();
    config_.status(fmt::format(
        "{:6.2f}s  {} done, {} in flight, {} ok, {} refused, {} dropped so far; threads {}, "
        "db sessions {} ({} active)",
        static_cast<double>(t - time_zero_) / 1e9, load_->completed(), load_->inflight(),
        load_->count(Outcome::kOk), load_->count(Outcome::kRefused),
        load_->completed() - load_->count(Outcome::kOk) - load_->count(Outcome::kRefused) -
            load_->count(Outcome::kIdleClosed),
        ps.threads, ds.total(), ds.active));
  }

  // Faults and load stopped; the database sessions given `settle`; the
  // leftovers killed (orphans); the probes stopped.
  void Settle() {
    main_thread_.Close();  // a fault waiting on the main thread gets an answer now
    faults_->Stop();
    faults_->Join();
    if (load_) {
      load_->Stop();  // after the exit (or the hang) nothing more is learnt
      load_->Join();
      tl_.load_start = load_->started_at();
      tl_.load_end = load_->ended_at();
      tl_.generator_stalls = load_->TakeStalls();
      for (const auto& [err, count] : load_->ClientErrors()) {
        const char* name = strerrorname_np(err);
        tl_.harness_errors.push_back(fmt::format(
            "the load generator itself failed {} request{} with {} ({}): not the target's doing",
            count, count == 1 ? "" : "s", name ? name : "errno", std::strerror(err)));
      }
    }

    // Database sessions of a correct target are gone within milliseconds of
    // its exit; give them `settle`, then count what is left.
    const Duration settle = scenario_.expect.db_sessions.settle;
    const Nanos exit_or_now = process_->exited() ? process_->exit_time() : Now();
    tl_.db_sessions_gone = db_probe_->WaitSessionsGone(exit_or_now, settle);
    if (tl_.db_sessions_gone == kNever) {
      // Sessions linger: make sure a sample at exit + settle shows them before
      // the leftovers (which may hold them) are killed.
      db_probe_->WaitSampleAt(exit_or_now + settle.count(), 200ms);
    }

    // Leftovers: the group and every descendant ever seen (a hung target was
    // killed above, with its group). One that leaves by itself within
    // kOrphanSettle of the exit is no orphan: a helper whose cue is its
    // parent's exit (Python's multiprocessing resource tracker leaves 8-11
    // ms after it, up to 354 ms on a loaded machine). Those still there
    // then are, and are killed.
    if (!hung_ && process_->exited()) {
      const Nanos until = process_->exit_time() + kOrphanSettle;
      // (Every 5 ms: a look at the group reads every process's stat.)
      while (Now() < until && !process_->Leftovers(proc_probe_->Descendants()).empty()) {
        std::this_thread::sleep_for(5ms);
      }
    }
    tl_.orphans = process_->KillLeftovers(proc_probe_->Descendants());

    proc_probe_->Stop();
    if (cpu_probe_) cpu_probe_->Stop();
    if (!tl_.orphans.empty()) {
      // Orphans may have held sessions; let the database see them go.
      db_probe_->WaitSessionsGone(Now(), 2s);
    }
    db_probe_->Stop();
    if (server_probe_) server_probe_->Stop();
  }

  // A tree still starting at its readiness (a pre-fork master that
  // answered before its last worker had its threads: refapi's did, and
  // threads.growth counted that worker's 130 threads as growth in 3 of 50
  // soak runs) would give the load a baseline it then outgrows. Waits until
  // the tree's processes and threads are unchanged for kTreeSteady, at most
  // kTreeSettleLimit after the readiness; says so if they still changed.
  // How long WaitForTheTree may take: kTreeSettleLimit, or less when a
  // fault timed from the readiness (every time trigger without a load;
  // `since: ready` with one) is due sooner, so that the wait never makes a
  // fault late: it stops kFaultMargin before the first one is due.
  Duration TreeSettleLimit() const {
    constexpr auto kFaultMargin = 200ms;
    Duration limit = kTreeSettleLimit;
    for (const Fault& f : scenario_.faults) {
      const auto* at = std::get_if<AtTime>(&f.trigger);
      const bool from_ready = !scenario_.load || (at && at->since_ready);
      if (!from_ready) continue;
      const Duration due = EarliestOf(f.trigger, scenario_.faults).at;
      limit = std::min(limit, std::max<Duration>(Duration::zero(), due - kFaultMargin));
    }
    return limit;
  }

  static constexpr auto kTreeSettleLimit = 2s;

  void WaitForTheTree() {
    constexpr auto kTreeSteady = 100ms;
    const Duration limit = TreeSettleLimit();
    if (limit < kTreeSteady) return;  // a fault is due first: the baseline as sampled
    auto shape = [this] {
      return std::make_pair(proc_probe_->Latest().threads, proc_probe_->Descendants());
    };
    const auto first = shape();
    auto last = first;
    auto steady_since = Clock::now();
    const auto give_up = steady_since + limit;
    while (!proc_probe_->ended()) {
      const auto now = Clock::now();
      if (now - steady_since >= kTreeSteady) {
        tl_.tree_settled = Now();
        return;
      }
      if (now >= give_up) break;
      std::this_thread::sleep_for(5ms);
      if (auto s = shape(); s != last) {
        last = std::move(s);
        steady_since = Clock::now();
      }
    }
    if (proc_probe_->ended()) return;
    tl_.warnings.push_back(fmt::format(
        "the target's process tree was still changing {} after its readiness{} ({} threads in {} "
        "then, {} in {} now): threads.growth's baseline before the load may miss a process "
        "still starting; a readiness check that waits for every worker avoids it",
        FormatDuration(limit),
        limit < kTreeSettleLimit ? ", when the harness stopped waiting for the first fault" : "",
        first.first, Plural(static_cast<int>(first.second.size()) + 1, "process", "processes"),
        last.first, Plural(static_cast<int>(last.second.size()) + 1, "process", "processes")));
  }

  // What the parts saw, into the timeline; the writes verified; the run's
  // database dropped.
  void Collect() {
    const DbCounters counted = CountedSince(counters_before_, db_probe_->Counters());
    tl_.sessions_abandoned = counted.sessions_abandoned;
    tl_.sessions_fatal = counted.sessions_fatal;
    tl_.xact_rollback = counted.xact_rollback;

    if (std::optional<ExitStatus> s = process_->exit_status(); s && !hung_) {
      tl_.exited = process_->exit_time();
      tl_.exit_signaled = s->signaled;
      tl_.exit_code = s->code;
      tl_.exit_signal = s->signal;
    }
    tl_.process_events = process_->events();
    tl_.faults = faults_->TakeRecords();
    for (const FaultRecord& f : tl_.faults) {
      if (f.delivered != kNever && f.signal != 0) {
        tl_.first_signal = f.delivered;
        break;
      }
    }
    if (load_) {
      tl_.requests = load_->TakeRecords();
      tl_.write_keys = load_->TakeWriteKeys();
      ExcuseServerCpuWaits(&tl_.requests, tl_.generator_stalls, cpu_probe_->TakeWaits(),
                           load_->options().race_window, &tl_.server_cpu_waits);
      if (std::string note = SaturationNote(tl_); !note.empty()) tl_.warnings.push_back(note);
    }
    tl_.proc_samples = proc_probe_->TakeSamples();
    tl_.processes = proc_probe_->TakeProcesses();
    WarnOfAWrapper();
    tl_.db_samples = db_probe_->TakeSamples();
    tl_.db_sessions = db_probe_->TakeSessions();
    if (const std::set<std::string> others = db_probe_->OtherRoles(); !others.empty()) {
      tl_.warnings.push_back(fmt::format(
          "sessions on the run's database by {} {} were not counted as the target's: only the "
          "run's role, {}, is (a pooler's auth_query session, or a target that logs in as "
          "another role than {{database_url}}'s)",
          others.size() == 1 ? "role" : "roles", fmt::join(others, ", "), db_.name));
    }
    if (!tl_.sessions_unmeasurable.empty()) {
      tl_.warnings.push_back(tl_.sessions_unmeasurable + "; the db.* session checks are skipped");
    }
    for (std::string& line :
         ProbeHarnessErrors(proc_probe_->error(), db_probe_->error(), db_probe_->outages(),
                            restarts_, tl_, tl_.pooler ? kPoolerClientsNames : DbSourceNames{})) {
      tl_.harness_errors.push_back(std::move(line));
    }
    if (tl_.pooler) {
      CollectBehindThePooler();
    } else if (std::optional<std::vector<DbSessionEnd>> ends = parts_.SessionEnds(tl_)) {
      tl_.db_session_ends = std::move(*ends);
      tl_.db_log_read = true;
    }

    // Idle threads after the load: only measurable if the load ended before
    // the first signal.
    if (tl_.load_end != kNever && (tl_.first_signal == kNever || tl_.load_end < tl_.first_signal)) {
      const Nanos until = tl_.first_signal == kNever ? tl_.exited : tl_.first_signal;
      int lowest = -1;
      // A sample counts if it began after the load's end and its reading of
      // the tree ended before the signal (or the exit).
      for (const ProcSample& s : tl_.proc_samples) {
        if (s.t >= tl_.load_end && (until == kNever || s.read_end < until)) {
          lowest = lowest < 0 ? s.threads : std::min(lowest, s.threads);
        }
      }
      tl_.threads_idle_after_load = lowest;
    }

    if (scenario_.expect.writes) VerifyWrites(*scenario_.expect.writes);
    tl_.target_log_tail = process_->LogTail(20);
    parts_.StopPooler(config_.out_dir / "pgbouncer.log");
    parts_.DropDatabase();
  }

  // Behind a pooler: the target's sessions ended as the pooler's log says
  // (a client that vanished is an abandoned session); the server's view of
  // the pooler's connections kept beside them.
  void CollectBehindThePooler() {
    tl_.db_session_ends = parts_.PoolerClientEnds(tl_);
    tl_.db_log_read = true;
    tl_.sessions_abandoned = 0;
    tl_.sessions_fatal = 0;
    for (const DbSessionEnd& e : tl_.db_session_ends) tl_.sessions_abandoned += e.client_vanished;
    PoolerView& p = *tl_.pooler;
    const DbCounters counted = CountedSince(server_counters_before_, server_probe_->Counters());
    p.server_sessions_abandoned = counted.sessions_abandoned;
    p.server_sessions_fatal = counted.sessions_fatal;
    tl_.xact_rollback = counted.xact_rollback;
    p.server_samples = server_probe_->TakeSamples();
    p.server_sessions = server_probe_->TakeSessions();
    for (std::string& line :
         ProbeHarnessErrors({}, server_probe_->error(), server_probe_->outages(), restarts_, tl_)) {
      tl_.harness_errors.push_back(std::move(line));
    }
    Timeline server;
    server.epoch_unix_ms = tl_.epoch_unix_ms;
    server.db_samples = p.server_samples;
    server.db_sessions = p.server_sessions;
    if (std::optional<std::vector<DbSessionEnd>> ends = parts_.SessionEnds(server)) {
      p.server_session_ends = std::move(*ends);
      p.server_log_read = true;
    }
    // A mode the target cannot work with, in the server's own words.
    int unknown = 0;
    for (const DbSessionEnd& e : p.server_session_ends) unknown += e.unknown_statements;
    if (unknown > 0) {
      tl_.warnings.push_back(fmt::format(
          "{} statements of the target failed on the server with 'prepared statement \"…\" does "
          "not exist' (server log): it prepares named statements, which a pooler in transaction "
          "mode does not keep from one transaction to the next (PgBouncer before 1.21); send "
          "them unnamed (refapi --statements inline) or use session mode",
          unknown));
    }
  }

  // A target that does not hold its listening socket while a descendant
  // does is a wrapper (sh, npm start, an entrypoint script): the signals go
  // to it, not to the server.
  void WarnOfAWrapper() {
    const std::vector<int>& holders = tl_.listeners;
    if (holders.empty() ||
        std::find(holders.begin(), holders.end(), tl_.target_pid) != holders.end()) {
      return;
    }
    auto named = [&](int pid) {
      for (const TreeProcess& p : tl_.processes) {
        if (p.pid == pid) return fmt::format("pid {} ({})", pid, p.command);
      }
      return fmt::format("pid {}", pid);
    };
    std::vector<std::string> servers;
    for (int pid : holders) servers.push_back(named(pid));
    tl_.warnings.push_back(fmt::format(
        "the target, {}, does not hold the socket listening on port {}; {} {}. Signals go to the "
        "target: if it is a wrapper (a shell, npm start, an entrypoint script) that neither "
        "execs the server nor forwards them, the server is never told to stop (a classic "
        "container entrypoint bug)",
        named(tl_.target_pid), values_.port, fmt::join(servers, ", "),
        servers.size() == 1 ? "does" : "do"));
  }

  void VerifyWrites(const WritesExpectation& writes) {
    std::string error;
    std::optional<std::string> sql = writes.verify_sql.Expand(values_, &error);
    if (!sql)
      throw UsageError(fmt::format("{}: expect.writes.verify_sql: {}", scenario_.file, error));
    // A query that cannot run leaves the writes unverified: the run is an
    // error that says why, its report written (it used to end gracecheck
    // with exit 2 and no report at all, the run's other checks lost).
    std::optional<std::unordered_set<std::string>> present;
    try {
      present = parts_.QueryKeys(*sql);
    } catch (const std::exception& e) {
      std::string why = e.what();
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      tl_.harness_errors.push_back(fmt::format(
          "expect.writes.verify_sql failed on the target's database, so no write could be "
          "verified: {}",
          why));
    }
    if (!present) return;
    for (const WriteKey& w : tl_.write_keys) {
      const RequestRecord* r = RequestOf(tl_, w);
      const bool acked = r && r->outcome == Outcome::kOk && r->status >= 200 && r->status < 300;
      const bool there = present->count(w.key) > 0;
      if (acked && !there) tl_.lost_writes.push_back(w.key);
      if (!acked && there) tl_.unacknowledged_applied.push_back(w.key);
    }
    tl_.writes_verified = true;
  }

  void Say(const std::string& line) const {
    if (config_.progress) config_.progress(line);
  }

  const RunConfig& config_;
  const Scenario& scenario_;
  RunParts& parts_;
  const Clock::time_point epoch_;
  Timeline tl_;

  // Prepare's
  RunParts::Database db_;
  RunValues values_;
  TargetOptions target_;
  std::optional<LoadOptions> load_options_;

  // Start's. Declared in the order they may be destroyed in reverse: the
  // faults (which call into the others) first, the target last.
  std::unique_ptr<Target> process_;
  std::unique_ptr<DbWatch> db_probe_;      // the target's sessions
  std::unique_ptr<DbWatch> server_probe_;  // behind a pooler: the server's
  std::unique_ptr<ProcWatch> proc_probe_;
  std::unique_ptr<CpuWatch> cpu_probe_;
  std::unique_ptr<Load> load_;
  std::unique_ptr<LogWatch> log_watch_;
  DbCounters counters_before_;
  DbCounters server_counters_before_;
  Nanos time_zero_ = 0;
  std::atomic<Nanos> first_signal_{kNever};
  bool signal_said_ = false;  // the progress said when the first signal went out
  MainThreadTasks main_thread_;
  std::vector<RestartWindow> restarts_;  // written and read on the run's thread
  std::unique_ptr<FaultScheduler> faults_;

  // AwaitExitOrHang's
  bool hung_ = false;
};

}  // namespace

Timeline RunScenario(const RunConfig& config, RunParts& parts) {
  return Run(config, parts).Execute();
}

Timeline RunScenario(const RunConfig& config) {
  std::unique_ptr<RunParts> parts = PostgresParts(*config.server);
  return RunScenario(config, *parts);
}

}  // namespace gracecheck
