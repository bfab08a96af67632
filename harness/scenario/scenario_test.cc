#include "scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "scenario_warnings.h"
#include "spellcheck.h"

#ifndef GRACECHECK_SCENARIOS_DIR
#error "GRACECHECK_SCENARIOS_DIR must name the scenarios/ directory"
#endif

namespace gracecheck {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

const fs::path kScenarios = GRACECHECK_SCENARIOS_DIR;

std::string Show(const std::vector<ScenarioError>& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e.ToString();
  return out.empty() ? " (no errors)" : out;
}

std::vector<fs::path> YamlFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Parses text that must be valid.
Scenario MustParse(const std::string& text, const std::string& file = "test.yaml") {
  ParseResult r = ParseScenario(text, file);
  EXPECT_TRUE(r.ok()) << "errors:" << Show(r.errors);
  EXPECT_EQ(r.scenario.has_value(), r.ok());
  return r.scenario.value_or(Scenario{});
}

// Parses text that must be invalid; returns its errors.
std::vector<ScenarioError> MustFail(const std::string& text) {
  ParseResult r = ParseScenario(text, "test.yaml");
  EXPECT_FALSE(r.ok()) << "parsed without errors:\n" << text;
  EXPECT_FALSE(r.scenario.has_value()) << "a scenario came back despite errors";
  return r.errors;
}

// A minimal valid scenario with `extra` appended (top-level YAML).
std::string WithBase(const std::string& extra) {
  return "target:\n  command: [\"{refapi}\", \"--listen\", \"127.0.0.1:{port}\"]\n" + extra;
}

bool HasError(const std::vector<ScenarioError>& errors, int line, int col,
              const std::string& substring) {
  for (const auto& e : errors) {
    if (e.line == line && e.col == col && e.message.find(substring) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------- shipped catalogue

// Where the keys the checks judge are: every expect key and its mapping's
// keys, the expect key itself, and faults.
TEST(ScenarioPositionsTest, TheKeysChecksJudgeHaveTheirLineAndColumn) {
  const Scenario s = MustParse(WithBase(R"(faults:
  - { at: 1s, send: SIGTERM }
expect:
  dropped: 0
  db_sessions:
    max: 4
)"));
  const std::map<std::string, SourcePos>& at = s.expect.positions;
  ASSERT_EQ(at.count("faults"), 1u);
  EXPECT_EQ(at.at("faults").line, 3);
  EXPECT_EQ(at.at("expect").line, 5);
  EXPECT_EQ(at.at("expect.dropped").line, 6);
  EXPECT_EQ(at.at("expect.dropped").col, 3);
  EXPECT_EQ(at.at("expect.db_sessions").line, 7);
  EXPECT_EQ(at.at("expect.db_sessions.max").line, 8);
  EXPECT_EQ(at.at("expect.db_sessions.max").col, 5);
}

TEST(ShippedScenariosTest, EveryScenarioParsesWithoutErrors) {
  const auto files = YamlFiles(kScenarios);
  ASSERT_GE(files.size(), 5u) << "scenarios found in " << kScenarios;
  for (const auto& file : files) {
    ParseResult r = ParseScenarioFile(file.string());
    EXPECT_TRUE(r.ok()) << file << ":" << Show(r.errors);
  }
}

TEST(ShippedScenariosTest, NoneAsksForACheckItCannotMeasure) {
  for (const auto& file : YamlFiles(kScenarios)) {
    ParseResult r = ParseScenarioFile(file.string());
    ASSERT_TRUE(r.ok()) << file << ":" << Show(r.errors);
    EXPECT_TRUE(ScenarioWarnings(*r.scenario).empty()) << Show(ScenarioWarnings(*r.scenario));
  }
}

TEST(ShippedScenariosTest, TheRequiredScenariosExist) {
  for (const char* name : {"sigterm-idle", "sigterm-mid-load", "sigint-mid-load",
                           "sigterm-keepalive-storm", "sigterm-then-sigkill"}) {
    EXPECT_TRUE(fs::exists(kScenarios / (std::string(name) + ".yaml")))
        << name << ".yaml missing from " << kScenarios;
  }
}

TEST(ShippedScenariosTest, EachIsNamedAfterItsFileAndDescribed) {
  for (const auto& file : YamlFiles(kScenarios)) {
    ParseResult r = ParseScenarioFile(file.string());
    ASSERT_TRUE(r.ok()) << file << ":" << Show(r.errors);
    EXPECT_EQ(r.scenario->name, file.stem().string()) << file;
    EXPECT_GE(r.scenario->description.size(), 40u)
        << file << " has a short description: '" << r.scenario->description << "'";
  }
}

// Short scenarios keep the catalogue runnable on every commit: the load and
// every fault's trigger end within 5 s of time 0.
TEST(ShippedScenariosTest, EachEndsItsScriptWithinFiveSeconds) {
  for (const auto& file : YamlFiles(kScenarios)) {
    ParseResult r = ParseScenarioFile(file.string());
    ASSERT_TRUE(r.ok()) << file << ":" << Show(r.errors);
    const Scenario& s = *r.scenario;
    Duration end = s.load ? s.load->duration : Duration::zero();
    std::vector<Duration> fired;
    for (const Fault& f : s.faults) {
      // The latest a fault can fire: its time, or, for a trigger on live
      // state, its timeout (which a shipped scenario must then have).
      Duration at = Duration::zero();
      if (const auto* t = std::get_if<AtTime>(&f.trigger)) {
        at = t->offset;
      } else if (const auto* a = std::get_if<AfterFault>(&f.trigger)) {
        at = fired[a->fault] + a->delay;
      } else if (const auto* b = std::get_if<Between>(&f.trigger)) {
        at = b->hi;
      } else if (f.timeout) {
        at = *f.timeout;
      } else {
        ADD_FAILURE() << file << ": fault " << f.name << " waits on live state without a timeout";
      }
      fired.push_back(at);
      // A SIGKILL that only fires if the target hangs is not part of the normal run.
      if (!f.if_running) end = std::max(end, at);
    }
    EXPECT_LE(end, seconds(5)) << file << " runs its script until " << FormatDuration(end);
  }
}

TEST(ShippedScenariosTest, MidLoadScenarioReadsAsWritten) {
  ParseResult r = ParseScenarioFile((kScenarios / "sigterm-mid-load.yaml").string());
  ASSERT_TRUE(r.ok()) << Show(r.errors);
  const Scenario& s = *r.scenario;
  ASSERT_EQ(s.target.command.size(), 7u);
  EXPECT_EQ(s.target.command[0].source(), "{refapi}");
  EXPECT_EQ(s.target.ready.http_get.source(), "/healthz");
  ASSERT_TRUE(s.load.has_value());
  EXPECT_EQ(s.load->model, LoadModel::kOpen);
  ASSERT_TRUE(s.load->rate.has_value());
  EXPECT_DOUBLE_EQ(s.load->rate->per_second, 1000.0);
  EXPECT_EQ(s.load->connections, 64);
  EXPECT_EQ(s.load->duration, seconds(4));
  ASSERT_EQ(s.load->requests.size(), 3u);
  const RequestSpec& post = s.load->requests[1];
  EXPECT_EQ(post.weight, 30);
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.body.source(), R"({"key":"{key}"})");
  ASSERT_TRUE(post.write_key.has_value());
  EXPECT_EQ(post.write_key->source(), "{key}");
  ASSERT_EQ(post.headers.size(), 1u);
  EXPECT_EQ(post.headers[0].first, "Content-Type");
  EXPECT_TRUE(s.load->requests[0].expect_status.Contains(404));
  EXPECT_FALSE(s.load->requests[0].expect_status.Contains(500));
  ASSERT_EQ(s.faults.size(), 1u);
  EXPECT_EQ(s.faults[0].name, "SIGTERM");
  EXPECT_EQ(SignalOf(s.faults[0].action), 15);
  ASSERT_TRUE(std::holds_alternative<AtTime>(s.faults[0].trigger));
  EXPECT_EQ(std::get<AtTime>(s.faults[0].trigger).offset, seconds(2));
  EXPECT_EQ(s.expect.exit.within, seconds(3));
  ASSERT_TRUE(s.expect.threads.has_value());
  // Not growth: the signal comes during the load, which leaves no idle
  // moment after it to count threads in (ScenarioWarnings).
  EXPECT_EQ(s.expect.threads->growth, std::nullopt);
  EXPECT_EQ(s.expect.threads->at_exit, 131);
  ASSERT_TRUE(s.expect.writes.has_value());
  EXPECT_EQ(s.expect.writes->verify_sql.source(), "SELECT key FROM items");
}

TEST(ShippedScenariosTest, SigkillFollowsSigtermOnlyIfStillRunning) {
  ParseResult r = ParseScenarioFile((kScenarios / "sigterm-then-sigkill.yaml").string());
  ASSERT_TRUE(r.ok()) << Show(r.errors);
  const auto& faults = r.scenario->faults;
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(SignalOf(faults[1].action), 9);
  EXPECT_TRUE(faults[1].if_running);
  EXPECT_EQ(faults[1].to, SignalTarget::kGroup);
  ASSERT_TRUE(std::holds_alternative<AfterFault>(faults[1].trigger));
  EXPECT_EQ(std::get<AfterFault>(faults[1].trigger).fault, 0u);
  EXPECT_EQ(std::get<AfterFault>(faults[1].trigger).delay, seconds(3));
}

// ------------------------------------------------------- corpus of files

TEST(ValidCorpusTest, EveryFileParses) {
  const auto files = YamlFiles(kScenarios / "testdata" / "valid");
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    ParseResult r = ParseScenarioFile(file.string());
    EXPECT_TRUE(r.ok()) << file << ":" << Show(r.errors);
  }
}

struct Expected {
  int line;
  int col;
  std::string message;
};

// The "# expect: LINE:COL: substring" lines of a corpus file.
std::vector<Expected> ReadExpectations(const fs::path& file) {
  std::ifstream in(file);
  std::vector<Expected> out;
  const std::regex pattern(R"(^# expect: (\d+):(\d+): (.+)$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, pattern)) {
      out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
    }
  }
  return out;
}

// Every broken file must produce exactly the errors its "# expect:" lines
// name (position and message), no more and no fewer.
TEST(InvalidCorpusTest, EachFileReportsExactlyItsExpectedErrors) {
  const auto files = YamlFiles(kScenarios / "testdata" / "invalid");
  ASSERT_GE(files.size(), 20u) << "corpus in " << kScenarios / "testdata" / "invalid";
  for (const auto& file : files) {
    const std::vector<Expected> expected = ReadExpectations(file);
    ASSERT_FALSE(expected.empty()) << file << " has no '# expect: LINE:COL: message' line";
    ParseResult r = ParseScenarioFile(file.string());
    EXPECT_FALSE(r.scenario.has_value()) << file << " produced a scenario";
    for (const Expected& e : expected) {
      EXPECT_TRUE(HasError(r.errors, e.line, e.col, e.message))
          << file.filename() << ": expected " << e.line << ":" << e.col << ": " << e.message
          << "\ngot:" << Show(r.errors);
    }
    EXPECT_EQ(r.errors.size(), expected.size())
        << file.filename() << ": unexpected extra errors; got:" << Show(r.errors);
    for (const auto& e : r.errors) {
      EXPECT_EQ(e.file, file.string()) << e.ToString();
    }
  }
}

// ------------------------------------------------------------- defaults

TEST(ScenarioDefaultsTest, MinimalFileGetsDocumentedDefaults) {
  ParseResult r = ParseScenarioFile((kScenarios / "testdata" / "valid" / "minimal.yaml").string());
  ASSERT_TRUE(r.ok()) << Show(r.errors);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "minimal");
  EXPECT_EQ(s.description, "");
  // A command string is split into argv like a shell would.
  ASSERT_EQ(s.target.command.size(), 5u);
  EXPECT_EQ(s.target.command[4].source(), "{database_url}");
  EXPECT_FALSE(s.target.shell);
  EXPECT_EQ(s.target.ready.http_get.source(), "/healthz");
  EXPECT_EQ(s.target.ready.timeout, seconds(10));
  EXPECT_EQ(s.target.ready.interval, milliseconds(50));
  EXPECT_EQ(s.target.signal_to, SignalTarget::kProcess);
  EXPECT_FALSE(s.load.has_value());
  ASSERT_EQ(s.faults.size(), 1u);
  EXPECT_EQ(s.faults[0].name, "SIGTERM");
  EXPECT_EQ(s.faults[0].to, SignalTarget::kProcess);
  EXPECT_FALSE(s.faults[0].if_running);
  EXPECT_EQ(s.faults[0].tolerance, milliseconds(100));
  EXPECT_EQ(s.expect.dropped, 0);
  EXPECT_FALSE(s.expect.dropped_after_signal.has_value());
  EXPECT_TRUE(s.expect.allow_status_after_signal.empty());
  EXPECT_FALSE(s.expect.exit.signaled);
  EXPECT_EQ(s.expect.exit.codes, std::vector<int>{0});
  EXPECT_TRUE(s.expect.exit.graceful) << "0, or 128+N after a signal N sent";
  EXPECT_EQ(s.expect.exit.within, seconds(10));
  EXPECT_FALSE(s.expect.threads.has_value());
  EXPECT_EQ(s.expect.db_sessions.after_exit, 0);
  EXPECT_EQ(s.expect.db_sessions.settle, seconds(1));
  EXPECT_EQ(s.expect.db_sessions.closed_before_drain, 0);
  EXPECT_EQ(s.expect.db_sessions.idle_in_transaction, 0);
  EXPECT_FALSE(s.expect.db_sessions.max.has_value());
  EXPECT_FALSE(s.expect.lame_duck.has_value());
  EXPECT_FALSE(s.expect.writes.has_value());
}

TEST(ScenarioDefaultsTest, LoadDefaults) {
  const Scenario s = MustParse(WithBase(R"(load:
  rate: 10/s
  requests:
    - path: /healthz
faults:
  - {at: 1s, send: SIGTERM}
)"));
  ASSERT_TRUE(s.load.has_value());
  EXPECT_EQ(s.load->model, LoadModel::kOpen);
  EXPECT_EQ(s.load->connections, 32);
  EXPECT_EQ(s.load->duration, seconds(5));
  EXPECT_TRUE(s.load->keep_alive);
  EXPECT_EQ(s.load->timeout, seconds(5));
  const RequestSpec& r = s.load->requests[0];
  EXPECT_EQ(r.weight, 1);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.body.source(), "");
  EXPECT_FALSE(r.write_key.has_value());
  EXPECT_TRUE(r.expect_status.Contains(204));
  EXPECT_FALSE(r.expect_status.Contains(301));
  EXPECT_EQ(r.pos.line, 6);
  EXPECT_EQ(r.pos.col, 7);
}

// The base's target with `pooler` (its line 3) and one fault.
std::string WithPooler(const std::string& pooler) {
  return WithBase(pooler.empty() ? "" : "  pooler: " + pooler + "\n") +
         "faults:\n  - {at: 1s, send: SIGTERM}\n";
}

TEST(ScenarioPoolerTest, ANameAloneIsSessionModeAndBadOnesSayWhere) {
  const Scenario s = MustParse(WithPooler("pgbouncer"));
  ASSERT_TRUE(s.target.pooler.has_value());
  EXPECT_EQ(s.target.pooler->mode, "session");
  EXPECT_EQ(s.target.pooler->pool_size, 50);
  EXPECT_FALSE(MustParse(WithPooler("")).target.pooler.has_value());

  std::vector<ScenarioError> errors = MustFail(WithPooler("pgbouncr"));
  EXPECT_TRUE(HasError(errors, 3, 11, "did you mean 'pgbouncer'")) << Show(errors);
  errors = MustFail(WithPooler("{ kind: pgbouncer, mode: statement }"));
  EXPECT_TRUE(HasError(errors, 3, 36, "target.pooler.mode")) << Show(errors);
  errors = MustFail(WithPooler("{ mode: session }"));
  EXPECT_TRUE(HasError(errors, 3, 3, "kind")) << Show(errors);
}

TEST(ScenarioDefaultsTest, EveryKeyFileReadsAsWritten) {
  ParseResult r =
      ParseScenarioFile((kScenarios / "testdata" / "valid" / "every-key.yaml").string());
  ASSERT_TRUE(r.ok()) << Show(r.errors);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.target.signal_to, SignalTarget::kGroup);
  ASSERT_TRUE(s.target.pooler.has_value());
  EXPECT_EQ(s.target.pooler->mode, "transaction");
  EXPECT_EQ(s.target.pooler->pool_size, 8);
  ASSERT_EQ(s.target.env.size(), 3u);
  EXPECT_EQ(s.target.env[2].first, "WORKERS");
  EXPECT_EQ(s.target.env[2].second.source(), "4");
  EXPECT_EQ(s.target.ready.interval, milliseconds(20));
  EXPECT_DOUBLE_EQ(s.load->rate->per_second, 500.0);
  EXPECT_FALSE(s.load->keep_alive);
  EXPECT_EQ(s.load->duration, milliseconds(1500));
  EXPECT_EQ(s.load->requests[0].method, "PUT");
  EXPECT_TRUE(s.load->requests[0].expect_status.Contains(302));
  EXPECT_TRUE(s.load->requests[0].expect_status.Contains(201));
  EXPECT_FALSE(s.load->requests[0].expect_status.Contains(204));
  ASSERT_EQ(s.faults.size(), 3u);
  EXPECT_EQ(s.faults[0].to, SignalTarget::kProcess);
  EXPECT_EQ(s.faults[0].tolerance, milliseconds(50));
  EXPECT_EQ(SignalOf(s.faults[1].action), 2);
  EXPECT_EQ(s.faults[1].to, SignalTarget::kGroup) << "to defaults to target.signal_to";
  ASSERT_TRUE(std::holds_alternative<AfterFault>(s.faults[1].trigger));
  EXPECT_EQ(std::get<AfterFault>(s.faults[1].trigger).fault, 0u) << "after: term";
  EXPECT_EQ(std::get<AfterFault>(s.faults[1].trigger).delay, Duration::zero());
  EXPECT_EQ(std::get<AfterFault>(s.faults[2].trigger).fault, 1u) << "after: previous";
  EXPECT_EQ(s.faults[2].name, "SIGKILL");
  EXPECT_EQ(SignalOf(s.faults[2].action), 9);
  EXPECT_EQ(s.expect.dropped, 1);
  EXPECT_EQ(s.expect.dropped_after_signal, 3);
  EXPECT_TRUE(s.expect.allow_status_after_signal.Contains(503));
  EXPECT_TRUE(s.expect.allow_status_after_signal.Contains(599));
  EXPECT_EQ(s.expect.allow_outcomes_after_signal, (std::vector<std::string>{"reset", "eof"}));
  EXPECT_TRUE(s.expect.exit.signaled);
  EXPECT_EQ(s.expect.exit.signal, 9);
  EXPECT_EQ(s.expect.threads->growth, 0);
  EXPECT_EQ(s.expect.threads->at_exit, 1);
  EXPECT_EQ(s.expect.db_sessions.settle, Duration::zero());
  EXPECT_EQ(s.expect.db_sessions.orphaned_queries, 1);
  EXPECT_EQ(s.expect.db_sessions.idle_in_transaction, 2);
  EXPECT_EQ(s.expect.db_sessions.max, 9);
  EXPECT_EQ(s.expect.lame_duck, milliseconds(400));
}

