// Secrets out of text that goes into a Timeline or a report: a target's
// command line (its --db URL), its log, a session's last query.
#pragma once

#include <string>

namespace gracecheck {

// Masks passwords in URLs (postgres://user:secret@host → postgres://user:***@host)
// and in key=value connection strings (password=secret → password=***).
std::string RedactSecrets(const std::string& text);

}  // namespace gracecheck
