#include "procfs.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
