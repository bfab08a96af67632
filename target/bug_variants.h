// What refapi's deliberate bugs (bugs.h) add to the server while it serves,
// and the state their shutdown steps (shutdown_sequence.cc) act on:
//
//   leak-threads       a pre-routing hook starts a detached "audit" thread per
//                      request that waits forever for an acknowledgement
//   leak-sessions      the same hook opens a database connection every 20th
//                      request and forgets it
//   hang-on-shutdown   a "housekeeper" thread that refreshes a cached item
//                      count every second until told to stop
//   ack-before-commit  a WriteBehind (write_behind.h) that owns POST /items
//   reset-keepalive    the set of open connection sockets, to reset at shutdown
//   small-backlog      the HTTP server in its stock cpp-httplib mode
//   orphan-child       StartOrphanHelper(), the first thing refapi does
//
// The correct server constructs none of this: with no --bug, refapi runs
// exactly the code it runs without this file.
//
// Threading: construct on the main thread before the server binds; the
// hooks run on HTTP workers; the other members are for the shutdown thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "connection_pool.h"
#include "http_server.h"
#include "refapi_options.h"
#include "write_behind.h"

namespace gracecheck::refapi {

// leak-sessions: one connection outside the pool every this many requests.
constexpr std::uint64_t kLeakSessionEvery = 20;
// ack-before-commit: the writer commits a batch once it holds this many
// writes, or once its oldest write is this old (longer than most scenarios).
constexpr std::size_t kWriteBehindBatch = 100;
constexpr auto kWriteBehindLinger = std::chrono::seconds(5);
// small-backlog: cpp-httplib 0.11's default pool, max(8, cores - 1), on
// machines of up to 9 cores.
constexpr std::size_t kStockCppHttplibWorkers = 8;
// orphan-child: the helper gives up after this long, so that a forgotten one
// does not hold a session on a shared machine for ever.
constexpr auto kOrphanHelperLifetime = std::chrono::minutes(10);

class BugVariants {
 public:
  // Installs the hooks of `options.bugs` on `server`; call before
  // server.Bind() and before RegisterApi() (a route registered first wins).
  // Throws pqxx::broken_connection if the write-behind's connection fails.
  BugVariants(const Options& options, ConnectionPool& pool, HttpServer& server);
  ~BugVariants();  // stops and joins what it started, if refapi returns at all

  BugVariants(const BugVariants&) = delete;
  BugVariants& operator=(const BugVariants&) = delete;

  // hang-on-shutdown: joins the housekeeper without telling it to stop
  // first. Never returns.
  void JoinHousekeeper();
  // ack-before-commit: stops the writer; returns the answered writes dropped.
  std::size_t StopWriteBehind();
  // reset-keepalive: resets every open connection; returns how many.
  std::size_t ResetConnections();

 private:
  void OnRequest();
  void Housekeep();

  const Options& options_;
  ConnectionPool& pool_;
  std::atomic<std::uint64_t> requests_{0};

  std::mutex housekeeper_mu_;
  std::condition_variable housekeeper_cv_;
  bool housekeeper_stop_ = false;
  std::atomic<long long> cached_item_count_{0};
  std::thread housekeeper_;

  std::unique_ptr<WriteBehind> write_behind_;

  std::mutex sockets_mu_;
  std::set<int> sockets_;  // open connections; a socket leaves before it is closed
};

// idle-in-transaction: takes a connection out of the pool, BEGINs on it and
// forgets it: no COMMIT, no ROLLBACK, no close. Logs what it did.
void LeaveTransactionOpen(ConnectionPool& pool);

// orphan-child: forks a helper ("refapi-helper") that opens its own database
// session and keeps it busy; nobody ever stops it. It stays in refapi's
// process group, with default signal dispositions. Call before any thread
// starts or socket opens (the helper must not inherit them). Returns the
// helper's pid, or -1.
pid_t StartOrphanHelper(const std::string& db_url);

}  // namespace gracecheck::refapi
