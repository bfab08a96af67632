#include "job_pool.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "interrupt.h"

namespace gracecheck {

void RunJobs(std::size_t count, int jobs, const std::function<bool(std::size_t)>& alone,
             const std::function<void(std::size_t)>& job) {
  if (jobs <= 1) {
    for (std::size_t i = 0; i < count; ++i) {
      interrupt::ThrowIfRequested();
      job(i);
    }
    return;
  }
  std::mutex mu;  // next, error, finished
  std::condition_variable all_done;
  std::size_t next = 0;
  int finished = 0;
  std::exception_ptr error;
  std::shared_mutex exclusive;  // held alone by a job that runs alone, shared by the others
  auto worker = [&] {
    for (;;) {
      std::size_t i = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (error || interrupt::Requested() || next == count) break;
        i = next++;
      }
      try {
        if (alone && alone(i)) {
          std::unique_lock<std::shared_mutex> lock(exclusive);
          job(i);
        } else {
          std::shared_lock<std::shared_mutex> lock(exclusive);
          job(i);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
    std::unique_lock<std::mutex> lock(mu);
    ++finished;
    all_done.notify_all();
    all_done.wait(lock, [&] { return finished == jobs; });
  };
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(jobs));
  for (int i = 0; i < jobs; ++i) workers.emplace_back(worker);
  for (std::thread& t : workers) t.join();
  if (error) std::rethrow_exception(error);
  interrupt::ThrowIfRequested();
}

}  // namespace gracecheck
