// A fixed-size pool of PostgreSQL connections (libpqxx). All connections are
// opened by the constructor and stay open until Close(): no thread is started
// and no connection is opened per request. A handler borrows a connection
// with Acquire() and gives it back when the Lease goes out of scope.
//
// Threading: every member may be called from any thread. A leased connection
// belongs to the thread holding the Lease; the pool never touches it then,
// except that Close() may ask the server to cancel its query (PQcancel, which
// libpq allows from another thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "duration.h"

namespace gracecheck::refapi {

class ConnectionPool {
 public:
  // Called once on each connection right after it is opened (e.g. to
  // prepare statements). libpqxx re-prepares them if a connection is
  // transparently re-opened after it broke.
  using Setup = std::function<void(pqxx::connection&)>;

  // Opens `size` connections; throws pqxx::broken_connection (whose message
  // comes from libpq and holds no password) if one fails.
  ConnectionPool(const std::string& url, std::size_t size, const Setup& setup);
  ~ConnectionPool();  // closes whatever is still open

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const;
    pqxx::connection* operator->() const { return &**this; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::size_t slot) : pool_(pool), slot_(slot) {}
    ConnectionPool* pool_;
    std::size_t slot_;
  };

  // Waits up to `wait` for a free connection. nullopt when none became free
  // in time or the pool is closed.
  std::optional<Lease> Acquire(Duration wait);

  struct CloseResult {
    std::size_t closed = 0;     // connections closed (PQfinish) by this call
    std::size_t abandoned = 0;  // still leased when `grace` ran out
  };
  // Closes the pool: Acquire fails from now on, idle connections are closed
  // at once. Connections still leased get their query cancelled and are
  // closed as their leases end, waiting at most `grace` for that. A second
  // call returns {0, still leased}.
  CloseResult Close(Duration grace);

  // Acquire fails from now on; nothing is closed (Close still closes it
  // all later). As asyncpg's Pool.close() and node-postgres' pool.end()
  // begin: new checkouts refused at once, the connections kept open until
  // the pool is done. Used only by --bug=pool-refuses.
  void Refuse();

  // Asks the server to cancel the query of every leased connection (the
  // holders see pqxx::sql_error 57014); returns how many were asked. Used
  // only by --bug=cancel-inflight.
  std::size_t CancelQueries();

  // Takes a leased connection out of the pool for good, as pgxpool's
  // Conn.Hijack does: the pool forgets it (Close() neither cancels nor
  // closes it) and the caller owns it. Used only by
  // --bug=idle-in-transaction.
  std::unique_ptr<pqxx::connection> Hijack(Lease lease);

  std::size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    std::unique_ptr<pqxx::connection> connection;
    bool leased = false;
  };

  void Release(std::size_t slot);
  std::size_t CancelLeasedLocked();

  mutable std::mutex mu_;
  std::condition_variable cv_;  // a slot was released, or the pool closed
  std::vector<Slot> slots_;
  std::vector<std::size_t> free_;  // indices into slots_, used as a stack
  std::size_t leased_ = 0;
  std::size_t closed_while_leased_ = 0;  // closed by Release after Close began
  bool refusing_ = false;                // Refuse(): Acquire fails
  bool closed_ = false;
};

}  // namespace gracecheck::refapi
