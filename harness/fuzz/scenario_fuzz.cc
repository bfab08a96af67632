// libFuzzer target: the scenario parser on arbitrary bytes. It must never
// crash, hang or leak, and its contract must hold: a scenario exactly when
// there is no error, and every error placed inside the text (line:col) or about the
// whole file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const gracecheck::ParseResult r = gracecheck::ParseScenario(text, "fuzz.yaml");
  if (r.scenario.has_value() != r.errors.empty()) std::abort();
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  for (const gracecheck::ScenarioError& e : r.errors) {
    if (e.message.empty()) std::abort();
    // line 0: about the whole file (e.g. not UTF-8); otherwise inside it.
    if (e.line < 0 || static_cast<std::size_t>(e.line) > lines + 1) std::abort();
    if (e.line > 0 && e.col < 1) std::abort();
  }
  return 0;
}
