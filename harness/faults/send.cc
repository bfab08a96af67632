// send: SIGNAL, optionally `repeat: N` times `every: D` apart (a second
// Ctrl-C, a supervisor that insists). The repeats go only to a target
// still running.
#include <fmt/format.h>

#include "faults/action.h"
#include "signal_names.h"
#include "yaml_reader.h"

namespace gracecheck {

std::string_view SendSignal::Kind() const { return "send"; }

std::string SendSignal::DefaultName() const { return SignalName(signal); }

int SendSignal::SignalOf() const { return signal; }

std::string SendSignal::Fire(FaultContext& c) const {
  if (!c.send(signal, c.group)) return "nobody to send " + SignalName(signal) + " to";
  for (int k = 1; k < repeat; ++k) {
    c.later(c.now + k * every.count(),
            [send = c.send, hooks = c.hooks, sig = signal, group = c.group] {
              if (hooks->target_running()) send(sig, group);
            });
  }
  return {};
}

std::optional<FaultAction> ParseSend(const ActionInput& in) {
  SendSignal a;
  std::optional<int> sig = in.yaml.ReadSignal(in.entry, in.path + ".send");
  if (const Entry* r = in.fault.Find("repeat")) {
    if (auto n = in.yaml.ReadInt(*r, in.path + ".repeat", 1, 100)) a.repeat = static_cast<int>(*n);
  }
  in.yaml.ReadDurationInto(in.fault, "every", in.path, true, &a.every);
  if (!sig) return std::nullopt;
  a.signal = *sig;
  return a;
}

}  // namespace gracecheck
