#include "redact.h"

#include <regex>

namespace gracecheck {

std::string RedactSecrets(const std::string& text) {
  static const std::regex kUrlPassword(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s/]*@)");
  static const std::regex kKeyPassword(R"(((?:password|passwd|pwd)\s*=\s*)('[^']*'|[^\s&;]+))",
                                       std::regex::icase);
  std::string out = std::regex_replace(text, kUrlPassword, "$1***@");
  return std::regex_replace(out, kKeyPassword, "$1***");
}

}  // namespace gracecheck
