// kill_after: D: SIGTERM now and, if the target is still running D later,
// SIGKILL to its whole group (what a supervisor's stop timeout does).
#include <fmt/format.h>

#include "faults/action.h"
#include "yaml_reader.h"

namespace gracecheck {

std::string_view KillAfter::Kind() const { return "kill_after"; }

std::string KillAfter::DefaultName() const { return "kill_after"; }

int KillAfter::SignalOf() const { return SIGTERM; }

std::string KillAfter::Fire(FaultContext& c) const {
  if (!c.send(SIGTERM, c.group)) return "nobody to send SIGTERM to";
  c.later(c.now + grace.count(),
          [send = c.send, set_detail = c.set_detail, hooks = c.hooks, d = grace] {
            const bool running = hooks->target_running();
            if (running) send(SIGKILL, /*group=*/true);
            set_detail(running ? fmt::format("still running {} after SIGTERM: SIGKILL sent to "
                                             "the group",
                                             FormatDuration(d))
                               : "exited within the grace period, no SIGKILL needed");
          });
  return {};
}

std::optional<FaultAction> ParseKillAfter(const ActionInput& in) {
  std::optional<Duration> d = in.yaml.ReadDuration(in.entry, in.path + ".kill_after", true);
  if (!d) return std::nullopt;
  return KillAfter{*d};
}

}  // namespace gracecheck