TEST(ScenarioDefaultsTest, UnnamedFaultsWithTheSameSignalAreNumbered) {
  const Scenario s = MustParse(WithBase(R"(faults:
  - {at: 1s, send: SIGTERM}
  - {at: 2s, send: SIGTERM}
  - {at: 3s, send: SIGKILL, if_running: yes}
)"));
  ASSERT_EQ(s.faults.size(), 3u);
  EXPECT_EQ(s.faults[0].name, "SIGTERM #1");
  EXPECT_EQ(s.faults[1].name, "SIGTERM #2");
  EXPECT_EQ(s.faults[2].name, "SIGKILL");
  EXPECT_TRUE(s.faults[2].if_running) << "YAML 1.1 'yes' is true";
}

// ----------------------------------------------------------- validation

TEST(ScenarioValidationTest, AllErrorsAreCollectedInFileOrder) {
  const auto errors = MustFail(R"(name: x
target:
  command: []
load:
  model: closed
  connections: 0
  requests: []
faults:
  - {at: 1s, send: SIGNOPE}
)");
  ASSERT_EQ(errors.size(), 4u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 3, 12, "target.command: empty list")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 6, 16, "load.connections: must be at least 1")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 7, 13, "load.requests: empty list")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 9, 20, "unknown signal 'SIGNOPE' (write a name")) << Show(errors);
  for (std::size_t i = 1; i < errors.size(); ++i) {
    EXPECT_LE(errors[i - 1].line, errors[i].line) << Show(errors);
  }
}

