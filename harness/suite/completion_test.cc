#include "completion.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "command_line.h"

namespace gracecheck {
namespace {

// A tree like gracecheck's: a flag and an option at the top, a subcommand
// with a valued option, a flag and positionals.
CLI::App& SmallTree(CLI::App& app) {
  app.set_version_flag("--version", "1");
  CLI::App* run = app.add_subcommand("run", "run them");
  static std::vector<std::string> files, targets;
  static bool dry = false;
  static int jobs = 1;
  run->add_option("files", files, "scenario files");
  run->add_option("--target", targets, "NAME=CMD: it's this");
  run->add_option("-j,--jobs", jobs, "at once");
  run->add_flag("--dry", dry, "do nothing");
  app.add_subcommand("version", "print it");
  return app;
}

TEST(CompletionTest, BashHasEverySubcommandAndWhichOptionsTakeAValue) {
  CLI::App app{"test", "prog"};
  const std::string bash = CompletionScript(SmallTree(app), "bash");
  EXPECT_NE(bash.find("complete -o filenames -F _prog prog"), std::string::npos) << bash;
  EXPECT_NE(bash.find("      run|version) sub="), std::string::npos) << bash;
  EXPECT_NE(bash.find("    run) words='--help -h --target --jobs -j --dry'; valued='--target "
                      "--jobs -j'; files=1 ;;"),
            std::string::npos)
      << bash;
  EXPECT_NE(bash.find("    \"\") words='--help -h --version run version'; valued=''; files=0"),
            std::string::npos)
      << bash;
}

TEST(CompletionTest, FishAndZshSayTheSameTree) {
  CLI::App app{"test", "prog"};
  SmallTree(app);
  const std::string fish = CompletionScript(app, "fish");
  EXPECT_NE(fish.find("complete -c prog -n __fish_use_subcommand -a run -d 'run them'"),
            std::string::npos)
      << fish;
  EXPECT_NE(fish.find("complete -c prog -n '__fish_seen_subcommand_from run' -l target -r -F -d "
                      "'NAME=CMD: it'\\''s this'"),
            std::string::npos)
      << fish;
  EXPECT_NE(fish.find("-l jobs -s j -r -F -d 'at once'"), std::string::npos) << fish;
  EXPECT_NE(fish.find("complete -c prog -n '__fish_seen_subcommand_from run' -l dry -d"),
            std::string::npos)
      << fish;
  const std::string zsh = CompletionScript(app, "zsh");
  EXPECT_EQ(zsh.rfind("#compdef prog\n", 0), 0u) << zsh;
  EXPECT_NE(zsh.find("bashcompinit"), std::string::npos) << zsh;
  EXPECT_NE(zsh.find(CompletionScript(app, "bash")), std::string::npos) << zsh;
}

// `command` run by sh, its stdout and stderr; its exit code in *code.
std::string Sh(const std::string& command, int* code = nullptr) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int status = ::pclose(p);
  if (code) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// What bash offers after `words` (the last one being completed), with the
// real gracecheck's script sourced in a real bash, in / (for file names).
std::string BashOffers(const std::string& words) {
  const std::string script = std::string("source <(") + GRACECHECK_BIN +
                             " completion bash) && COMP_WORDS=(" + words +
                             ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _gracecheck && "
                             "printf \"%s\\n\" \"${COMPREPLY[@]}\"";
  return Sh("cd / && bash -c " + SingleQuoted(script));
}

TEST(CompletionTest, TheRealGracecheckCompletesInARealBash) {
  EXPECT_EQ(BashOffers("gracecheck r"), "run\nreport\nrerun\n");
  EXPECT_EQ(BashOffers("gracecheck co"), "compare\ncompletion\n");
  EXPECT_EQ(BashOffers("gracecheck run --pg"), "--pg-url\n");
  EXPECT_EQ(BashOffers("gracecheck validate --b"), "--bin\n");
  // After an option that takes a value, and for positionals: files (in /).
  EXPECT_NE(BashOffers("gracecheck run --json e").find("etc\n"), std::string::npos);
  EXPECT_NE(BashOffers("gracecheck run u").find("usr\n"), std::string::npos);
  // After a flag, not a value: options again.
  EXPECT_EQ(BashOffers("gracecheck run --markdown-append --repe"), "--repeat\n");
}

TEST(CompletionTest, AnUnknownShellIsAUsageError) {
  int code = 0;
  const std::string out = Sh(std::string(GRACECHECK_BIN) + " completion tcsh", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_EQ(out.rfind("gracecheck: error: shell: tcsh not in {bash,zsh,fish}", 0), 0u) << out;
}

}  // namespace
}  // namespace gracecheck
