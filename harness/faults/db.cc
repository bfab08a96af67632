// Database faults, on the run's database only:
//   db: terminate_sessions  pg_terminate_backend on every session of the run
//   db: cancel_queries      pg_cancel_backend on the active ones
//   db: restart             a fast restart of the embedded cluster (not with
//                           --pg-url: gracecheck does not restart your server)
//   db: {block: D}          an ACCESS EXCLUSIVE lock on every table of the
//                           run's database, held D on a connection of its own
// Each runs in the background (FaultContext::in_background): a block waits
// for its locks, a restart for the cluster, and a signal due meanwhile goes
// on time. A fault is delivered when its action is done: the sessions
// signalled, the cluster back, the locks held.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <memory>
#include <pqxx/pqxx>

#include "faults/action.h"
#include "yaml_reader.h"

namespace gracecheck {

namespace {

// The same server and credentials, another database.
std::string WithDatabase(const std::string& conninfo, const std::string& database) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    PQfreemem(err);
    return conninfo;
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    std::string value = std::string(o->keyword) == "dbname" ? database : (o->val ? o->val : "");
    if (value.empty()) continue;
    std::string quoted;
    for (char c : value) {
      if (c == '\\' || c == '\'') quoted += '\\';
      quoted += c;
    }
    out += fmt::format("{}='{}' ", o->keyword, quoted);
  }
  PQconninfoFree(opts);
  return out;
}

// pg_terminate_backend or pg_cancel_backend on the run's client sessions.
std::string SignalSessions(const FaultHooks& hooks, std::string_view what, const char* fn,
                           const char* only) {
  try {
    pqxx::connection c(hooks.db_admin);
    pqxx::nontransaction tx(c);
    tx.exec(
        fmt::format("SELECT {}(pid) FROM pg_stat_activity WHERE datname = {} AND usename = {} "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid(){}",
                    fn, tx.quote(hooks.db_name), tx.quote(hooks.db_name), only));
    return {};
  } catch (const std::exception& e) {
    return fmt::format("db: {}: {}", what, e.what());
  }
}

}  // namespace

std::string_view DbTerminateSessions::Kind() const { return "db"; }
std::string DbTerminateSessions::DefaultName() const { return "db terminate_sessions"; }
int DbTerminateSessions::SignalOf() const { return 0; }
std::string DbTerminateSessions::Fire(FaultContext& c) const {
  c.in_background([hooks = c.hooks] {
    return SignalSessions(*hooks, "terminate_sessions", "pg_terminate_backend", "");
  });
  return {};
}

std::string_view DbCancelQueries::Kind() const { return "db"; }
std::string DbCancelQueries::DefaultName() const { return "db cancel_queries"; }
int DbCancelQueries::SignalOf() const { return 0; }
std::string DbCancelQueries::Fire(FaultContext& c) const {
  c.in_background([hooks = c.hooks] {
    return SignalSessions(*hooks, "cancel_queries", "pg_cancel_backend", " AND state = 'active'");
  });
  return {};
}

std::string_view DbRestart::Kind() const { return "db"; }
std::string DbRestart::DefaultName() const { return "db restart"; }
int DbRestart::SignalOf() const { return 0; }
std::string DbRestart::Fire(FaultContext& c) const {
  c.in_background([hooks = c.hooks] {
    return hooks->restart_db ? hooks->restart_db()
                             : "db: restart needs the embedded cluster (not --pg-url)";
  });
  return {};
}

std::string_view DbBlock::Kind() const { return "db"; }
std::string DbBlock::DefaultName() const { return "db block"; }
int DbBlock::SignalOf() const { return 0; }
std::string DbBlock::Fire(FaultContext& c) const {
  // The locks are taken in the background; once held, their release is a
  // follow-up on the scheduler's thread D later (or when the run stops),
  // so that the next background job does not wait D behind them.
  c.in_background(
      [hooks = c.hooks, later = c.later, clock = c.clock, d = duration]() -> std::string {
        struct Held {
          pqxx::connection connection;
          std::unique_ptr<pqxx::work> tx;
          explicit Held(const std::string& conninfo) : connection(conninfo) {}
        };
        try {
          auto held = std::make_shared<Held>(WithDatabase(hooks->db_admin, hooks->db_name));
          held->tx = std::make_unique<pqxx::work>(held->connection);
          pqxx::result tables = held->tx->exec(
              "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
              "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
          if (tables.empty()) return "db: block: the run's database has no table to lock";
          std::string names;
          for (const auto& row : tables)
            names += (names.empty() ? "" : ", ") + row[0].as<std::string>();
          held->tx->exec("LOCK TABLE " + names + " IN ACCESS EXCLUSIVE MODE");
          later(clock() + d.count(), [held] {
            try {
              held->tx->abort();
            } catch (const std::exception&) {
              // The connection is gone: so are its locks.
            }
          });
          return {};
        } catch (const std::exception& e) {
          return fmt::format("db: block: {}", e.what());
        }
      });
  return {};
}

std::optional<FaultAction> ParseDb(const ActionInput& in) {
  const std::string path = in.path + ".db";
  const Entry& a = in.entry;
  if (!a.value.IsMap()) {
    std::optional<std::string> v =
        in.yaml.ReadChoice(a, path, {"terminate_sessions", "cancel_queries", "restart"});
    if (!v) return std::nullopt;
    if (*v == "terminate_sessions") return DbTerminateSessions{};
    if (*v == "cancel_queries") return DbCancelQueries{};
    return DbRestart{};
  }
  std::optional<Map> m = in.yaml.ReadMap(a.value, YamlReader::Where(a), path, {"block"});
  if (!m) return std::nullopt;
  const Entry* block = m->Find("block");
  if (!block) {
    in.yaml.Missing(a.key_node.Mark(), path, "block", " (e.g. db: {block: 2s})");
    return std::nullopt;
  }
  std::optional<Duration> d = in.yaml.ReadDuration(*block, path + ".block", true);
  if (!d) return std::nullopt;
  return DbBlock{*d};
}

}  // namespace gracecheck
