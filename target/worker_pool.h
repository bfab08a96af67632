// The HTTP server's fixed set of worker threads (cpp-httplib TaskQueue),
// named "http-worker" so they can be told apart in /proc/PID/task/*/comm.
// cpp-httplib enqueues one job per accepted connection and a job holds its
// worker for the connection's whole life; the pool counts waiting jobs as
// queued connections in the ConnectionTracker, so the drain waits for them.
//
// Threading: enqueue() is called by the accept thread, shutdown() once by
// the same thread when it stops accepting; jobs run on the workers.
// shutdown() lets every queued job run before it joins the workers.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "connection_tracker.h"

namespace gracecheck::refapi {

class WorkerPool : public httplib::TaskQueue {
 public:
  // `on_shutdown` (may be empty) runs first thing in shutdown(), i.e. as
  // soon as the accept loop has left accept().
  WorkerPool(std::size_t threads, ConnectionTracker* tracker,
             std::function<void()> on_shutdown = {});
  ~WorkerPool() override;  // shutdown() if not done yet

  void enqueue(std::function<void()> job) override;
  void shutdown() override;

 private:
  void Work();

  ConnectionTracker* tracker_;
  std::function<void()> on_shutdown_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool shutting_down_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gracecheck::refapi
