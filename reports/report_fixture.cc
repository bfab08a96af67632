#include "report_fixture.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "checks.h"
#include "json.h"

namespace gracecheck::testing {

namespace {

constexpr Nanos kMs = 1'000'000;
constexpr Nanos kUs = 1'000;

RequestRecord Request(std::uint32_t id, std::uint32_t connection, std::uint16_t reuse,
                      Outcome outcome, Nanos intended, Nanos latency, bool after_fault) {
  RequestRecord r;
  r.connection = connection;
  r.reuse = reuse;
  r.kind = static_cast<std::uint16_t>(id % 3);
  r.outcome = outcome;
  r.intended = intended;
  if (reuse == 0) r.connected = intended + 80 * kUs;
  r.written = intended + 150 * kUs;
  if (outcome == Outcome::kOk || outcome == Outcome::kHttpError) {
    r.status = outcome == Outcome::kOk ? 200 : 503;
    r.first_byte = intended + latency - 100 * kUs;
    r.bytes = 142;
  }
  if (outcome == Outcome::kRefused) {
    r.connected = kNever;
    r.written = kNever;
  }
  r.done = intended + latency;
  if (after_fault) r.flags |= RequestRecord::kAfterSignal;
  return r;
}

// What both runs share: spawned at 0, ready at 80ms, load 100ms..1100ms,
// SIGTERM scheduled at 600ms.
Timeline Base() {
  Timeline tl;
  tl.scenario = "sigterm-mid-load";
  tl.request_kinds = {"GET /items/{random:1..1000}", "POST /items", "GET /slow?ms=300"};
  tl.epoch_unix_ms = 1714557600123;
  tl.seed = 42;
  tl.target_pid = 31337;
  tl.spawned = 0;
  tl.ready = 80 * kMs;
  tl.load_start = 100 * kMs;
  tl.load_end = 1100 * kMs;
  tl.first_signal = 600 * kMs + 150 * kUs;
  tl.threads_before_load = 6;
  tl.sessions_abandoned = 0;

  std::uint32_t id = 1;
  for (int i = 0; i < 10; ++i, ++id) {
    tl.requests.push_back(Request(id, 1 + id % 4, static_cast<std::uint16_t>(i / 4), Outcome::kOk,
                                  100 * kMs + i * 50 * kMs, (2 + i % 3) * kMs, false));
  }
  tl.write_keys = {{1, "k-0002"}, {4, "k-0005"}, {7, "k-0008"}};  // the 2nd, 5th and 8th requests

  FaultRecord term;
  term.name = "SIGTERM";
  term.signal = 15;
  term.scheduled = 600 * kMs;
  term.delivered = tl.first_signal;
  term.tolerance = std::chrono::milliseconds(100);
  tl.faults.push_back(term);

  tl.process_events = {{0, ProcessEvent::Kind::kSpawned, 31337, ""},
                       {80 * kMs, ProcessEvent::Kind::kReady, 0, ""},
                       {tl.first_signal, ProcessEvent::Kind::kSignalSent, 15, "process"}};

  const int threads[] = {6, 6, 14, 14, 14, 14, 9, 2, 1, 1};
  for (int i = 0; i < 10; ++i) {
    ProcSample s;
    s.t = 50 * kMs + i * 100 * kMs;
    s.threads = threads[i];
    s.fds = 10 + threads[i];
    s.rss_kb = 8000 + 100 * i;
    s.signals_read = true;
    s.sig_blocked = std::uint64_t{1} << (15 - 1);  // SIGTERM, for sigwait
    tl.proc_samples.push_back(s);
  }
  for (int i = 0; i < 10; ++i) {
    DbSample s;
    s.t = 55 * kMs + i * 100 * kMs;
    if (i >= 1 && i <= 6) {
      s.active = i % 2 + 1;
      s.idle = 4 - i % 2;
    }
    tl.db_samples.push_back(s);
  }
  for (int i = 0; i < 4; ++i) {
    DbSession s;
    s.pid = 7100 + i;
    s.backend_start = "2024-05-01 10:00:00.2" + std::to_string(i) + "+00";
    s.client_port = 40000 + i;
    s.first_seen = 155 * kMs;
    s.last_seen = 655 * kMs;
    s.last_state = "idle";
    s.last_query = i == 0 ? "SELECT pg_sleep($1)" : "SELECT id, value FROM items WHERE id = $1";
    tl.db_sessions.push_back(s);
  }
  return tl;
}

// The process probe stops when the process is gone.
void DropProcSamplesAfterExit(Timeline* tl) {
  std::vector<ProcSample> kept;
  for (const ProcSample& s : tl->proc_samples) {
    if (s.t < tl->exited) kept.push_back(s);
  }
  tl->proc_samples = std::move(kept);
}

}  // namespace

Timeline PassingRun() {
  Timeline tl = Base();
  tl.target_name = "refapi";
  std::uint32_t id = 11;
  tl.requests.push_back(Request(id++, 2, 3, Outcome::kOk, 600 * kMs + 400 * kUs, 180 * kMs, true));
  tl.requests.push_back(Request(id++, 3, 3, Outcome::kIdleClosed, 620 * kMs, 1 * kMs, true));
  tl.requests.push_back(Request(id++, 5, 0, Outcome::kOk, 650 * kMs, 130 * kMs, true));
  for (int i = 0; i < 4; ++i, ++id) {
    tl.requests.push_back(
        Request(id, 6 + id, 0, Outcome::kRefused, 800 * kMs + i * 50 * kMs, 200 * kUs, true));
  }
  tl.exited = 790 * kMs;
  tl.process_events.push_back({tl.exited, ProcessEvent::Kind::kExited, 0, ""});
  // The pool closed before the exit; the first sample after it shows none.
  tl.db_sessions_gone = 855 * kMs;
  tl.thread_names_at_exit = {{"refapi", 1}};
  tl.writes_verified = true;
  tl.target_log_tail = "refapi: SIGTERM: draining 2 requests\nrefapi: pool closed\n";
  DropProcSamplesAfterExit(&tl);
  return tl;
}

Timeline FailingRun() {
  Timeline tl = Base();
  tl.target_name = "refapi-bug-drop";
  std::uint32_t id = 11;
  RequestRecord slow = Request(id++, 2, 3, Outcome::kEof, 500 * kMs, 110 * kMs, false);
  tl.requests.push_back(slow);  // sent before the signal, cut off after it
  tl.requests.push_back(
      Request(id++, 3, 2, Outcome::kReset, 600 * kMs + 400 * kUs, 12 * kMs, true));
  RequestRecord busy = Request(id++, 5, 0, Outcome::kHttpError, 650 * kMs, 3 * kMs, true);
  tl.requests.push_back(busy);
  for (int i = 0; i < 3; ++i, ++id) {
    tl.requests.push_back(
        Request(id, 6 + id, 0, Outcome::kRefused, 700 * kMs + i * 50 * kMs, 200 * kUs, true));
  }
  tl.exited = 612 * kMs + 250 * kUs;
  tl.exit_code = 2;
  tl.process_events.push_back({tl.exited, ProcessEvent::Kind::kExited, 2, ""});
  tl.process_events.push_back({1620 * kMs, ProcessEvent::Kind::kOrphanKilled, 31340, ""});
  tl.orphans = {31340};
  // Two pooled sessions outlive the process (held by the orphan).
  for (DbSample& s : tl.db_samples) {
    if (s.t > tl.exited) {
      s.active = 0;
      s.idle = 2;
    }
  }
  for (int i = 0; i < 3; ++i) {
    DbSample s;
    s.t = 1055 * kMs + i * 300 * kMs;
    s.idle = 2;
    tl.db_samples.push_back(s);
  }
  tl.db_sessions[1].last_seen = 1655 * kMs;
  tl.db_sessions[2].last_seen = 1655 * kMs;
  tl.sessions_abandoned = 2;
  tl.thread_names_at_exit = {{"refapi-bug-drop", 1}, {"worker", 4}};
  tl.writes_verified = true;
  tl.lost_writes = {"k-0008"};
  tl.target_log_tail =
      "refapi: connecting to postgres://run_42:hunter2@127.0.0.1:5433/run_42\n"
      "refapi: SIGTERM: exiting\n";
  DropProcSamplesAfterExit(&tl);
  return tl;
}

Timeline InvalidRun() {
  Timeline tl = PassingRun();
  tl.target_name = "refapi-invalid";
  tl.harness_errors = {
      "the database monitor connection was lost at +52.0ms: terminating connection due to "
      "administrator command; reconnected after 10.3ms",
      "the /proc probe died at +80.0ms: <cannot read /proc/31337/status> & stopped sampling"};
  return tl;
}

Timeline NotStartedRun() {
  Timeline tl;
  tl.scenario = "sigterm-mid-load";
  tl.target_name = "crash";
  tl.seed = 7;
  tl.epoch_unix_ms = 1'764'000'000'000;
  tl.target_pid = 31338;
  tl.spawned = 0;
  tl.start_error = "the target exited before it was ready (exit 7)";
  tl.target_log_tail = "boom: cannot open config <app.yaml>\n";
  return tl;
}

Expectations FixtureExpectations() {
  Expectations e;
  e.threads = ThreadExpectation{2, 2};
  e.writes = WritesExpectation{};
  return e;
}

nlohmann::json RunJsonOf(const Timeline& tl) {
  nlohmann::json report = ReportJson({{&tl, RunChecks(tl, FixtureExpectations())}});
  return AsReadBack(report)["runs"][0];
}

namespace {

// PassingRun() and `second`, judged, as read back from the report's file.
nlohmann::json ReportWithPassingRunAnd(const Timeline& second) {
  const Timeline pass = PassingRun();
  nlohmann::json report = ReportJson({{&pass, RunChecks(pass, FixtureExpectations())},
                                      {&second, RunChecks(second, FixtureExpectations())}});
  report["gracecheck_version"] = "(version)";
  return AsReadBack(report);
}

}  // namespace

nlohmann::json FixtureReport() { return ReportWithPassingRunAnd(FailingRun()); }

nlohmann::json InvalidRunReport() { return ReportWithPassingRunAnd(InvalidRun()); }

nlohmann::json NotStartedReport() { return ReportWithPassingRunAnd(NotStartedRun()); }

std::string ReadTestdata(const std::string& name) {
  const std::string path = std::string(GRACECHECK_REPORTS_TESTDATA) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int Xmllint(const std::string& args, const std::string& document, std::string* output) {
  char path[] = "/tmp/gracecheck-xmllint-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return -1;
  }
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << document;
  }
  const std::string command = std::string(GRACECHECK_XMLLINT) + " " + args + " " + path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    std::remove(path);
    return -1;
  }
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    output->append(buffer, n);
  const int status = ::pclose(pipe);
  std::remove(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(GRACECHECK_REPORTS_TESTDATA) + "/" + name;
  if (std::getenv("GRACECHECK_UPDATE_GOLDEN") != nullptr) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << actual;
    ASSERT_TRUE(out.good()) << "could not rewrite " << path;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path << " is missing; run with GRACECHECK_UPDATE_GOLDEN=1 to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) return;
  // The first differing line, so the failure says what changed.
  std::istringstream a(actual), e(expected.str());
  std::string al, el;
  int line = 1;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, al));
    const bool more_e = static_cast<bool>(std::getline(e, el));
    if (!more_a && !more_e) break;
    if (!more_a || !more_e || al != el) {
      ADD_FAILURE() << path << " differs at line " << line
                    << ":\n  golden: " << (more_e ? el : "<end>")
                    << "\n  actual: " << (more_a ? al : "<end>")
                    << "\n(run with GRACECHECK_UPDATE_GOLDEN=1 to accept the new output)";
      return;
    }
    ++line;
  }
  ADD_FAILURE() << path << " differs from the output in line endings";
}

}  // namespace gracecheck::testing
