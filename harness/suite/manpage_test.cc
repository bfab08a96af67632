#include "manpage.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "exit_codes.h"

namespace gracecheck {
namespace {

TEST(ManPageTest, EverySubcommandAndOptionAndExitCodeIsInIt) {
  CLI::App app{"prog: does a thing", "prog"};
  std::vector<std::string> files;
  int jobs = 1;
  CLI::App* run = app.add_subcommand("run", "run them");
  run->add_option("files", files, "scenario files");
  run->add_option("-j,--jobs", jobs, "at once");
  app.add_subcommand("secret", "not listed")->group("");
  const std::string man = ManPage(app, "1.2");
  EXPECT_NE(man.find(".TH GRACECHECK 1 \"\" \"prog 1.2\""), std::string::npos) << man;
  EXPECT_NE(man.find(".SH NAME\nprog \\- does a thing\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".SS prog run\nrun them\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".B \\-j, \\-\\-jobs \\fIINT\\fR\nat once\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".B files\nscenario files\n"), std::string::npos) << man;
  EXPECT_EQ(man.find("secret"), std::string::npos) << "a hidden subcommand is listed";
  for (const ExitCodeMeaning& e : kExitCodeMeanings) {
    EXPECT_NE(man.find(".B " + std::to_string(e.code) + "\n"), std::string::npos) << e.code;
  }
}

// The page the build wrote from the real gracecheck renders without a
// warning from groff, and says every subcommand.
TEST(ManPageTest, TheBuiltPageRendersCleanly) {
  const std::string page = std::string(GRACECHECK_SHARE) + "/man/man1/gracecheck.1";
  ASSERT_TRUE(std::ifstream(page).good()) << page;
  std::string out;
  FILE* p = ::popen(("groff -man -Tutf8 -ww " + page + " 2>&1 >/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  EXPECT_EQ(WEXITSTATUS(::pclose(p)), 0) << out;
  EXPECT_EQ(out, "") << "groff warned";
  std::stringstream roff;
  roff << std::ifstream(page).rdbuf();
  for (const char* sub : {"run", "report", "rerun", "compare", "validate", "list", "with\\-db",
                          "cleanup", "version", "completion"}) {
    EXPECT_NE(roff.str().find(std::string(".SS gracecheck ") + sub + "\n"), std::string::npos)
        << sub;
  }
  EXPECT_EQ(roff.str().find(".SS gracecheck manpage"), std::string::npos);
}

}  // namespace
}  // namespace gracecheck
