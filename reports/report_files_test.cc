// Report files are created without following a symlink someone else could
// have planted in a shared directory (issue: output files in /tmp-like dirs).
#include "report_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

// Every output is checked before anything runs, each problem one line:
// a directory given as a file, a file given as --out DIR, a parent that
// does not exist, the same path twice (the second names the first).
TEST_F(ReportFilesTest, OutputProblemsAreAllFoundBeforeAnythingRuns) {
  const std::string dir = dir_.string();
  EXPECT_TRUE(OutputProblems({{"--json", dir + "/r.json"}, {"--html", dir + "/r.html"}}).empty());
  const std::vector<std::string> p = OutputProblems({
      {"--out", victim_.string(), true},
      {"--json", dir},
      {"--html", dir + "/missing/r.html"},
      {"--junit", dir + "/j.xml"},
      {"--markdown", dir + "/./j.xml"},
      {"--requests-out", ""},
  });
  ASSERT_EQ(p.size(), 4u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "--out " + victim_.string() + ": exists and is not a directory");
  EXPECT_EQ(p[1], "--json " + dir +
                      ": is a directory (give a file name, or --out DIR for every "
                      "report)");
  EXPECT_EQ(p[2].rfind("--html " + dir + "/missing/r.html: cannot write in " + dir +
                           "/missing: No such file or directory",
                       0),
            0u)
      << p[2];
  EXPECT_EQ(p[3], "--markdown " + dir +
                      "/./j.xml: also the path of --junit: give each output "
                      "its own");
  // --out X --json X: one path, a directory and a file.
  const std::vector<std::string> same =
      OutputProblems({{"--out", dir + "/out", true}, {"--json", dir + "/out"}});
  ASSERT_EQ(same.size(), 1u) << ::testing::PrintToString(same);
  EXPECT_EQ(same[0], "--json " + dir + "/out: also the path of --out: give each output its own");
  // A new --out DIR is created with its missing parents.
  EXPECT_TRUE(OutputProblems({{"--out", dir + "/a/b/c", true}}).empty());
  // Files inside a --out DIR that does not exist yet: it is created.
  EXPECT_TRUE(
      OutputProblems({{"--out", dir + "/new", true}, {"--out", dir + "/new/report.json"}}).empty());
}

// One report file that cannot be written does not keep the others from
// being written; what went wrong comes back, one line per file.
TEST_F(ReportFilesTest, EachReportFileIsWrittenOnItsOwn) {
  ReportFiles files;
  files["json"] = (dir_ / "missing" / "r.json").string();
  files["html"] = (dir_ / "r.html").string();
  files["junit"] = (dir_ / "j.xml").string();
  std::vector<std::string> written;
  const std::vector<std::string> errors =
      WriteReportFiles(testing::FixtureReport(), files, &written);
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find(files["json"]), std::string::npos) << errors[0];
  EXPECT_EQ(written, (std::vector<std::string>{files["html"], files["junit"]}));
  EXPECT_NE(Read(files["html"]).find("<html"), std::string::npos);
  EXPECT_NE(Read(files["junit"]).find("<testsuites"), std::string::npos);
}

}  // namespace
}  // namespace gracecheck
