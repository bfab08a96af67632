#include "api.h"

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <string_view>

#include "integer.h"

namespace gracecheck::refapi {

namespace {

using nlohmann::json;

constexpr auto kPoolWait = std::chrono::seconds(5);
constexpr long long kMaxSleepMs = 10 * 60 * 1000;
constexpr const char* kJson = "application/json";

struct Statement {
  const char* name;  // prepared as this on each pooled connection
  const char* sql;
};
constexpr Statement kInsertItem = {
    "insert_item",
    "INSERT INTO items (key, body) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING id"};
constexpr Statement kSelectItemByKey = {"select_item_by_key",
                                        "SELECT id FROM items WHERE key = $1"};
constexpr Statement kSelectItemById = {"select_item_by_id",
                                       "SELECT id, key FROM items WHERE id = $1"};
constexpr Statement kSleep = {"sleep", "SELECT pg_sleep($1)"};
constexpr const Statement* kStatements[] = {&kInsertItem, &kSelectItemByKey, &kSelectItemById,
                                            &kSleep};

Statements g_statements = Statements::kPrepared;  // set once, before the pool opens

template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const Statement& s, Args&&... args) {
  if (g_statements == Statements::kInline)
    return tx.exec_params(s.sql, std::forward<Args>(args)...);
  return tx.exec_prepared(s.name, std::forward<Args>(args)...);
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), kJson);
}

void ReplyError(httplib::Response& res, int status, std::string_view message) {
  Reply(res, status, json{{"error", message}});
}

// Runs `query` with a pooled connection, answering 503 when the pool has
// none to give or the database fails. A failed query leaves the connection
// in the pool: libpqxx re-opens a broken one on its next use.
template <typename Query>
void WithConnection(ConnectionPool& pool, httplib::Response& res, Query query) {
  std::optional<ConnectionPool::Lease> lease = pool.Acquire(kPoolWait);
  if (!lease) {
    ReplyError(res, 503, "no database connection available");
    return;
  }
  try {
    query(**lease);
  } catch (const pqxx::broken_connection&) {
    ReplyError(res, 503, "database connection lost");
  } catch (const pqxx::sql_error& e) {
    ReplyError(res, 503, std::string("database error: ") + e.sqlstate());
  } catch (const std::exception&) {
    ReplyError(res, 503, "database error");
  }
}

void GetItem(ConnectionPool& pool, const httplib::Request& req, httplib::Response& res) {
  std::optional<long long> id = ParseInteger(req.matches[1].str());
  if (!id) {
    ReplyError(res, 404, "no such item");
    return;
  }
  WithConnection(pool, res, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    pqxx::result rows = Exec(tx, kSelectItemById, *id);
    if (rows.empty()) {
      ReplyError(res, 404, "no such item");
      return;
    }
    Reply(res, 200,
          json{{"id", rows[0][0].as<long long>()}, {"key", rows[0][1].as<std::string>()}});
  });
}

void PostItem(ConnectionPool& pool, const httplib::Request& req, httplib::Response& res) {
  std::optional<std::string> key = ParseItemKey(req, res);
  if (!key) return;
  WithConnection(pool, res, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    const ItemWrite written = InsertItem(tx, *key, req.body);
    tx.commit();
    ReplyItemWritten(res, written, *key);
  });
}

void Slow(ConnectionPool& pool, const httplib::Request& req, httplib::Response& res) {
  std::optional<long long> ms = ParseInteger(req.get_param_value("ms"));
  if (!ms || *ms < 0 || *ms > kMaxSleepMs) {
    ReplyError(res, 400, "ms wants a whole number of milliseconds from 0 to 600000");
    return;
  }
  WithConnection(pool, res, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    Exec(tx, kSleep, static_cast<double>(*ms) / 1000.0);
    Reply(res, 200, json{{"slept_ms", *ms}});
  });
}

}  // namespace

std::optional<std::string> ParseItemKey(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    ReplyError(res, 400, "body is not a JSON object");
    return std::nullopt;
  }
  auto key = body.find("key");
  if (key == body.end() || !key->is_string() || key->get_ref<const std::string&>().empty()) {
    ReplyError(res, 400, "body needs a non-empty string \"key\"");
    return std::nullopt;
  }
  return key->get<std::string>();
}

ItemWrite InsertItem(pqxx::transaction_base& tx, const std::string& key, const std::string& body) {
  pqxx::result inserted = Exec(tx, kInsertItem, key, body);
  const bool created = !inserted.empty();
  pqxx::result rows = created ? inserted : Exec(tx, kSelectItemByKey, key);
  if (rows.empty()) throw std::runtime_error("item vanished");  // deleted meanwhile
  return {rows[0][0].as<long long>(), created};
}

void ReplyItemWritten(httplib::Response& res, const ItemWrite& written, const std::string& key) {
  Reply(res, written.created ? 201 : 200, json{{"id", written.id}, {"key", key}});
}

void CreateSchema(pqxx::connection& connection) {
  pqxx::work tx(connection);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS items ("
      " id bigserial PRIMARY KEY,"
      " key text UNIQUE NOT NULL,"
      " body text,"
      " created_at timestamptz DEFAULT now())");
  tx.commit();
}

void UseStatements(Statements statements) { g_statements = statements; }

void PrepareStatements(pqxx::connection& connection) {
  if (g_statements == Statements::kInline) return;
  for (const Statement* s : kStatements) connection.prepare(s->name, s->sql);
}

void RegisterApi(httplib::Server& server, ConnectionPool& pool, const std::atomic<bool>& ready) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Get("/readyz", [&ready](const httplib::Request&, httplib::Response& res) {
    if (ready.load()) {
      res.set_content("ready", "text/plain");
    } else {
      res.status = 503;
      res.set_content("shutting down", "text/plain");
    }
  });
  server.Get(R"(/items/(\d+))", [&pool](const httplib::Request& req, httplib::Response& res) {
    GetItem(pool, req, res);
  });
  server.Post("/items", [&pool](const httplib::Request& req, httplib::Response& res) {
    PostItem(pool, req, res);
  });
  server.Get("/slow", [&pool](const httplib::Request& req, httplib::Response& res) {
    Slow(pool, req, res);
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        ReplyError(res, 500, "internal error");
      });
}

}  // namespace gracecheck::refapi