TEST(ScenarioValidationTest, PlaceholderColumnIsExactInPlainAndQuotedScalars) {
  auto errors =
      MustFail(WithBase("load:\n  rate: 1/s\n  requests:\n    - path: /a/{kee}\n"
                        "    - path: '/b/{kee}'\nfaults: [{at: 0, send: 15}]\n"));
  EXPECT_TRUE(HasError(errors, 6, 16, "unknown placeholder {kee} (did you mean {key}?)"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 7, 17, "unknown placeholder {kee}")) << Show(errors);
}

TEST(ScenarioValidationTest, PlaceholderInEscapedScalarPointsAtTheScalar) {
  // With escapes the value differs from the file text: the column of the
  // scalar itself is the honest answer.
  const auto errors =
      MustFail(WithBase("load:\n  rate: 1/s\n  requests:\n"
                        "    - path: \"/\\u0041/{kee}\"\n"
                        "faults: [{at: 0, send: 15}]\n"));
  EXPECT_TRUE(HasError(errors, 6, 13, "unknown placeholder {kee}")) << Show(errors);
}

TEST(ScenarioValidationTest, AfterNamesAnEarlierFault) {
  const auto errors = MustFail(WithBase(R"(faults:
  - {name: first, at: 1s, send: SIGTERM}
  - {at: {after: frist, delay: 1s}, send: SIGKILL}
  - {at: {after: later, delay: 1s}, send: SIGKILL}
  - {name: later, at: {delay: 1s}, send: SIGKILL}
)"));
  ASSERT_EQ(errors.size(), 3u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 18, "no earlier fault is named 'frist' (did you mean 'first'?)"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 6, 18, "no earlier fault is named 'later'")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 7, 19, "faults[3].at: missing required key 'after'"))
      << Show(errors);
}

