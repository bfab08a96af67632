// A fault's action: what it does once its trigger is met. This header is
// the table of actions; each one lives in its own file beside it, which
// holds all there is to know about it:
//
//   send.cc        send: SIGNAL [repeat: N, every: D]
//   pause.cc       pause: D              SIGSTOP, SIGCONT after D
//   kill_after.cc  kill_after: D         SIGTERM, SIGKILL to the group after D
//   db.cc          db: terminate_sessions | cancel_queries | restart | {block: D}
//   load.cc        load: stop | {rate: R}
//   http_get.cc    http_get: PATH        a GET to the target (a preStop hook)
//
// An alternative's members, defined in its file:
//   Kind()         the `action` of its fault record (JSON): "send", "db", …
//   DefaultName()  a fault's name when none is given: "SIGTERM", "db restart"
//   SignalOf()     the signal it sends the target first, 0 if none; the
//                  first fault that signals starts expect.exit's clock
//   Fire(context)  acts; "" or why it failed
// and its file's parse function has a row in ActionSyntaxes() (action.cc),
// naming its key in the fault mapping and the keys that go with it. Every
// use of an action is a std::visit over FaultAction, so an alternative that
// lacks a member does not compile.
//
// Threading: Fire is called on the fault scheduler's thread; what it hands
// to FaultContext::InBackground runs on another (faults.h).
#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "duration.h"
#include "timeline.h"

namespace gracecheck {

class YamlReader;
struct Entry;
class Map;

struct FaultContext;

// ---- the alternatives, each defined in its file

struct SendSignal {  // send.cc
  int signal = SIGTERM;
  int repeat = 1;                                   // times
  Duration every = std::chrono::milliseconds(100);  // between two, with repeat > 1
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct Pause {          // pause.cc
  Duration duration{};  // how long stopped
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct KillAfter {   // kill_after.cc
  Duration grace{};  // from SIGTERM to SIGKILL
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct DbTerminateSessions {  // db.cc: pg_terminate_backend on the run's sessions
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct DbCancelQueries {  // db.cc: pg_cancel_backend on the active ones
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct DbRestart {  // db.cc: restart the embedded cluster
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct DbBlock {        // db.cc: lock every table of the run's database
  Duration duration{};  // held this long
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct LoadStop {  // load.cc: end the load now
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};
struct LoadRate {  // load.cc: the open model's new arrival rate
  double per_second = 0;
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};

struct HttpGet {     // http_get.cc
  std::string path;  // "/prestop"
  std::string_view Kind() const;
  std::string DefaultName() const;
  int SignalOf() const;
  std::string Fire(FaultContext& context) const;
};

using FaultAction = std::variant<SendSignal, Pause, KillAfter, DbTerminateSessions, DbCancelQueries,
                                 DbRestart, DbBlock, LoadStop, LoadRate, HttpGet>;

// ---- what an action acts on

// What a run offers its faults besides the target's signals: its database
// and its load. Unset functions mean "not in this run" (no load; a server
// gracecheck may not restart).
struct FaultHooks {
  // Sends the signal; false if there was nobody to send it to.
  std::function<bool(int signal, bool group)> send;
  std::function<bool()> target_running;
  int target_port = 0;  // where it listens, on 127.0.0.1
  // Called right after the first fault that signals the target went out.
  std::function<void(Nanos)> first_delivered;
  // The database server as its admin (a libpq connection string), and the
  // run's database on it.
  std::string db_admin;
  std::string db_name;
  // Restarts the database server; "" or why not.
  std::function<std::string()> restart_db;
  std::function<void()> stop_load;
  // false: the load's model has no rate (closed).
  std::function<bool(double per_second)> set_load_rate;
};

// One firing, given to Fire by the scheduler.
struct FaultContext {
  Nanos now = 0;       // when the action fires
  bool group = false;  // the fault's `to: group`
  const FaultHooks* hooks = nullptr;
  // The scheduler's clock: the run's time, callable from any thread.
  std::function<Nanos()> clock;
  // Sends to the target and counts the delivery; false if nobody was there.
  std::function<bool(int signal, bool group)> send;
  // Runs `then` on the scheduler's thread at `at` (or at once when the run
  // stops first); callable from any thread.
  std::function<void(Nanos at, std::function<void()> then)> later;
  // The fault record's detail.
  std::function<void(std::string)> set_detail;
  // Runs `job` off the scheduler's thread, after the background jobs before
  // it (a db fault waits for its lock or its restart while a signal due
  // meanwhile goes on time). The fault is delivered at `now` if the job
  // returns "", else fails with what it returns. Fire's own result is then
  // ignored.
  std::function<void(std::function<std::string()> job)> in_background;
};

// ---- the dispatch: one std::visit each

std::string_view ActionKindOf(const FaultAction& a);
std::string DefaultNameOf(const FaultAction& a);
int SignalOf(const FaultAction& a);
inline bool Signals(const FaultAction& a) { return SignalOf(a) != 0; }
std::string FireAction(const FaultAction& a, FaultContext& context);

// ---- the grammar

// The YAML a parse function reads.
struct ActionInput {
  YamlReader& yaml;
  const Entry& entry;       // the action's key and value, e.g. `send: SIGTERM`
  const Map& fault;         // the whole fault mapping, for the keys that go with it
  const std::string& path;  // "faults[2]"
};

// One parse function per key, each in its action's file.
std::optional<FaultAction> ParseSend(const ActionInput& input);
std::optional<FaultAction> ParsePause(const ActionInput& input);
std::optional<FaultAction> ParseKillAfter(const ActionInput& input);
std::optional<FaultAction> ParseDb(const ActionInput& input);
std::optional<FaultAction> ParseLoad(const ActionInput& input);
std::optional<FaultAction> ParseHttpGet(const ActionInput& input);

struct ActionSyntax {
  std::string key;                     // in the fault mapping: "send"
  std::vector<std::string> with_keys;  // keys that go with this action only ("repeat")
  // nullopt after reporting the problems through input.yaml.
  std::optional<FaultAction> (*parse)(const ActionInput& input);
};

// Every action, in the order the documentation lists them.
const std::vector<ActionSyntax>& ActionSyntaxes();

}  // namespace gracecheck
