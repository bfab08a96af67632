// http_get: PATH: one GET to the target (127.0.0.1, its port), as
// Kubernetes runs an HTTP preStop hook: the fault is delivered once the
// target answers, with any status, and fails if it does not answer within
// 30 s (Kubernetes' default terminationGracePeriodSeconds). A signal that
// must wait for the hook to return is triggered {done: NAME} on it.
#include <fmt/format.h>

#include <chrono>

#include "faults/action.h"
#include "target_process.h"
#include "yaml_reader.h"

namespace gracecheck {

namespace {
constexpr Duration kHookTimeout = std::chrono::seconds(30);
}  // namespace

std::string_view HttpGet::Kind() const { return "http_get"; }

std::string HttpGet::DefaultName() const { return "GET " + path; }

int HttpGet::SignalOf() const { return 0; }

std::string HttpGet::Fire(FaultContext& c) const {
  c.in_background([hooks = c.hooks, clock = c.clock, set_detail = c.set_detail,
                   path = path]() -> std::string {
    if (hooks->target_port <= 0) return "http_get: the target has no port";
    const Nanos start = clock();
    const std::optional<int> status = HttpGetStatus(hooks->target_port, path, kHookTimeout);
    const Duration took(clock() - start);
    if (!status) {
      return fmt::format("http_get {}: no answer within {}", path, FormatDuration(kHookTimeout));
    }
    set_detail(fmt::format("GET {}: {} after {}", path, *status, FormatDuration(took)));
    return {};
  });
  return {};
}

std::optional<FaultAction> ParseHttpGet(const ActionInput& in) {
  const std::string path = in.path + ".http_get";
  std::optional<std::string> text = in.yaml.ReadText(in.entry, path);
  if (!text) return std::nullopt;
  if (text->empty() || (*text)[0] != '/' || text->find_first_of(" \t\r\n") != std::string::npos) {
    in.yaml.Error(
        YamlReader::Where(in.entry),
        fmt::format("{}: expected a request path such as /prestop, got '{}'", path, *text));
    return std::nullopt;
  }
  return HttpGet{*text};
}

}  // namespace gracecheck
