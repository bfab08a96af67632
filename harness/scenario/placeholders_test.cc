#include "placeholders.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace gracecheck {
namespace {

PlaceholderScope RequestScope() { return {true, {"refapi", "refapi-go"}}; }
PlaceholderScope RunScope() { return {false, {"refapi"}}; }

std::string Show(const std::vector<TemplateError>& errors) {
  std::string out;
  for (const auto& e : errors) out += "[@" + std::to_string(e.offset) + " " + e.message + "]";
  return out.empty() ? "(no errors)" : out;
}

Template Compile(const std::string& text, const PlaceholderScope& scope = RequestScope()) {
  std::vector<TemplateError> errors;
  std::optional<Template> t = Template::Compile(text, scope, &errors);
  EXPECT_TRUE(t.has_value()) << "Compile(" << text << "): " << Show(errors);
  EXPECT_TRUE(errors.empty()) << "Compile(" << text << "): " << Show(errors);
  return t.value_or(Template());
}

std::vector<TemplateError> CompileErrors(const std::string& text,
                                         const PlaceholderScope& scope = RequestScope()) {
  std::vector<TemplateError> errors;
  std::optional<Template> t = Template::Compile(text, scope, &errors);
  EXPECT_FALSE(t.has_value()) << "Compile(" << text << ") should fail; source " << text;
  EXPECT_FALSE(errors.empty()) << "Compile(" << text << ") failed without saying why";
  return errors;
}

RunValues Values() {
  RunValues v;
  v.port = 40123;
  v.database_url = "postgresql://run_7@/run_7?host=/tmp/pg";
  v.binaries = {{"refapi", "/build/bin/refapi"}, {"refapi-go", "/build/bin/refapi-go"}};
  v.getenv = [](const std::string& name) -> std::optional<std::string> {
    static const std::map<std::string, std::string> env = {{"HOME", "/home/ci"}, {"EMPTY", ""}};
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return v;
}

// Both stages with fixed per-request values.
std::string ExpandAll(const std::string& text, std::string_view key = "k-1") {
  std::string error;
  std::optional<BoundTemplate> bound = Compile(text).Bind(Values(), &error);
  EXPECT_TRUE(bound.has_value()) << "Bind(" << text << "): " << error;
  std::mt19937_64 rng(1);
  return bound ? bound->Expand({key, &rng}) : "";
}

TEST(TemplateTest, PlainTextIsUnchanged) {
  EXPECT_EQ(ExpandAll("/healthz"), "/healthz");
  EXPECT_EQ(ExpandAll(""), "");
}

TEST(TemplateTest, JsonBracesNeedNoEscape) {
  EXPECT_EQ(ExpandAll(R"({"key":"{key}","a":{"b":[1]}})", "abc"), R"({"key":"abc","a":{"b":[1]}})");
  EXPECT_EQ(ExpandAll("{ spaced }"), "{ spaced }");
  EXPECT_EQ(ExpandAll("}{"), "}{");
}

TEST(TemplateTest, DoubleOpeningBraceIsALiteralBrace) {
  EXPECT_EQ(ExpandAll("{{key}"), "{key}");
  EXPECT_EQ(ExpandAll("a{{{key}"), "a{k-1");
  EXPECT_EQ(ExpandAll("{{port}}"), "{port}}");
}

TEST(TemplateTest, RunPlaceholdersAreFilledByBind) {
  EXPECT_EQ(
      ExpandAll("{refapi} --listen 127.0.0.1:{port} --db {database_url}"),
      "/build/bin/refapi --listen 127.0.0.1:40123 --db postgresql://run_7@/run_7?host=/tmp/pg");
  EXPECT_EQ(ExpandAll("{refapi-go}"), "/build/bin/refapi-go");
}

TEST(TemplateTest, EnvironmentVariablesAndDefaults) {
  EXPECT_EQ(ExpandAll("${HOME}/x"), "/home/ci/x");
  EXPECT_EQ(ExpandAll("${UNSET:-fallback value}"), "fallback value");
  EXPECT_EQ(ExpandAll("${EMPTY:-fallback}"), "fallback");
  EXPECT_EQ(ExpandAll("[${EMPTY}]"), "[]");
  EXPECT_EQ(ExpandAll("${HOME:-unused}"), "/home/ci");
  // Not a variable name: left alone, as a shell would need it.
  EXPECT_EQ(ExpandAll("${1} $HOME $"), "${1} $HOME $");
}

TEST(TemplateTest, UnsetVariableWithoutDefaultFailsBind) {
  std::string error;
  std::optional<BoundTemplate> bound = Compile("${NOPE}").Bind(Values(), &error);
  ASSERT_FALSE(bound.has_value()) << "bound to: " << bound->Expand({});
  EXPECT_NE(error.find("environment variable NOPE is not set"), std::string::npos) << error;
}

TEST(TemplateTest, UnknownBinaryFailsBind) {
  RunValues values = Values();
  values.binaries.erase("refapi");
  std::string error;
  std::optional<BoundTemplate> bound = Compile("{refapi}").Bind(values, &error);
  ASSERT_FALSE(bound.has_value()) << "bound to: " << bound->Expand({});
  EXPECT_NE(error.find("{refapi}: no such binary"), std::string::npos) << error;
}

TEST(TemplateTest, KeyIsTheSameEverywhereInOneRequest) {
  std::string error;
  std::optional<BoundTemplate> bound =
      Compile(R"(/items/{key}?again={key})").Bind(Values(), &error);
  ASSERT_TRUE(bound.has_value()) << error;
  EXPECT_TRUE(bound->uses_key());
  EXPECT_EQ(bound->Expand({"r-42", nullptr}), "/items/r-42?again=r-42");
  EXPECT_EQ(bound->Expand({"r-43", nullptr}), "/items/r-43?again=r-43");
}

TEST(TemplateTest, AppendToAddsToWhatIsThere) {
  std::optional<BoundTemplate> bound = Compile("b{key}").Bind(Values());
  ASSERT_TRUE(bound.has_value());
  std::string out = "a";
  bound->AppendTo(&out, {"c", nullptr});
  bound->AppendTo(&out, {"d", nullptr});
  EXPECT_EQ(out, "abcbd");
}

TEST(TemplateTest, BindingRunOnlyTextLeavesALiteral) {
  std::optional<BoundTemplate> bound = Compile("127.0.0.1:{port}").Bind(Values());
  ASSERT_TRUE(bound.has_value());
  EXPECT_TRUE(bound->is_literal());
  EXPECT_FALSE(bound->uses_key());
  std::optional<BoundTemplate> with_key = Compile("{port}/{key}").Bind(Values());
  ASSERT_TRUE(with_key.has_value());
  EXPECT_FALSE(with_key->is_literal());
}

TEST(TemplateTest, RandomStaysWithinBoundsAndReachesBoth) {
  std::optional<BoundTemplate> bound = Compile("{random:-2..2}").Bind(Values());
  ASSERT_TRUE(bound.has_value());
  std::mt19937_64 rng(7);
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(bound->Expand({"", &rng}));
  EXPECT_EQ(seen, (std::set<std::string>{"-1", "-2", "0", "1", "2"}))
      << "saw " << seen.size() << " distinct values";
}

TEST(TemplateTest, RandomIsReproducibleFromTheSeed) {
  std::optional<BoundTemplate> bound = Compile("/items/{random:1..1000000}").Bind(Values());
  ASSERT_TRUE(bound.has_value());
  std::mt19937_64 a(99), b(99);
  for (int i = 0; i < 10; ++i) {
    const std::string x = bound->Expand({"", &a});
    const std::string y = bound->Expand({"", &b});
    EXPECT_EQ(x, y) << "draw " << i;
  }
}

TEST(TemplateTest, EachRandomOccurrenceIsDrawnSeparately) {
  std::optional<BoundTemplate> bound =
      Compile("{random:1..1000000000}-{random:1..1000000000}").Bind(Values());
  ASSERT_TRUE(bound.has_value());
  std::mt19937_64 rng(3);
  const std::string s = bound->Expand({"", &rng});
  const std::size_t dash = s.find('-');
  ASSERT_NE(dash, std::string::npos) << s;
  EXPECT_NE(s.substr(0, dash), s.substr(dash + 1)) << s;
}

TEST(TemplateTest, SingleValueRange) { EXPECT_EQ(ExpandAll("{random:5..5}"), "5"); }

TEST(TemplateTest, UnknownPlaceholderGivesOffsetAndGuess) {
  const auto errors = CompileErrors("127.0.0.1:{prot}", RunScope());
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_EQ(errors[0].offset, 10u) << Show(errors);
  EXPECT_EQ(errors[0].message, "unknown placeholder {prot} (did you mean {port}?)");
}

TEST(TemplateTest, UnknownPlaceholderWithoutGuessListsTheKnownOnes) {
  const auto errors = CompileErrors("/{zzzzzz}");
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_NE(errors[0].message.find("known: {port}, {database_url}, {key}, {random}, {refapi}"),
            std::string::npos)
      << errors[0].message;
  EXPECT_NE(errors[0].message.find("write {{ for a literal brace"), std::string::npos)
      << errors[0].message;
}

TEST(TemplateTest, PerRequestPlaceholdersAreRejectedOutsideRequests) {
  const auto errors = CompileErrors("--id={key} --n={random:1..2}", RunScope());
  ASSERT_EQ(errors.size(), 2u) << Show(errors);
  EXPECT_EQ(errors[0].offset, 5u) << Show(errors);
  EXPECT_EQ(errors[0].message, "{key} changes per request and cannot be used here");
  EXPECT_EQ(errors[1].offset, 15u) << Show(errors);
}

TEST(TemplateTest, EveryErrorInOneTemplateIsReported) {
  const auto errors = CompileErrors("{prot}/{random:9..1}/{random:x..y}/{port:1}/{random}");
  ASSERT_EQ(errors.size(), 5u) << Show(errors);
  EXPECT_NE(errors[1].message.find("empty random range 9..1"), std::string::npos) << Show(errors);
  EXPECT_NE(errors[2].message.find("'{random:x..y}' is not a random range"), std::string::npos)
      << Show(errors);
  EXPECT_EQ(errors[3].message, "{port} takes no argument");
  EXPECT_NE(errors[4].message.find("write e.g. {random:1..1000}"), std::string::npos)
      << Show(errors);
}

TEST(TemplateTest, UnclosedPlaceholderIsAnError) {
  auto errors = CompileErrors("/items/{random:1..5");
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_EQ(errors[0].offset, 7u);
  EXPECT_NE(errors[0].message.find("unclosed placeholder"), std::string::npos) << Show(errors);
  errors = CompileErrors("${HOME:-x");
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_NE(errors[0].message.find("unclosed '${HOME:-'"), std::string::npos) << Show(errors);
}

TEST(TemplateTest, UnsupportedShellExpansionIsAnError) {
  const auto errors = CompileErrors("${HOME#/}");
  ASSERT_EQ(errors.size(), 1u) << Show(errors);
  EXPECT_NE(errors[0].message.find("write ${HOME} or ${HOME:-default}"), std::string::npos)
      << Show(errors);
}

TEST(TemplateTest, RunExpansionRefusesPerRequestSlots) {
  std::string error;
  std::optional<std::string> s = Compile("/{key}").Expand(Values(), &error);
  EXPECT_FALSE(s.has_value()) << "expanded to " << *s;
  EXPECT_NE(error.find("per-request"), std::string::npos) << error;
  s = Compile("{port}", RunScope()).Expand(Values(), &error);
  ASSERT_TRUE(s.has_value()) << error;
  EXPECT_EQ(*s, "40123");
}

TEST(TemplateTest, LiteralTemplateRecognizesNothing) {
  const Template t = Template::Literal("{port} ${HOME}");
  EXPECT_EQ(t.source(), "{port} ${HOME}");
  EXPECT_FALSE(t.has_request_slots());
  EXPECT_EQ(t.Expand(Values()).value_or("(failed)"), "{port} ${HOME}");
}

TEST(TemplateTest, SourceIsKept) {
  EXPECT_EQ(Compile("/items/{key}").source(), "/items/{key}");
  EXPECT_TRUE(Compile("/items/{key}").has_request_slots());
  EXPECT_FALSE(Compile("/items/{port}").has_request_slots());
}

}  // namespace
}  // namespace gracecheck