// A preStop hook and the SIGTERM that waits for it (Kubernetes): an
// http_get action and a done trigger, each read by its own file.
TEST(ScenarioValidationTest, HttpGetAndDoneReadAsWritten) {
  const Scenario s = MustParse(WithBase(R"(faults:
  - {name: prestop, at: 1s, http_get: /prestop}
  - {at: {done: prestop}, send: SIGTERM}
  - {at: {done: previous}, http_get: /x}
)"));
  ASSERT_EQ(s.faults.size(), 3u);
  ASSERT_TRUE(std::holds_alternative<HttpGet>(s.faults[0].action));
  EXPECT_EQ(std::get<HttpGet>(s.faults[0].action).path, "/prestop");
  EXPECT_EQ(SignalOf(s.faults[0].action), 0) << "a GET signals nothing";
  EXPECT_EQ(ActionKindOf(s.faults[0].action), "http_get");
  ASSERT_TRUE(std::holds_alternative<DoneFault>(s.faults[1].trigger));
  EXPECT_EQ(std::get<DoneFault>(s.faults[1].trigger).fault, 0u);
  EXPECT_EQ(std::get<DoneFault>(s.faults[2].trigger).fault, 1u) << "done: previous";
  EXPECT_EQ(s.faults[2].name, "GET /x");

  const auto errors = MustFail(WithBase(R"(faults:
  - {at: {done: previous}, http_get: prestop}
  - {at: {done: prestp}, send: SIGTERM}
  - {at: {done: x, delay: 1s}, send: SIGTERM}
)"));
  EXPECT_TRUE(HasError(errors, 4, 17, "faults[0].at.done: the first fault has no previous fault"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 4, 38,
                       "faults[0].http_get: expected a request path such as "
                       "/prestop, got 'prestop'"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 17, "no earlier fault is named 'prestp' (write previous"))
      << Show(errors);
  // Unnamed faults have no name to suggest (it used to say "did you mean ''?").
  EXPECT_TRUE(HasError(errors, 6, 17, "no earlier fault is named 'x' (write previous"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 6, 20, "faults[2].at.delay: goes with 'after' only"))
      << Show(errors);
}

TEST(ScenarioValidationTest, SignalsByNameOrNumber) {
  const Scenario s = MustParse(WithBase(R"(faults:
  - {at: 1s, send: TERM}
  - {at: 1s, send: sigint}
  - {at: 1s, send: 9}
)"));
  ASSERT_EQ(s.faults.size(), 3u);
  EXPECT_EQ(SignalOf(s.faults[0].action), 15);
  EXPECT_EQ(SignalOf(s.faults[1].action), 2);
  EXPECT_EQ(SignalOf(s.faults[2].action), 9);
  const auto errors =
      MustFail(WithBase("faults:\n  - {at: 1s, send: 0}\n  - {at: 1s, send: 99}\n"));
  EXPECT_TRUE(HasError(errors, 4, 20, "0 is not a signal number")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 20, "99 is not a signal number")) << Show(errors);
}

TEST(ScenarioValidationTest, BadNameIsRejected) {
  const auto errors = MustFail(WithBase("name: has space\nfaults: [{at: 0, send: 15}]\n"));
  EXPECT_TRUE(HasError(errors, 3, 7, "name: 'has space' must start with a letter or digit"))
      << Show(errors);
}

TEST(ScenarioValidationTest, ClosedModelNeedsNoRate) {
  const Scenario s = MustParse(WithBase(R"(load:
  model: closed
  connections: 4
  requests: [{path: /}]
faults: [{at: 1s, send: SIGTERM}]
)"));
  EXPECT_EQ(s.load->model, LoadModel::kClosed);
  EXPECT_FALSE(s.load->rate.has_value());
}

TEST(ScenarioValidationTest, StatusesAndOutcomes) {
  const auto errors = MustFail(WithBase(R"(load:
  rate: 1/s
  requests: [{path: /, expect_status: [200, "201", 6xx]}]
faults: [{at: 1s, send: SIGTERM}]
expect:
  allow_after_signal: [503, rest]
)"));
  ASSERT_EQ(errors.size(), 3u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 45, "got the string \"201\"")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 52, "got '6xx'")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 8, 29, "got 'rest' (did you mean 'reset'?)")) << Show(errors);
}

// expect.exit.code: one code, a list, or `graceful` (0, or 128+N after a
// signal N sent), alone or in a list.
TEST(ScenarioValidationTest, ExitCodesAsOneAListOrGraceful) {
  auto exit_of = [](const std::string& code) {
    return MustParse(WithBase("faults: [{at: 1s, send: SIGTERM}]\nexpect:\n  exit: {code: " + code +
                              "}\n"))
        .expect.exit;
  };
  ExitExpectation e = exit_of("0");
  EXPECT_EQ(e.codes, std::vector<int>{0});
  EXPECT_FALSE(e.graceful) << "code: 0 is strict";
  e = exit_of("[0, 143]");
  EXPECT_EQ(e.codes, (std::vector<int>{0, 143}));
  EXPECT_FALSE(e.graceful);
  e = exit_of("graceful");
  EXPECT_EQ(e.codes, std::vector<int>{0});
  EXPECT_TRUE(e.graceful);
  e = exit_of("[graceful, 1]");
  EXPECT_EQ(e.codes, (std::vector<int>{0, 1}));
  EXPECT_TRUE(e.graceful);
  e = exit_of("[3]");
  EXPECT_EQ(e.codes, std::vector<int>{3});
  EXPECT_FALSE(e.signaled);
  // Without code: the default, graceful.
  e = MustParse(WithBase("faults: [{at: 1s, send: SIGTERM}]\nexpect:\n  exit: {within: 2s}\n"))
          .expect.exit;
  EXPECT_EQ(e.codes, std::vector<int>{0});
  EXPECT_TRUE(e.graceful);
  EXPECT_EQ(e.within, seconds(2));
}

TEST(ScenarioValidationTest, BadExitCodesAreReportedAtEachValue) {
  const std::string base = WithBase("faults: [{at: 1s, send: SIGTERM}]\nexpect:\n");
  auto errors = MustFail(base + "  exit: {code: [0, 256, gracefull, \"143\", 0]}\n");
  ASSERT_EQ(errors.size(), 4u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 20, "expect.exit.code: must be at most 255, got 256"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 25, "got 'gracefull' (did you mean 'graceful'?)"))
      << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 36, "got the string \"143\"")) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 43, "expect.exit.code: 0 is listed twice")) << Show(errors);
  errors = MustFail(base + "  exit: {code: []}\n");
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 5, 16, "expect.exit.code: empty list")) << Show(errors);
  errors = MustFail(base + "  exit: {code: -1}\n");
  EXPECT_TRUE(HasError(errors, 5, 16, "must be at least 0, got -1")) << Show(errors);
  errors = MustFail(base + "  exit: {code: {n: 1}}\n");
  EXPECT_TRUE(HasError(errors, 5, 16, "got a mapping")) << Show(errors);
  errors = MustFail(base + "  exit: {code: [graceful, graceful]}\n");
  EXPECT_TRUE(HasError(errors, 5, 27, "graceful is listed twice")) << Show(errors);
}

