// Text inside XML and HTML documents (JUnit, HTML/SVG) and Markdown tables.
// Text from the target (its log, its queries) can hold anything: control
// characters that XML 1.0 forbids, invalid UTF-8. Both become U+FFFD, so the
// documents stay well-formed whatever the target printed.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace gracecheck {

// Escapes & < > " ' and replaces what XML 1.0 cannot hold. With `attribute`,
// also \t \n \r as character references (attribute values would otherwise
// turn them into spaces).
std::string EscapeXml(std::string_view text, bool attribute = false);

// One table cell of GitHub-flavoured Markdown: | escaped, line breaks as
// <br>, < > & as entities (no raw HTML from the target), backticks, `*`,
// `\` and brackets escaped (`_` needs none: GFM ignores it inside words).
std::string EscapeMarkdownCell(std::string_view text);

// Valid UTF-8 with XML-forbidden characters (C0 controls other than \t \n
// \r, U+FFFE, U+FFFF) and invalid bytes replaced by U+FFFD.
std::string CleanText(std::string_view text);

}  // namespace gracecheck
