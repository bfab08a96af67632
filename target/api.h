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
#include <pqxx/connection>

#include "connection_pool.h"

namespace gracecheck::refapi {

// Creates the items table if missing.
void CreateSchema(pqxx::connection& connection);

// Prepares the API's statements on one pooled connection.
void PrepareStatements(pqxx::connection& connection);

// Registers the routes. `pool` and `ready` must outlive the server.
void RegisterApi(httplib::Server& server, ConnectionPool& pool, const std::atomic<bool>& ready);

}  // namespace gracecheck::refapi