TEST(ScenarioValidationTest, NoValueIsReportedAtItsKey) {
  const auto errors = MustFail(WithBase("description:\nfaults: [{at: 1s, send: SIGTERM}]\n"));
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 3, 1, "description: expected text, got nothing")) << Show(errors);
}

TEST(ScenarioValidationTest, EmptyCommandsAreRejectedInEveryForm) {
  auto errors = MustFail("target: {shell: true, command: '  '}\nfaults: [{at: 0, send: 15}]\n");
  EXPECT_TRUE(HasError(errors, 1, 32, "target.command: empty script")) << Show(errors);
  errors = MustFail("target: {command: ' '}\nfaults: [{at: 0, send: 15}]\n");
  EXPECT_TRUE(HasError(errors, 1, 19, "target.command: empty command")) << Show(errors);
  errors = MustFail("target: {command: ['', x]}\nfaults: [{at: 0, send: 15}]\n");
  EXPECT_TRUE(HasError(errors, 1, 20, "target.command[0]: the program is empty")) << Show(errors);
}

TEST(ScenarioValidationTest, TopLevelMustBeAMapping) {
  const auto errors = MustFail("- just\n- a list\n");
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_TRUE(HasError(errors, 1, 1, "scenario: expected a mapping")) << Show(errors);
}

