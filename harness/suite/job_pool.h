// The job pool that makes a suite's runs `--jobs N` at a time.
//
// RunJobs calls job(i) for every i in [0, count), in order of i, at most
// `jobs` at once; a job for which alone(i) is true runs with no other in
// flight (a db: restart takes every other run's sessions down with it).
// With jobs <= 1 every job runs on the calling thread.
//
// Two rules a plain thread pool would break:
//   - A worker thread stays until every job is done. Runs fork their
//     targets, and a child's parent-death signal (PR_SET_PDEATHSIG) fires
//     when the forking *thread* exits: a worker that left early would kill
//     the targets and the restarted cluster it started.
//   - The first exception (or an interrupt, interrupt.h) stops new jobs
//     from starting; it is rethrown once the jobs in flight have ended, so
//     that nothing is left running behind it.
#pragma once

#include <cstddef>
#include <functional>

namespace gracecheck {

void RunJobs(std::size_t count, int jobs, const std::function<bool(std::size_t)>& alone,
             const std::function<void(std::size_t)>& job);

}  // namespace gracecheck
