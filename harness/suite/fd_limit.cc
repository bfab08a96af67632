#include "fd_limit.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <functional>

namespace gracecheck {

namespace {

long long AsLimit(rlim_t v) { return v == RLIM_INFINITY ? -1 : static_cast<long long>(v); }

}  // namespace

FdLimit RaiseFdLimit() {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return {};
  if (l.rlim_cur != l.rlim_max) {
    rlimit raised = l;
    raised.rlim_cur = l.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) l = raised;
  }
  return {AsLimit(l.rlim_cur), AsLimit(l.rlim_max)};
}

int FdsNeeded(const Scenario& scenario) {
  return kFdsPerRun + (scenario.load ? scenario.load->connections : 0);
}

long long FdsNeededAtOnce(std::vector<int> needs, int jobs) {
  std::sort(needs.begin(), needs.end(), std::greater<>());
  const std::size_t at_once = std::min(needs.size(), static_cast<std::size_t>(std::max(jobs, 1)));
  long long sum = kFdsBase;
  for (std::size_t i = 0; i < at_once; ++i) sum += needs[i];
  return sum;
}

std::optional<std::string> FdShortage(long long needed, int connections, const FdLimit& limit) {
  if (limit.soft < 0 || needed <= limit.soft) return std::nullopt;
  const std::string hard = limit.hard < 0 ? "unlimited" : std::to_string(limit.hard);
  return fmt::format(
      "the runs need about {} file descriptors at once ({} load connections, the rest for "
      "probes, logs and the database) but gracecheck may open only {} (hard limit {}): "
      "raise the limit, e.g. `ulimit -Hn {} && ulimit -n {}` as root, LimitNOFILE={} for a "
      "service, or run fewer connections or --jobs",
      needed, connections, limit.soft, hard, needed, needed, needed);
}

}  // namespace gracecheck
