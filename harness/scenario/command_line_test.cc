#include "command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gracecheck {
namespace {

using Words = std::vector<std::string>;

std::string Show(const std::optional<Words>& words, const std::string& error) {
  if (!words) return "error: " + error;
  std::string out = "[";
  for (const auto& w : *words) out += "<" + w + ">";
  return out + "]";
}

// Splits and expects success; the failure message shows what came back.
Words Split(const std::string& command) {
  std::string error;
  std::optional<Words> words = SplitCommandLine(command, &error);
  EXPECT_TRUE(words.has_value()) << "SplitCommandLine(" << command << ") failed: " << error;
  return words.value_or(Words{});
}

// Splits and expects failure; returns the reason.
std::string SplitError(const std::string& command) {
  std::string error;
  std::optional<Words> words = SplitCommandLine(command, &error);
  EXPECT_FALSE(words.has_value()) << "SplitCommandLine(" << command << ") should fail, got "
                                  << Show(words, error);
  return error;
}

TEST(SplitCommandLineTest, SplitsOnBlanks) {
  EXPECT_EQ(Split("./server  -port\t{port}\n-v"), (Words{"./server", "-port", "{port}", "-v"}));
  EXPECT_EQ(Split("  one  "), (Words{"one"}));
}

TEST(SplitCommandLineTest, SingleQuotesKeepEverything) {
  EXPECT_EQ(Split(R"(sh -c 'echo "$HOME" \n; exit 1')"),
            (Words{"sh", "-c", R"(echo "$HOME" \n; exit 1)"}));
}

TEST(SplitCommandLineTest, DoubleQuotesHonourFourEscapes) {
  EXPECT_EQ(Split(R"("a \"b\" \\ \$x \` \n")"), (Words{R"(a "b" \ $x ` \n)"}));
}

TEST(SplitCommandLineTest, BackslashOutsideQuotesEscapesOneCharacter) {
  EXPECT_EQ(Split(R"(a\ b c\'d \\)"), (Words{"a b", "c'd", "\\"}));
  EXPECT_EQ(Split("one \\\ntwo"), (Words{"one", "two"}));
}

TEST(SplitCommandLineTest, AdjacentPartsJoinIntoOneWord) {
  EXPECT_EQ(Split(R"(--db='{database_url}'x"y z")"), (Words{"--db={database_url}xy z"}));
}

TEST(SplitCommandLineTest, EmptyQuotesAreAnEmptyWord) {
  EXPECT_EQ(Split(R"(prog "" '')"), (Words{"prog", "", ""}));
}

TEST(SplitCommandLineTest, QuotedOperatorsAreLiteral) {
  EXPECT_EQ(Split(R"(grep 'a|b' "x;y" \&)"), (Words{"grep", "a|b", "x;y", "&"}));
}

TEST(SplitCommandLineTest, PlaceholdersAreLeftAlone) {
  EXPECT_EQ(Split("{refapi} --listen 127.0.0.1:{port} --token ${TOKEN:-x}"),
            (Words{"{refapi}", "--listen", "127.0.0.1:{port}", "--token", "${TOKEN:-x}"}));
}

TEST(SplitCommandLineTest, UnbalancedQuotesAreReportedWithTheirPosition) {
  std::string error = SplitError("./server --name 'abc");
  EXPECT_NE(error.find("unterminated single quote (opened at character 17)"), std::string::npos)
      << error;
  error = SplitError(R"(./server "abc\")");
  EXPECT_NE(error.find("unterminated double quote (opened at character 10)"), std::string::npos)
      << error;
}

TEST(SplitCommandLineTest, TrailingBackslashIsAnError) {
  const std::string error = SplitError("./server \\");
  EXPECT_NE(error.find("lone backslash"), std::string::npos) << error;
}

TEST(SplitCommandLineTest, UnquotedShellOperatorsAreRejected) {
  for (const char* command :
       {"cd x && ./server", "./server | tee log", "./server > log", "a; b", "(sub)", "echo `id`"}) {
    const std::string error = SplitError(command);
    EXPECT_NE(error.find("unquoted shell operator"), std::string::npos)
        << command << " -> " << error;
    EXPECT_NE(error.find("sh -c"), std::string::npos) << command << " -> " << error;
  }
}

TEST(SplitCommandLineTest, EmptyCommandIsAnError) {
  EXPECT_EQ(SplitError("  \t "), "empty command");
  EXPECT_EQ(SplitError(""), "empty command");
}

TEST(JoinCommandLineTest, RoundTripsThroughSplit) {
  const Words argv = {"./server", "", "a b", "it's", R"(say "hi")", "x|y", "back\\slash", "plain"};
  const std::string joined = JoinCommandLine(argv);
  EXPECT_EQ(Split(joined), argv) << "joined: " << joined;
  EXPECT_EQ(JoinCommandLine({"./server", "-port", "8080"}), "./server -port 8080");
}

}  // namespace
}  // namespace gracecheck
