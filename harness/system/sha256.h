// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex: the scenario
// file's hash in the reports, so that a replay can tell it ran the same
// file (sha256sum prints the same digest). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace gracecheck {

std::string Sha256Hex(std::string_view bytes);

}  // namespace gracecheck
