// {log: REGEX}: a line of the target's stdout or stderr matches (ECMAScript
// syntax, searched anywhere in the line). Met at the time the line was read
// (log_watch.h), which the scheduler's poll then sees.
#include <fmt/format.h>

#include <regex>

#include "triggers/trigger.h"
#include "yaml_reader.h"

namespace gracecheck {

Nanos OnLog::MetAt(const TriggerState& s, Nanos*) const {
  auto it = s.log_matched.find(pattern);
  return it == s.log_matched.end() ? kNever : std::min(it->second, s.now);
}

bool OnLog::NeedsPolling() const { return true; }

EarliestMoment OnLog::Earliest(const std::vector<Fault>&, int) const {
  return {Duration::zero(), "on a log line, which can come while the load runs"};
}

std::optional<Trigger> ParseLog(const TriggerInput& in) {
  const std::string path = in.path + ".log";
  std::optional<std::string> text = in.yaml.ReadText(in.entry, path);
  if (!text) return std::nullopt;
  try {
    std::regex compiled(*text, std::regex::ECMAScript);
  } catch (const std::regex_error& err) {
    in.yaml.Error(YamlReader::Where(in.entry),
                  fmt::format("{}: not a regular expression ({})", path, err.what()));
    return std::nullopt;
  }
  return OnLog{*text};
}

}  // namespace gracecheck
