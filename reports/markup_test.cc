// Text inside XML/HTML and Markdown: escaping, and what the target may print.
#include "markup.h"

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

TEST(MarkupTest, EscapesXmlSpecials) {
  EXPECT_EQ(EscapeXml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  EXPECT_EQ(EscapeXml("x\ny"), "x\ny");
  EXPECT_EQ(EscapeXml("x\ny\tz", /*attribute=*/true), "x&#10;y&#9;z");
}

TEST(MarkupTest, ReplacesWhatXmlCannotHold) {
  // An ANSI color escape, NUL, a lone continuation byte, a truncated sequence.
  EXPECT_EQ(CleanText(std::string("\x1b[31mred\x1b[0m", 12)), "\uFFFD[31mred\uFFFD[0m");
  EXPECT_EQ(CleanText(std::string("a\0b", 3)), "a\uFFFDb");
  EXPECT_EQ(CleanText("\x80z"), "\uFFFDz");
  EXPECT_EQ(CleanText("\xE2\x86"), "\uFFFD\uFFFD");
  EXPECT_EQ(CleanText("\xC0\xAF"), "\uFFFD\uFFFD") << "overlong form";
  EXPECT_EQ(CleanText("signal→exit ✓"), "signal→exit ✓");
}

TEST(MarkupTest, MarkdownCellsStayOneCell) {
  EXPECT_EQ(EscapeMarkdownCell("a | b"), "a \\| b");
  EXPECT_EQ(EscapeMarkdownCell("line1\nline2"), "line1<br>line2");
  EXPECT_EQ(EscapeMarkdownCell("<script>"), "&lt;script&gt;");
  EXPECT_EQ(EscapeMarkdownCell("`x` *y*"), "\\`x\\` \\*y\\*");
  EXPECT_EQ(EscapeMarkdownCell("idle_closed"), "idle_closed");
}

}  // namespace
}  // namespace gracecheck
