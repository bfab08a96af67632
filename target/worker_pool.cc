#include "worker_pool.h"

#include <pthread.h>

#include <utility>

namespace gracecheck::refapi {

WorkerPool::WorkerPool(std::size_t threads, ConnectionTracker* tracker,
                       std::function<void()> on_shutdown)
    : tracker_(tracker), on_shutdown_(std::move(on_shutdown)) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::enqueue(std::function<void()> job) {
  tracker_->Queued();
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void WorkerPool::shutdown() {
  if (on_shutdown_) std::exchange(on_shutdown_, nullptr)();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::Work() {
  pthread_setname_np(pthread_self(), "http-worker");
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return shutting_down_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // shutting down and nothing left to serve
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace gracecheck::refapi
