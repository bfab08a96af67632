#include "faults/action.h"

namespace gracecheck {

std::string_view ActionKindOf(const FaultAction& a) {
  return std::visit([](const auto& x) { return x.Kind(); }, a);
}

std::string DefaultNameOf(const FaultAction& a) {
  return std::visit([](const auto& x) { return x.DefaultName(); }, a);
}

int SignalOf(const FaultAction& a) {
  return std::visit([](const auto& x) { return x.SignalOf(); }, a);
}

std::string FireAction(const FaultAction& a, FaultContext& context) {
  return std::visit([&](const auto& x) { return x.Fire(context); }, a);
}

const std::vector<ActionSyntax>& ActionSyntaxes() {
  static const std::vector<ActionSyntax> table = {
      {"send", {"repeat", "every"}, ParseSend},
      {"pause", {}, ParsePause},
      {"kill_after", {}, ParseKillAfter},
      {"db", {}, ParseDb},
      {"load", {}, ParseLoad},
      {"http_get", {}, ParseHttpGet},
  };
  return table;
}

}  // namespace gracecheck
