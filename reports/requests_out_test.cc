// --requests-out: one parsable JSON object per request.
#include "requests_out.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

std::vector<json> Lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line, nullptr, false));
  return lines;
}

TEST(RequestsOutTest, OneObjectPerRequest) {
  const Timeline tl = testing::FailingRun();
  std::ostringstream out;
  WriteRequestRecords(out, tl);
  const std::vector<json> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), tl.requests.size()) << out.str();
  for (const json& j : lines) ASSERT_FALSE(j.is_discarded()) << out.str();
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i]["id"], i) << "its index";
  EXPECT_EQ(lines[0]["outcome"], "ok") << lines[0].dump();
  EXPECT_EQ(lines[0]["dropped"], false) << lines[0].dump();
  EXPECT_DOUBLE_EQ(lines[0]["intended_ms"].get<double>(), 100) << lines[0].dump();
  EXPECT_DOUBLE_EQ(lines[0]["latency_ms"].get<double>(), 2) << lines[0].dump();
  EXPECT_TRUE(lines[0]["write_key"].is_null()) << lines[0].dump();
  EXPECT_EQ(lines[1]["write_key"], "k-0002") << lines[1].dump();
}

TEST(RequestsOutTest, DropsAndNeverMoments) {
  const Timeline tl = testing::FailingRun();
  std::ostringstream out;
  WriteRequestRecords(out, tl);
  const std::vector<json> lines = Lines(out.str());
  const json& eof = lines[10];
  EXPECT_EQ(eof["outcome"], "eof") << eof.dump();
  EXPECT_EQ(eof["dropped"], true) << eof.dump();
  EXPECT_EQ(eof["after_fault"], false) << eof.dump();
  EXPECT_TRUE(eof["first_byte_ms"].is_null()) << eof.dump();
  const json& refused = lines.back();
  EXPECT_EQ(refused["outcome"], "refused") << refused.dump();
  EXPECT_EQ(refused["after_fault"], true) << refused.dump();
  EXPECT_TRUE(refused["written_ms"].is_null()) << refused.dump();
}

TEST(RequestsOutTest, WritesAFileAndNamesAnUnwritableOne) {
  const Timeline tl = testing::PassingRun();
  const std::string path = ::testing::TempDir() + "gracecheck-requests-test.jsonl";
  WriteRequestRecords(path, tl);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path.c_str());
  EXPECT_EQ(Lines(text.str()).size(), tl.requests.size()) << text.str();
  try {
    WriteRequestRecords("/nonexistent-dir/requests.jsonl", tl);
    FAIL() << "no exception for an unwritable path";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/requests.jsonl"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gracecheck
