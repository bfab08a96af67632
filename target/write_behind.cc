#include "write_behind.h"

#include <fmt/format.h>
#include <pthread.h>

#include <exception>
#include <stdexcept>

#include "phase_log.h"

namespace gracecheck::refapi {

WriteBehind::WriteBehind(const std::string& url, std::size_t batch, Duration linger)
    : batch_size_(batch), linger_(linger), connection_(std::make_unique<pqxx::connection>(url)) {
  PrepareStatements(*connection_);
  writer_ = std::thread([this] { Write(); });
}

WriteBehind::~WriteBehind() { Stop(); }

void WriteBehind::RegisterRoute(httplib::Server& server) {
  server.Post("/items", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> key = ParseItemKey(req, res);
    if (!key) return;
    try {
      ReplyItemWritten(res, Insert(*key, req.body), *key);
    } catch (const std::exception&) {
      res.status = 503;
      res.set_content(R"({"error":"database error"})", "application/json");
    }
  });
}

ItemWrite WriteBehind::Insert(const std::string& key, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) throw std::runtime_error("write-behind stopped");
  ItemWrite written;
  try {
    if (!batch_) batch_ = std::make_unique<pqxx::work>(*connection_);
    written = InsertItem(*batch_, key, body);
    if (pending_++ == 0) oldest_ = Clock::now();
  } catch (...) {
    // One failed statement aborts the whole batch, answered writes too.
    batch_.reset();
    pending_ = 0;
    throw;
  }
  cv_.notify_all();
  return written;
}

void WriteBehind::Write() {
  pthread_setname_np(pthread_self(), "write-behind");
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || pending_ > 0; });
    if (stop_) break;
    cv_.wait_until(lock, oldest_ + linger_, [this] { return stop_ || pending_ >= batch_size_; });
    if (stop_) break;
    if (!batch_) continue;  // the batch failed meanwhile
    try {
      batch_->commit();
    } catch (const std::exception&) {
      LogPhase("write_behind_commit_failed", fmt::format("writes={}", pending_));
    }
    batch_.reset();
    pending_ = 0;
  }
  // Subtleness ahead, the bug itself: stopping drops the pending batch
  // instead of committing it. Its transaction is rolled back and the
  // connection closed cleanly; only the answered writes are gone.
  batch_.reset();
  connection_->disconnect();
}

std::size_t WriteBehind::Stop() {
  std::size_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return 0;
    stop_ = true;
    dropped = pending_;
    pending_ = 0;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  return dropped;
}

}  // namespace gracecheck::refapi
