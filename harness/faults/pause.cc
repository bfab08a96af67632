// pause: D: SIGSTOP, then SIGCONT D later (a stalled process: a GC pause,
// a VM migrated, a debugger). The SIGCONT is sent even when the run stops
// first, so that no target is left stopped.
#include <fmt/format.h>

#include "faults/action.h"
#include "yaml_reader.h"

namespace gracecheck {

std::string_view Pause::Kind() const { return "pause"; }

std::string Pause::DefaultName() const { return "pause"; }

int Pause::SignalOf() const { return SIGSTOP; }

std::string Pause::Fire(FaultContext& c) const {
  if (!c.send(SIGSTOP, c.group)) return "nobody to stop";
  c.later(c.now + duration.count(),
          [send = c.send, set_detail = c.set_detail, group = c.group, d = duration] {
            send(SIGCONT, group);
            set_detail(fmt::format("stopped for {}", FormatDuration(d)));
          });
  return {};
}

std::optional<FaultAction> ParsePause(const ActionInput& in) {
  std::optional<Duration> d = in.yaml.ReadDuration(in.entry, in.path + ".pause", true);
  if (!d) return std::nullopt;
  return Pause{*d};
}

}  // namespace gracecheck
