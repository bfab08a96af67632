#include "job_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace gracecheck {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Counts the jobs in flight and the most seen at once.
struct InFlight {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  void Enter() {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
  }
  void Leave() { --now; }
};

TEST(JobPoolTest, EveryJobRunsOnceAndNoMoreThanJobsAtOnce) {
  InFlight flight;
  std::mutex mu;
  std::multiset<std::size_t> ran;
  RunJobs(12, 3, nullptr, [&](std::size_t i) {
    flight.Enter();
    std::this_thread::sleep_for(5ms);
    flight.Leave();
    std::lock_guard<std::mutex> lock(mu);
    ran.insert(i);
  });
  EXPECT_EQ(ran.size(), 12U);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(ran.count(i), 1U) << i;
  EXPECT_LE(flight.most.load(), 3);
  EXPECT_GE(flight.most.load(), 2) << "the jobs did not overlap at all";
}

TEST(JobPoolTest, AJobThatRunsAloneHasNoOtherInFlight) {
  InFlight flight;
  std::atomic<int> others_during_alone{0};
  RunJobs(
      9, 3, [](std::size_t i) { return i == 4; },
      [&](std::size_t i) {
        flight.Enter();
        if (i == 4) {
          for (int k = 0; k < 10; ++k) {
            if (flight.now.load() > 1) ++others_during_alone;
            std::this_thread::sleep_for(1ms);
          }
        } else {
          std::this_thread::sleep_for(5ms);
        }
        flight.Leave();
      });
  EXPECT_EQ(others_during_alone.load(), 0);
}

TEST(JobPoolTest, TheFirstErrorStopsNewJobsAndIsRethrownOnceTheOthersEnded) {
  std::atomic<int> started{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> in_flight_at_rethrow{-1};
  try {
    RunJobs(50, 2, nullptr, [&](std::size_t i) {
      ++started;
      ++in_flight;
      if (i == 1) {
        --in_flight;
        throw std::runtime_error("job 1 failed");
      }
      std::this_thread::sleep_for(20ms);
      --in_flight;
    });
    FAIL() << "the error was not rethrown";
  } catch (const std::runtime_error& e) {
    in_flight_at_rethrow = in_flight.load();
    EXPECT_STREQ(e.what(), "job 1 failed");
  }
  EXPECT_EQ(in_flight_at_rethrow.load(), 0) << "rethrown while a job still ran";
  EXPECT_LE(started.load(), 3) << "jobs kept starting after the error";
}

// A worker that forked a run's target must outlive every job: its exit
// would fire the target's parent-death signal.
std::mutex exits_mu;
std::vector<Clock::time_point> thread_exits;
struct ThreadExit {
  bool touched = false;
  ~ThreadExit() {
    if (!touched) return;
    std::lock_guard<std::mutex> lock(exits_mu);
    thread_exits.push_back(Clock::now());
  }
};
thread_local ThreadExit this_thread_exit;

TEST(JobPoolTest, NoWorkerThreadEndsBeforeTheLastJobEnded) {
  thread_exits.clear();
  std::atomic<Clock::rep> last_end{0};
  RunJobs(3, 3, nullptr, [&](std::size_t i) {
    this_thread_exit.touched = true;
    // One long job: the workers that had the short ones must wait for it.
    std::this_thread::sleep_for(i == 0 ? 150ms : 1ms);
    const Clock::rep end = Clock::now().time_since_epoch().count();
    Clock::rep seen = last_end.load();
    while (end > seen && !last_end.compare_exchange_weak(seen, end)) {
    }
  });
  std::lock_guard<std::mutex> lock(exits_mu);
  // The long job's worker and at least one that ran a short one.
  ASSERT_GE(thread_exits.size(), 2U);
  for (const Clock::time_point t : thread_exits) {
    EXPECT_GE(t.time_since_epoch().count(), last_end.load());
  }
}

TEST(JobPoolTest, OneJobAtATimeRunsOnTheCallingThreadInOrder) {
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::size_t> order;
  RunJobs(4, 1, nullptr, [&](std::size_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace gracecheck
