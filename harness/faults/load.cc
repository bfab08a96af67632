// load: stop ends the load at once (the traffic drains away before the
// signal); load: {rate: R} changes the open model's arrival rate.
#include "faults/action.h"
#include "scenario.h"
#include "yaml_reader.h"

namespace gracecheck {

std::string_view LoadStop::Kind() const { return "load"; }

std::string LoadStop::DefaultName() const { return "load stop"; }

int LoadStop::SignalOf() const { return 0; }

std::string LoadStop::Fire(FaultContext& c) const {
  if (!c.hooks->stop_load) return "the scenario has no load";
  c.hooks->stop_load();
  return {};
}

std::string_view LoadRate::Kind() const { return "load"; }

std::string LoadRate::DefaultName() const { return "load rate"; }

int LoadRate::SignalOf() const { return 0; }

std::string LoadRate::Fire(FaultContext& c) const {
  if (!c.hooks->set_load_rate) return "the scenario has no load";
  return c.hooks->set_load_rate(per_second) ? "" : "load: rate applies to the open model only";
}

std::optional<FaultAction> ParseLoad(const ActionInput& in) {
  const std::string path = in.path + ".load";
  const Entry& a = in.entry;
  if (!a.value.IsMap()) {
    if (in.yaml.ReadChoice(a, path, {"stop"})) return LoadStop{};
    return std::nullopt;
  }
  std::optional<Map> m = in.yaml.ReadMap(a.value, YamlReader::Where(a), path, {"rate"});
  if (!m) return std::nullopt;
  const Entry* r = m->Find("rate");
  if (!r) {
    in.yaml.Missing(a.key_node.Mark(), path, "rate", " (e.g. load: {rate: 100/s})");
    return std::nullopt;
  }
  std::string why;
  std::optional<Rate> rate =
      r->value.IsScalar() ? ParseRate(r->value.Scalar(), &why) : std::nullopt;
  if (!rate) {
    in.yaml.Error(YamlReader::Where(*r),
                  path + ".rate: " + (why.empty() ? "expected a rate such as 100/s" : why));
    return std::nullopt;
  }
  return LoadRate{rate->per_second};
}

}  // namespace gracecheck
