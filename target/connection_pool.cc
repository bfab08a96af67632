#include "connection_pool.h"

namespace gracecheck::refapi {

ConnectionPool::ConnectionPool(const std::string& url, std::size_t size, const Setup& setup) {
  slots_.resize(size);
  for (std::size_t i = 0; i < size; ++i) {
    slots_[i].connection = std::make_unique<pqxx::connection>(url);
    if (setup) setup(*slots_[i].connection);
    free_.push_back(size - 1 - i);
  }
}

ConnectionPool::~ConnectionPool() { Close(Duration::zero()); }

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(slot_);
}

pqxx::connection& ConnectionPool::Lease::operator*() const {
  return *pool_->slots_[slot_].connection;
}

std::optional<ConnectionPool::Lease> ConnectionPool::Acquire(Duration wait) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  if (!cv_.wait_until(lock, deadline, [this] { return closed_ || refusing_ || !free_.empty(); }) ||
      closed_ || refusing_) {
    return std::nullopt;
  }
  std::size_t slot = free_.back();
  free_.pop_back();
  slots_[slot].leased = true;
  ++leased_;
  return Lease(this, slot);
}

void ConnectionPool::Release(std::size_t slot) {
  std::unique_lock<std::mutex> lock(mu_);
  slots_[slot].leased = false;
  --leased_;
  if (closed_) {
    // Close() began while this connection was out: close it here, in the
    // thread that used it, rather than under the feet of a running query.
    pqxx::connection& c = *slots_[slot].connection;
    if (c.is_open()) ++closed_while_leased_;
    c.disconnect();
  } else {
    free_.push_back(slot);
  }
  lock.unlock();
  cv_.notify_all();
}

void ConnectionPool::Refuse() {
  std::lock_guard<std::mutex> lock(mu_);
  refusing_ = true;
  cv_.notify_all();  // waiters are refused too
}

ConnectionPool::CloseResult ConnectionPool::Close(Duration grace) {
  CloseResult result;
  std::unique_lock<std::mutex> lock(mu_);
  if (!closed_) {
    closed_ = true;
    for (std::size_t slot : free_) {
      pqxx::connection& c = *slots_[slot].connection;
      if (c.is_open()) ++result.closed;
      c.disconnect();
    }
    free_.clear();
    CancelLeasedLocked();
    cv_.notify_all();  // wake Acquire waiters: the pool is closed
  }
  cv_.wait_for(lock, grace, [this] { return leased_ == 0; });
  result.closed += closed_while_leased_;
  closed_while_leased_ = 0;
  result.abandoned = leased_;
  return result;
}

std::size_t ConnectionPool::CancelLeasedLocked() {
  std::size_t asked = 0;
  for (Slot& s : slots_) {
    if (!s.leased) continue;
    try {
      s.connection->cancel_query();
      ++asked;
    } catch (const std::exception&) {
      // The connection is broken already; its holder will find out.
    }
  }
  return asked;
}

std::size_t ConnectionPool::CancelQueries() {
  std::lock_guard<std::mutex> lock(mu_);
  return CancelLeasedLocked();
}

std::unique_ptr<pqxx::connection> ConnectionPool::Hijack(Lease lease) {
  std::unique_ptr<pqxx::connection> connection;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Slot& s = slots_[lease.slot_];
    s.leased = false;
    --leased_;
    connection = std::move(s.connection);
    lease.pool_ = nullptr;  // its destructor must not give the slot back
  }
  cv_.notify_all();  // Close() may be waiting for leased_ to drop
  return connection;
}

}  // namespace gracecheck::refapi
