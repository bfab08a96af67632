#include "procfs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace gracecheck {
namespace {

TEST(ProcStatTest, TheCommandMayHoldSpacesAndParentheses) {
  const std::optional<ProcStat> st = ParseProcStat(
      "4243 (my (odd) server) S 4242 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 7 0 12345 "
      "100 50 18446744073709551615");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 4242);
  EXPECT_EQ(st->pgrp, 4242);
  EXPECT_EQ(st->threads, 7);
  EXPECT_EQ(st->start_ticks, 12345u);
  EXPECT_FALSE(ParseProcStat("4243 (cut"));
  EXPECT_FALSE(ParseProcStat("4243 (short) S 1 2"));
}

TEST(ProcStatTest, ThisProcessReadsAsItIs) {
  std::thread idle([] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
  const std::optional<ProcStat> st = ReadProcStat(::getpid());
  idle.join();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ppid, ::getppid());
  EXPECT_GE(st->threads, 2);
  EXPECT_FALSE(ReadProcStat(0));
}

TEST(CommandLineTest, ArgumentsAreJoinedAndLongOnesCut) {
  const std::string self = ReadCommandLine(::getpid());
  EXPECT_NE(self.find("procfs_test"), std::string::npos) << self;
  const std::string cut = ReadCommandLine(::getpid(), 4);
  EXPECT_EQ(cut.size(), 4 + std::string("…").size()) << cut;
}

TEST(SigwaitTest, OnlyAWaitInRtSigtimedwaitHasASetAddress) {
  EXPECT_EQ(SigwaitSetAddress(fmt::format("{} 0x7ffd1234 0x0 0x0 0x8 0x0 0x0 0x7ffd 0x7f00",
                                          SYS_rt_sigtimedwait)),
            std::optional<std::uint64_t>(0x7ffd1234));
  EXPECT_FALSE(SigwaitSetAddress("7 0x7ffd1234 0x1 0xffffffff 0x0 0x0 0x0 0x7ffd 0x7f00"));  // poll
  EXPECT_FALSE(SigwaitSetAddress("running"));
  EXPECT_FALSE(SigwaitSetAddress("-1 0x7ffd 0x7f00"));
  EXPECT_FALSE(SigwaitSetAddress(""));
}

// A single-threaded process in sigwaitinfo: SigBlk loses SIGTERM while it
// waits, and the set it waits with holds it.
TEST(SigwaitTest, TheSetOfAProcessWaitingInSigwaitIsRead) {
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    (void)!::write(ready[1], "x", 1);
    siginfo_t info;
    ::sigwaitinfo(&set, &info);
    ::_exit(0);
  }
  char x;
  ASSERT_EQ(::read(ready[0], &x, 1), 1);
  std::optional<std::uint64_t> address;
  for (int i = 0; i < 200 && !address; ++i) {
    address = SigwaitSetAddress(child);
    if (!address) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(address) << "never seen in sigwaitinfo";
  const std::optional<std::uint64_t> set = ReadSigwaitSet(child, *address);
  ASSERT_TRUE(set);
  EXPECT_EQ(*set, (1u << (SIGTERM - 1)) | (1u << (SIGINT - 1)));
  const std::string status = ReadProcFile(fmt::format("/proc/{}/status", child));
  EXPECT_NE(status.find("SigBlk:\t0000000000000000"), std::string::npos)
      << "the kernel no longer unblocks the waited set (then this reading is not needed):\n"
      << status;
  ::kill(child, SIGTERM);
  int st = 0;
  ::waitpid(child, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_FALSE(SigwaitSetAddress(::getpid())) << "this process is not in sigwait";
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(ListenersOnTest, TheProcessHoldingTheListeningSocketIsFound) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  // Bound but not listening: nobody listens there yet.
  EXPECT_TRUE(ListenersOn(port, {::getpid()}).empty());
  ASSERT_EQ(::listen(fd, 4), 0);
  EXPECT_EQ(ListenersOn(port, {::getpid(), ::getppid()}), std::vector<int>{::getpid()});
  EXPECT_TRUE(ListenersOn(port, {::getppid()}).empty()) << "the parent holds nothing there";
  ::close(fd);
  EXPECT_TRUE(ListenersOn(port, {::getpid()}).empty());
}

}  // namespace
}  // namespace gracecheck
