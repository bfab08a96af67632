// Report files are created without following a symlink someone else could
// have planted in a shared directory (issue: output files in /tmp-like dirs).
#include "report_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "report_fixture.h"
#include "requests_out.h"

namespace gracecheck {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gc-report-files-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    shared_ = dir_ / "shared";
    fs::create_directory(shared_);
    ::chmod(shared_.c_str(), 01777);  // like /tmp
    victim_ = dir_ / "victim";
    std::ofstream(victim_) << "precious\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_, shared_, victim_;
};

TEST_F(ReportFilesTest, SymlinkPlantedInASharedDirIsRefused) {
  fs::create_symlink(victim_, shared_ / "report.md");
  try {
    WriteReportFile((shared_ / "report.md").string(), "overwritten\n", "the Markdown report");
    FAIL() << "followed the symlink";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a symlink in a directory others can write to"),
              std::string::npos)
        << e.what();
  }
  fs::create_symlink(victim_, shared_ / "requests.jsonl");
  EXPECT_THROW(WriteRequestRecords((shared_ / "requests.jsonl").string(), testing::PassingRun()),
               std::runtime_error);
  EXPECT_EQ(Read(victim_), "precious\n");
}

TEST_F(ReportFilesTest, PlainFilesAndTheUsersOwnSymlinksAreWritten) {
  WriteReportFile((shared_ / "report.md").string(), "new\n", "the Markdown report");
  EXPECT_EQ(Read(shared_ / "report.md"), "new\n");
  WriteReportFile((shared_ / "report.md").string(), "replaced\n", "the Markdown report");
  EXPECT_EQ(Read(shared_ / "report.md"), "replaced\n");
  // In a directory only its owner writes, a symlink is the owner's own.
  fs::permissions(dir_, fs::perms::owner_all);
  fs::create_symlink(victim_, dir_ / "mine.md");
  WriteReportFile((dir_ / "mine.md").string(), "through the link\n", "the Markdown report");
  EXPECT_EQ(Read(victim_), "through the link\n");
  WriteRequestRecords((shared_ / "requests.jsonl").string(), testing::PassingRun());
  EXPECT_FALSE(Read(shared_ / "requests.jsonl").empty());
}

}  // namespace
}  // namespace gracecheck