TEST(ScenarioValidationTest, UnreadableFileIsOneErrorWithoutPosition) {
  ParseResult r = ParseScenarioFile("/nonexistent/dir/x.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << Show(r.errors);
  EXPECT_EQ(r.errors[0].ToString(),
            "/nonexistent/dir/x.yaml: cannot read: No such file or directory");
}

TEST(ScenarioValidationTest, ValidateCollectsErrorsOfEveryFile) {
  const fs::path invalid = kScenarios / "testdata" / "invalid";
  const std::vector<ScenarioError> errors = ValidateScenarioFiles(
      {(kScenarios / "sigterm-idle.yaml").string(), (invalid / "bad-rates.yaml").string(),
       (invalid / "missing-required.yaml").string()});
  ASSERT_EQ(errors.size(), 5u) << Show(errors);
  EXPECT_EQ(errors[0].file, (invalid / "bad-rates.yaml").string());
  EXPECT_EQ(errors[4].file, (invalid / "missing-required.yaml").string());
  EXPECT_TRUE(ValidateScenarioFiles({(kScenarios / "sigterm-idle.yaml").string()}).empty());
}

TEST(ScenarioErrorTest, ToStringIsFileLineColMessage) {
  EXPECT_EQ((ScenarioError{"a.yaml", 3, 7, "bad"}).ToString(), "a.yaml:3:7: bad");
  EXPECT_EQ((ScenarioError{"a.yaml", 0, 0, "bad"}).ToString(), "a.yaml: bad");
}

// ------------------------------------------------------------------ rate

TEST(ParseRateTest, AcceptsCountPerUnit) {
  struct Case {
    const char* text;
    double per_second;
  } cases[] = {{"500/s", 500}, {"20/ms", 20000},  {"90/m", 1.5}, {"36/h", 0.01},
               {"0.5/s", 0.5}, {"50/100ms", 500}, {"3/2s", 1.5}, {"1000000/s", 1e6}};
  for (const Case& c : cases) {
    std::string error;
    std::optional<Rate> rate = ParseRate(c.text, &error);
    ASSERT_TRUE(rate.has_value()) << c.text << ": " << error;
    EXPECT_DOUBLE_EQ(rate->per_second, c.per_second) << c.text;
  }
}

TEST(ParseRateTest, RejectsWithAReason) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {{"500", "is not a rate (write e.g. 500/s"},
               {"500/sec", "'/sec' is not a unit of time"},
               {"500/", "'/' is not a unit of time"},
               {"/s", "'' is not a number"},
               {"fast/s", "'fast' is not a number"},
               {"-5/s", "'-5' is not a number"},
               {"0/s", "must be more than 0"},
               {"2000000/s", "more than 1e+06/s"},
               {"5/0s", "'/0s' is not a unit of time"}};
  for (const Case& c : cases) {
    std::string error;
    std::optional<Rate> rate = ParseRate(c.text, &error);
    ASSERT_FALSE(rate.has_value()) << c.text << " parsed as " << rate->per_second << "/s";
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.text << ": " << error;
  }
}

TEST(ParseRateTest, IntervalAndToString) {
  EXPECT_EQ(ParseRate("500/s")->Interval(), milliseconds(2));
  EXPECT_EQ(ParseRate("20/ms")->Interval(), std::chrono::microseconds(50));
  EXPECT_EQ(ParseRate("90/m")->ToString(), "1.5/s");
}

// ------------------------------------------------------------ did you mean

