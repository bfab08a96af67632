// --bug=ack-before-commit: POST /items answered before its insert commits.
//
// Every write runs its INSERT on one shared connection inside one open
// transaction and is answered (201/200 with the new id) at once; a writer
// thread COMMITs the batch once it holds `batch` writes or its oldest write
// is `linger` old, the "group commit" of write-behind caches and of
// producers that acknowledge from a buffer. Stop() ends the writer without
// that last commit: the batch still pending is rolled back when the
// connection closes, so writes the clients were told about are lost.
//
// Batches end by count under load, not on a clock: a commit timer would
// line up with a scenario's load start and its signal (both on whole
// seconds) and could commit just in time, hiding the bug.
//
// Threading: Insert() from any thread (the writes take turns on one mutex);
// Stop() once, from any thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <string>
#include <thread>

#include "api.h"
#include "duration.h"

namespace gracecheck::refapi {

class WriteBehind {
 public:
  // Opens the shared connection (throws pqxx::broken_connection) and starts
  // the writer thread ("write-behind").
  WriteBehind(const std::string& url, std::size_t batch, Duration linger);
  ~WriteBehind();  // Stop()

  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Registers POST /items; register it before RegisterApi's routes so that
  // it is the one that matches.
  void RegisterRoute(httplib::Server& server);

  // The insert, uncommitted. Throws what libpqxx throws; the batch it was
  // in is then rolled back.
  ItemWrite Insert(const std::string& key, const std::string& body);

  // Stops the writer without committing; returns how many answered writes
  // were dropped. A second call returns 0.
  std::size_t Stop();

 private:
  using Clock = std::chrono::steady_clock;
  void Write();

  const std::size_t batch_size_;
  const Duration linger_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::work> batch_;  // the open transaction, if any write is pending
  std::size_t pending_ = 0;
  Clock::time_point oldest_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace gracecheck::refapi
