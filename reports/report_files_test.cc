// Report files are created without following a symlink someone else could
// have planted in a shared directory (issue: output files in /tmp-like dirs).
#include "report_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
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

// GitHub's job summary is one file every step appends to: a --markdown
// that names it appends, as does --markdown-append; any other file is
// replaced.
TEST_F(ReportFilesTest, TheStepSummaryAndAnAppendingFormatKeepWhatTheFileHeld) {
  const fs::path summary = dir_ / "step_summary";
  std::ofstream(summary) << "# an earlier step\n";
  ReportFiles files;
  files["markdown"] = summary.string();
  ::setenv("GITHUB_STEP_SUMMARY", summary.c_str(), 1);
  EXPECT_TRUE(WriteReportFiles(testing::FixtureReport(), files).empty());
  const std::string appended = Read(summary);
  EXPECT_EQ(appended.rfind("# an earlier step\n", 0), 0u) << appended;
  EXPECT_GT(appended.size(), std::string("# an earlier step\n").size() + 20) << appended;
  ::unsetenv("GITHUB_STEP_SUMMARY");
  EXPECT_TRUE(WriteReportFiles(testing::FixtureReport(), files).empty());
  const std::string replaced = Read(summary);
  EXPECT_EQ(replaced.find("an earlier step"), std::string::npos) << "not replaced";
  files.append("markdown") = true;
  EXPECT_TRUE(WriteReportFiles(testing::FixtureReport(), files).empty());
  EXPECT_EQ(Read(summary), replaced + replaced) << "--markdown-append";
}

TEST_F(ReportFilesTest, InAGithubWorkflowTheAnnotationsGoToStdoutUnlessNamed) {
  ReportFiles files;
  ::setenv("GITHUB_ACTIONS", "true", 1);
  EXPECT_EQ(files.WithEnvironment().path("github-annotations"), "/dev/stdout");
  EXPECT_EQ(files.WithEnvironment().path("markdown"), "") << "only the annotations";
  files["github-annotations"] = (dir_ / "ann.txt").string();
  EXPECT_EQ(files.WithEnvironment().path("github-annotations"), (dir_ / "ann.txt").string());
  ::setenv("GITHUB_ACTIONS", "false", 1);
  EXPECT_EQ(ReportFiles{}.WithEnvironment().path("github-annotations"), "");
  ::unsetenv("GITHUB_ACTIONS");
  EXPECT_EQ(ReportFiles{}.WithEnvironment().path("github-annotations"), "");
}

// A file that exists is written in place: it is the file that must be
// writable, not its directory (/dev is root's; /dev/stdout is anyone's).
TEST_F(ReportFilesTest, AnExistingWritableFileInADirectoryNotOursIsNoProblem) {
  EXPECT_TRUE(OutputProblems({{"--github-annotations", "/dev/null"}}).empty());
  const fs::path locked = dir_ / "locked";
  fs::create_directory(locked);
  std::ofstream(locked / "mine.md") << "x";
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(locked / "mine.md", fs::perms::owner_read);
  if (::access((locked / "mine.md").c_str(), W_OK) != 0) {  // not root
    const std::vector<std::string> p =
        OutputProblems({{"--markdown", (locked / "mine.md").string()}});
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("cannot write to it"), std::string::npos) << p[0];
  }
  fs::permissions(locked, fs::perms::owner_all);
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
