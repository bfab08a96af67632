// refapi's HTTP API and its table:
//   GET  /healthz      200 "ok", no database
//   GET  /readyz       200 while ready, 503 once shutdown began
//   GET  /items/{id}   200 {"id":N,"key":"..."} or 404
//   POST /items        {"key":"K",...}: 201 created, 200 key existed (idempotent by key),
//                      400 bad JSON or no key; answered only after the commit
//   GET  /slow?ms=N    holds a pooled connection in pg_sleep, then 200 {"slept_ms":N}
// A request that finds no free database connection within 5 s, or whose
// query fails, gets 503 {"error":...}.
//
// Threading: handlers run on many HTTP worker threads at once; they share
// only the pool (thread-safe) and the readiness flag (atomic).
#pragma once

#include <httplib.h>

#include <atomic>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>

#include "connection_pool.h"
#include "refapi_options.h"

namespace gracecheck::refapi {

// Creates the items table if missing.
void CreateSchema(pqxx::connection& connection);

// How the API sends its statements. kPrepared: prepared once on each pooled
// connection, then executed by name. kInline: each sent whole as an unnamed
// statement (parse, bind and execute in one round trip), as a pooler in
// transaction mode needs: PgBouncer before 1.21 hands the next transaction
// another server connection, where the name is unknown ("prepared
// statement ... does not exist"). Set once, before the pool opens.
void UseStatements(Statements statements);

// Prepares the API's statements on one pooled connection (kPrepared).
void PrepareStatements(pqxx::connection& connection);

// POST /items in parts, for a variant that writes differently
// (--bug=ack-before-commit, write_behind.h).
//
// The item's key from the request's JSON body; nullopt after answering 400.
std::optional<std::string> ParseItemKey(const httplib::Request& req, httplib::Response& res);
struct ItemWrite {
  long long id = 0;
  bool created = false;  // false: the key existed (the request is idempotent by key)
};
// Inserts the item (or finds it by key) in `tx`, which the caller commits.
ItemWrite InsertItem(pqxx::transaction_base& tx, const std::string& key, const std::string& body);
// 201 (created) or 200 (the key existed) with {"id":N,"key":"..."}.
void ReplyItemWritten(httplib::Response& res, const ItemWrite& written, const std::string& key);

// Registers the routes. `pool` and `ready` must outlive the server.
void RegisterApi(httplib::Server& server, ConnectionPool& pool, const std::atomic<bool>& ready);

}  // namespace gracecheck::refapi