TEST(SpellCheckTest, SuggestsTheClosestKnownName) {
  const std::vector<std::string> keys = {"model",      "rate",    "connections", "duration",
                                         "keep_alive", "timeout", "requests"};
  EXPECT_EQ(SpellCheck("conections", keys).value_or("(none)"), "connections");
  EXPECT_EQ(SpellCheck("tiemout", keys).value_or("(none)"), "timeout") << "a swap is one edit";
  EXPECT_EQ(SpellCheck("Rate", keys).value_or("(none)"), "rate") << "case is ignored";
  EXPECT_EQ(SpellCheck("keepalive", keys).value_or("(none)"), "keep_alive");
  EXPECT_EQ(SpellCheck("request", keys).value_or("(none)"), "requests");
}

TEST(SpellCheckTest, StaysQuietWhenNothingIsClose) {
  const std::vector<std::string> keys = {"model", "rate", "connections"};
  EXPECT_FALSE(SpellCheck("zzz", keys).has_value()) << *SpellCheck("zzz", keys);
  EXPECT_FALSE(SpellCheck("throughput", keys).has_value()) << *SpellCheck("throughput", keys);
  EXPECT_FALSE(SpellCheck("x", {}).has_value());
}

TEST(SpellCheckTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("ab", "ba"), 1u);
  EXPECT_EQ(EditDistance("SIGTREM", "SIGTERM"), 1u);
}

// --------------------------------------------------------------- statuses

TEST(StatusSetTest, ContainsAndToString) {
  StatusSet s;
  s.Add(200, 200);
  s.Add(300, 399);
  EXPECT_TRUE(s.Contains(200));
  EXPECT_TRUE(s.Contains(399));
  EXPECT_FALSE(s.Contains(201));
  EXPECT_EQ(s.ToString(), "200, 3xx");
  EXPECT_EQ(StatusSet::Successful().ToString(), "2xx");
  EXPECT_TRUE(StatusSet().empty());
}

// ---------------------------------------------------------------- target

TEST(TargetTest, ShellCommandRunsThroughBinSh) {
  const Scenario s = MustParse(R"(target:
  shell: true
  command: 'exec {refapi} --listen 127.0.0.1:{port}'
faults: [{at: 1s, send: SIGTERM}]
)");
  RunValues values;
  values.port = 8123;
  values.binaries = {{"refapi", "/b/refapi"}};
  std::string error;
  const auto argv = s.target.Argv(values, &error);
  ASSERT_TRUE(argv.has_value()) << error;
  EXPECT_EQ(*argv,
            (std::vector<std::string>{"/bin/sh", "-c", "exec /b/refapi --listen 127.0.0.1:8123"}));
}

TEST(TargetTest, ArgvExpandsEachWordWithoutSplittingIt) {
  const Scenario s = MustParse(WithBase("faults: [{at: 1s, send: SIGTERM}]\n"));
  RunValues values;
  values.port = 9;
  values.binaries = {{"refapi", "/path with space/refapi"}};
  const auto argv = s.target.Argv(values);
  ASSERT_TRUE(argv.has_value());
  EXPECT_EQ(*argv,
            (std::vector<std::string>{"/path with space/refapi", "--listen", "127.0.0.1:9"}));
}

TEST(TargetTest, CommandLineTargetReplacesTheCommand) {
  std::string error;
  std::optional<TargetOverride> t = ParseTargetOverride(
      "go=./server -addr '127.0.0.1:{port}' -db \"{database_url}\"", {}, &error);
  ASSERT_TRUE(t.has_value()) << error;
  EXPECT_EQ(t->name, "go");
  ASSERT_EQ(t->command.size(), 5u);
  EXPECT_EQ(t->command[2].source(), "127.0.0.1:{port}");
  Scenario s = MustParse(R"(target:
  shell: true
  command: 'exec {refapi}'
faults: [{at: 1s, send: SIGTERM}]
)");
  ApplyTargetOverride(*t, &s);
  EXPECT_FALSE(s.target.shell);
  ASSERT_EQ(s.target.command.size(), 5u);
  EXPECT_EQ(s.target.command[0].source(), "./server");
}

TEST(TargetTest, CommandLineTargetErrors) {
  struct Case {
    const char* spec;
    const char* reason;
  } cases[] = {{"./server", "expected NAME=COMMAND"},
               {"a b=./server", "'a b' is not a valid name"},
               {"go='./server", "--target go: unterminated single quote"},
               {"go=./server {prot}", "unknown placeholder {prot} (did you mean {port}?)"},
               {"go=./server --id={key}", "{key} changes per request"},
               {"go=", "--target go: empty command"}};
  for (const Case& c : cases) {
    std::string error;
    std::optional<TargetOverride> t = ParseTargetOverride(c.spec, {}, &error);
    EXPECT_FALSE(t.has_value()) << c.spec << " was accepted";
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.spec << ": " << error;
  }
}

TEST(TargetTest, CallerDecidesWhichBinariesExist) {
  ParseOptions options;
  options.binaries = {"refapi", "refapi-go"};
  ParseResult r = ParseScenario(R"(target:
  command: ["{refapi-go}"]
faults: [{at: 1s, send: SIGTERM}]
)",
                                "t.yaml", options);
  EXPECT_TRUE(r.ok()) << Show(r.errors);
  r = ParseScenario("target:\n  command: [\"{refapi-go}\"]\nfaults: [{at: 1s, send: 15}]\n",
                    "t.yaml");
  EXPECT_TRUE(HasError(r.errors, 2, 14, "unknown placeholder {refapi-go} (did you mean {refapi}?)"))
      << Show(r.errors);
}

// ------------------------------------------------------- warnings

// A scenario with a 4 s load, `faults` and `expect` as given.
std::vector<ScenarioError> WarningsOf(const std::string& faults, const std::string& expect,
                                      bool load = true) {
  const std::string text =
      WithBase((load ? "load:\n  model: closed\n  duration: 4s\n  requests: [{ path: / }]\n" : "") +
               std::string("faults:\n") + faults + "expect:\n" + expect);
  const Scenario s = MustParse(text, "w.yaml");
  return ScenarioWarnings(s);
}

