#include "subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "procfs.h"
#include "signal_names.h"

namespace gracecheck {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Alive(pid_t pid) { return ProcessAlive(pid); }

TEST(SubprocessTest, ArgumentsReachTheProgramUninterpreted) {
  // No shell: ';', '$' and quotes arrive as they are.
  CommandResult r = RunCommand({.argv = {"echo", "a;b", "$HOME", "'q'"}}, 10s);
  EXPECT_EQ(r.status.ToString(), "exit 0");
  EXPECT_EQ(r.output, "a;b $HOME 'q'\n");
}

TEST(SubprocessTest, ReportsExitCodeAndTerminatingSignalApart) {
  CommandResult r = RunCommand({.argv = {"sh", "-c", "exit 15"}}, 10s);
  EXPECT_FALSE(r.status.signaled);
  EXPECT_EQ(r.status.code, 15);

  auto p = Subprocess::Start({.argv = {"sleep", "30"}});
  ASSERT_TRUE(p->Signal(SIGTERM));
  std::optional<ExitStatus> s = p->WaitFor(10s);
  ASSERT_TRUE(s) << "sleep did not end after SIGTERM";
  EXPECT_TRUE(s->signaled) << s->ToString();
  EXPECT_EQ(s->signal, SIGTERM);
  EXPECT_EQ(s->ToString(), "signal SIGTERM");
}

TEST(SubprocessTest, UnknownProgramIsAClearError) {
  try {
    Subprocess::Start({.argv = {"no-such-program-gracecheck"}});
    FAIL() << "started a program that does not exist";
  } catch (const SpawnError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot run 'no-such-program-gracecheck': not found on PATH");
  }
  EXPECT_THROW(Subprocess::Start({.argv = {"/nonexistent/bin/x"}}), SpawnError);
}

TEST(SubprocessTest, OutputGoesToFiles) {
  char dir[] = "/tmp/gc-subprocess-XXXXXX";
  ASSERT_TRUE(::mkdtemp(dir));
  const std::string out = std::string(dir) + "/out", err = std::string(dir) + "/err";
  auto p = Subprocess::Start({.argv = {"sh", "-c", "echo to-out; echo to-err >&2"},
                              .stdout_path = out,
                              .stderr_path = err});
  ASSERT_TRUE(p->WaitFor(10s));
  EXPECT_EQ(ReadFile(out), "to-out\n");
  EXPECT_EQ(ReadFile(err), "to-err\n");
  std::filesystem::remove_all(dir);
}

TEST(SubprocessTest, EnvironmentIsWhatWasGiven) {
  CommandResult r = RunCommand(
      {.argv = {"sh", "-c", "echo \"$GC_A|$HOME\""}, .env = {"GC_A=1"}, .inherit_env = false}, 10s);
  EXPECT_EQ(r.output, "1|\n");
  ::setenv("GC_B", "old", 1);
  r = RunCommand({.argv = {"sh", "-c", "echo $GC_B"}, .env = {"GC_B=new"}}, 10s);
  EXPECT_EQ(r.output, "new\n");
}

TEST(SubprocessTest, RunsInItsOwnGroupAndTheGroupCanBeKilled) {
  // The shell leaves a grandchild behind; a signal to the group reaches it.
  char dir[] = "/tmp/gc-subprocess-XXXXXX";
  ASSERT_TRUE(::mkdtemp(dir));
  const std::string out = std::string(dir) + "/pid";
  auto p =
      Subprocess::Start({.argv = {"sh", "-c", "sleep 30 & echo $!; wait"}, .stdout_path = out});
  EXPECT_EQ(::getpgid(p->pid()), p->pid());
  pid_t grandchild = 0;
  for (int i = 0; i < 1000 && grandchild == 0; ++i) {
    std::this_thread::sleep_for(5ms);
    std::istringstream(ReadFile(out)) >> grandchild;
  }
  ASSERT_GT(grandchild, 0) << "no pid from the shell";
  EXPECT_EQ(::getpgid(grandchild), p->pid());
  ExitStatus s = p->Kill();
  EXPECT_EQ(s.signal, SIGKILL) << s.ToString();
  for (int i = 0; i < 1000 && Alive(grandchild); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(Alive(grandchild)) << "grandchild " << grandchild << " outlived the group kill";
  std::filesystem::remove_all(dir);
}

TEST(SubprocessTest, DestructorKillsWhatIsStillRunning) {
  pid_t pid;
  {
    auto p = Subprocess::Start({.argv = {"sleep", "30"}});
    pid = p->pid();
    EXPECT_TRUE(Alive(pid));
  }
  EXPECT_FALSE(Alive(pid)) << "sleep " << pid << " survived its Subprocess";
}

TEST(SubprocessTest, ParentDeathSignalFiresWhenTheSpawningThreadEnds) {
  // The death signal follows the thread that forked, not the process: this is
  // why long-lived children must be started from a long-lived thread.
  std::unique_ptr<Subprocess> p;
  std::thread([&] { p = Subprocess::Start({.argv = {"sleep", "30"}}); }).join();
  std::optional<ExitStatus> s = p->WaitFor(10s);
  ASSERT_TRUE(s) << "child outlived the thread that started it";
  EXPECT_EQ(s->signal, SIGKILL) << s->ToString();

  std::unique_ptr<Subprocess> q;
  std::thread([&] {
    q = Subprocess::Start({.argv = {"sleep", "30"}, .parent_death_signal = 0});
  }).join();
  EXPECT_FALSE(q->WaitFor(200ms)) << "child without a death signal ended on its own";
}

TEST(SubprocessTest, ChildHoldsOnlyStdioWhateverTheHarnessHasOpen) {
  // What a load generator and a libpq probe leave open while a target or a
  // restarted postmaster is spawned: sockets without close-on-exec (Asio
  // opens them so, libpq sets the flag only after socket() returns) and
  // enough of them that the launcher's own error pipe lands far above 3.
  // Boost.Process 1.81 closes only the fds above the highest one it keeps,
  // so every fd between 3 and its pipe reached the child: a correct server
  // that waits for its clients to leave then never saw their FIN.
  std::vector<int> held;
  for (int i = 0; i < 64; ++i) held.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0) << std::strerror(errno);
  held.push_back(pipe_fds[0]);
  held.push_back(pipe_fds[1]);
  held.push_back(::open("/dev/null", O_RDONLY));
  for (int fd : held) ASSERT_GE(fd, 0) << std::strerror(errno);

  // The shell lists its own fds: what it was given, and the one `ls` of
  // /proc/$$/fd does not open itself.
  CommandResult r = RunCommand({.argv = {"/bin/sh", "-c", "ls /proc/$$/fd"}}, 10s);
  for (int fd : held) ::close(fd);
  std::istringstream lines(r.output);
  std::vector<std::string> extra;
  for (std::string fd; lines >> fd;) {
    if (fd != "0" && fd != "1" && fd != "2") extra.push_back(fd);
  }
  EXPECT_TRUE(extra.empty()) << "the child held " << extra.size()
                             << " fds besides stdin/stdout/stderr; ls printed: " << r.output;
}

TEST(SubprocessTest, RunCommandGivesUpAtItsDeadline) {
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(RunCommand({.argv = {"sleep", "30"}}, 300ms), SpawnError);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST(SubprocessTest, SignalsByNameOrNumber) {
  EXPECT_EQ(ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("term"), SIGTERM);
  EXPECT_EQ(ParseSignal("15"), SIGTERM);
  EXPECT_EQ(ParseSignal("sigkill"), SIGKILL);
  EXPECT_EQ(ParseSignal("SIGSTOP"), SIGSTOP);
  EXPECT_FALSE(ParseSignal("SIGFOO"));
  EXPECT_FALSE(ParseSignal("0"));
  EXPECT_FALSE(ParseSignal("999"));
  EXPECT_FALSE(ParseSignal(""));
  EXPECT_EQ(SignalName(SIGINT), "SIGINT");
}

// What the end-to-end tests use to prove nothing of a run outlived it: it
// finds a process by a whole environment entry, and only while it lives.
TEST(ProcfsTest, ProcessesWithEnvironmentFindsWhatIsAliveWithTheEntry) {
  const std::string marker = "GC_PROCFS_TEST_MARKER=" + std::to_string(::getpid());
  auto p = Subprocess::Start({.argv = {"/bin/sleep", "30"}, .env = {marker}});
  EXPECT_EQ(ProcessesWithEnvironment(marker), std::vector<int>{p->pid()});
  EXPECT_TRUE(ProcessesWithEnvironment(marker + "0").empty());
  EXPECT_TRUE(ProcessesWithEnvironment(marker.substr(0, marker.size() - 1)).empty());
  p->Signal(SIGKILL);
  ASSERT_TRUE(p->WaitFor(std::chrono::seconds(5)));
  EXPECT_TRUE(ProcessesWithEnvironment(marker).empty());
}

}  // namespace
}  // namespace gracecheck