TEST(ScenarioWarningsTest, GrowthWithTheSignalDuringTheLoadPointsAtTheKey) {
  const std::vector<ScenarioError> w =
      WarningsOf("  - at: 1.5s\n    send: SIGTERM\n", "  threads:\n    growth: 2\n");
  ASSERT_EQ(w.size(), 1u) << Show(w);
  // Line 10 of the file: target (2), load (4), faults (2), expect, threads.
  EXPECT_EQ(w[0].ToString().rfind("w.yaml:12:5: warning: expect.threads.growth cannot be "
                                  "measured",
                                  0),
            0u)
      << Show(w);
  EXPECT_NE(w[0].message.find("(SIGTERM, at 1.5s) can come before the load ends (4s)"),
            std::string::npos)
      << Show(w);
}

TEST(ScenarioWarningsTest, GrowthWithTheSignalAfterTheLoadIsFine) {
  EXPECT_TRUE(WarningsOf("  - at: 5s\n    send: SIGTERM\n", "  threads: { growth: 0 }\n").empty());
  EXPECT_TRUE(WarningsOf("  - at: 4s\n    send: SIGTERM\n", "  threads: { growth: 0 }\n").empty());
  // Only a fault that signals the target counts: a database fault during
  // the load does not end the idle period.
  EXPECT_TRUE(WarningsOf("  - at: 1s\n    db: cancel_queries\n  - at: 5s\n    send: SIGTERM\n",
                         "  threads: { growth: 0 }\n")
                  .empty());
  // at_exit is measurable whenever the fault comes.
  EXPECT_TRUE(WarningsOf("  - at: 1s\n    send: SIGTERM\n", "  threads: { at_exit: 4 }\n").empty());
}

TEST(ScenarioWarningsTest, GrowthWithTriggersThatFireDuringTheLoad) {
  for (const char* trigger : {"{ requests: 100 }", "{ inflight: 3 }", "{ db_active: 1 }",
                              "{ log: ready }", "{ between: [1s, 6s] }"}) {
    const std::vector<ScenarioError> w =
        WarningsOf(std::string("  - at: ") + trigger + "\n    send: SIGTERM\n    timeout: 5s\n",
                   "  threads: { growth: 0 }\n");
    ASSERT_EQ(w.size(), 1u) << trigger << Show(w);
    EXPECT_NE(w[0].message.find("can come before the load ends"), std::string::npos)
        << trigger << Show(w);
  }
  // After a fault that comes after the load: fine; after one during it,
  // the delay decides.
  EXPECT_TRUE(WarningsOf("  - name: first\n    at: 3s\n    send: SIGWINCH\n"
                         "  - at: { after: first, delay: 2s }\n    send: SIGTERM\n",
                         "  threads: { growth: 0 }\n")
                  .size() == 1u)
      << "SIGWINCH at 3s signals the target too";
  EXPECT_TRUE(WarningsOf("  - name: stop\n    at: 1s\n    load: stop\n"
                         "  - at: { after: stop, delay: 4s }\n    send: SIGTERM\n",
                         "  threads: { growth: 0 }\n")
                  .empty());
}

TEST(ScenarioWarningsTest, GrowthWithoutLoad) {
  const std::vector<ScenarioError> w =
      WarningsOf("  - at: 1s\n    send: SIGTERM\n", "  threads: { growth: 0 }\n", false);
  ASSERT_EQ(w.size(), 1u) << Show(w);
  EXPECT_NE(w[0].message.find("the scenario has no load"), std::string::npos) << Show(w);
}

TEST(ScenarioWarningsTest, LameDuckNeedsASignalDuringTheLoad) {
  EXPECT_TRUE(WarningsOf("  - at: 1s\n    send: SIGTERM\n", "  lame_duck: 500ms\n").empty());
  std::vector<ScenarioError> w =
      WarningsOf("  - at: 4s\n    send: SIGTERM\n", "  lame_duck: 500ms\n");
  ASSERT_EQ(w.size(), 1u) << Show(w);
  EXPECT_EQ(w[0].line, 11) << Show(w);
  EXPECT_NE(w[0].message.find("comes when the load (4s) is over"), std::string::npos) << Show(w);
  w = WarningsOf("  - at: 1s\n    db: restart\n", "  lame_duck: 500ms\n");
  ASSERT_EQ(w.size(), 1u) << Show(w);
  EXPECT_NE(w[0].message.find("no fault signals the target"), std::string::npos) << Show(w);
}

TEST(ScenarioWarningsTest, ClosedBeforeDrainNeedsASignalWhenAskedFor) {
  const std::vector<ScenarioError> w = WarningsOf("  - at: 1s\n    db: terminate_sessions\n",
                                                  "  db_sessions: { closed_before_drain: 0 }\n");
  ASSERT_EQ(w.size(), 1u) << Show(w);
  EXPECT_NE(w[0].message.find("expect.db_sessions.closed_before_drain cannot be measured"),
            std::string::npos)
      << Show(w);
  // Not asked for (the default): no warning.
  EXPECT_TRUE(WarningsOf("  - at: 1s\n    db: terminate_sessions\n", "  dropped: 0\n").empty());
}

TEST(ScenarioWarningsTest, ValidateReturnsWarningsOfValidFilesOnly) {
  std::vector<ScenarioError> warnings;
  const std::vector<ScenarioError> errors = ValidateScenarioFiles(
      {(kScenarios / "testdata" / "warnings" / "growth-during-load.yaml").string(),
       (kScenarios / "sigterm-mid-load.yaml").string()},
      {}, &warnings);
  EXPECT_TRUE(errors.empty()) << Show(errors);
  ASSERT_EQ(warnings.size(), 1u) << Show(warnings);
  EXPECT_NE(warnings[0].ToString().find("growth-during-load.yaml:16:14: warning: "
                                        "expect.threads.growth cannot be measured"),
            std::string::npos)
      << Show(warnings);
}

}  // namespace
}  // namespace gracecheck
