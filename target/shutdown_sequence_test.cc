#include "shutdown_sequence.h"

#include <gtest/gtest.h>

#include <string>

namespace gracecheck::refapi {
namespace {

std::string Names(const std::vector<ShutdownStep>& steps) {
  std::string names;
  for (const ShutdownStep& s : steps) {
    if (!names.empty()) names += ' ';
    names += s.name;
  }
  return names;
}

BugSet Bugs(std::initializer_list<Bug> bugs) {
  BugSet set;
  for (Bug b : bugs) set.Add(b);
  return set;
}

TEST(ShutdownStepsTest, NoBugIsTheDefaultOrderStepForStep) {
  const std::vector<ShutdownStep> steps = ShutdownSteps(BugSet{});
  const std::vector<ShutdownStep> correct = DefaultShutdownSteps();
  ASSERT_EQ(Names(steps), Names(correct));
  EXPECT_EQ(Names(steps),
            "not_ready lame_duck stop_accepting close_idle drain join_workers close_pool exit");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].run, correct[i].run) << steps[i].name;
    EXPECT_EQ(steps[i].cleanup, correct[i].cleanup) << steps[i].name;
  }
}

TEST(ShutdownStepsTest, EachBugEditsTheTable) {
  const std::vector<std::pair<Bug, std::string>> expected = {
      {Bug::kExitImmediately, "exit"},
      {Bug::kDbFirst,
       "not_ready lame_duck close_pool stop_accepting close_idle drain join_workers exit"},
      {Bug::kNoDbClose, "not_ready lame_duck stop_accepting close_idle drain join_workers exit"},
      {Bug::kNoLameDuck, "not_ready stop_accepting close_idle drain join_workers close_pool exit"},
      {Bug::kCancelInflight,
       "not_ready lame_duck stop_accepting cancel_inflight close_idle drain join_workers "
       "close_pool exit"},
      {Bug::kResetKeepalive,
       "not_ready lame_duck stop_accepting reset_connections drain join_workers close_pool exit"},
      {Bug::kSmallBacklog, "not_ready lame_duck stop_accepting join_workers close_pool exit"},
      {Bug::kHangOnShutdown,
       "not_ready lame_duck stop_accepting close_idle drain join_workers join_background "
       "close_pool exit"},
      {Bug::kAckBeforeCommit,
       "not_ready lame_duck stop_accepting close_idle drain join_workers stop_writer close_pool "
       "exit"},
      {Bug::kIdleInTransaction,
       "not_ready lame_duck stop_accepting close_idle drain join_workers open_transaction "
       "close_pool exit"},
      {Bug::kPoolRefuses,
       "refuse_checkouts not_ready lame_duck stop_accepting close_idle drain join_workers "
       "close_pool exit"},
  };
  for (const auto& [bug, names] : expected) {
    EXPECT_EQ(Names(ShutdownSteps(Bugs({bug}))), names) << BugName(bug);
  }
  // Bugs that act while serving leave the shutdown as it is.
  for (Bug bug : {Bug::kIgnoreSigterm, Bug::kLeakThreads, Bug::kLeakSessions, Bug::kOrphanChild}) {
    EXPECT_EQ(Names(ShutdownSteps(Bugs({bug}))), Names(DefaultShutdownSteps())) << BugName(bug);
  }
}

TEST(ShutdownStepsTest, BugsCombineAndAnEditWithoutItsAnchorLandsBeforeExit) {
  EXPECT_EQ(Names(ShutdownSteps(Bugs({Bug::kNoDbClose, Bug::kIdleInTransaction}))),
            "not_ready lame_duck stop_accepting close_idle drain join_workers open_transaction "
            "exit");
  EXPECT_EQ(Names(ShutdownSteps(Bugs({Bug::kExitImmediately, Bug::kHangOnShutdown}))), "exit");
}

TEST(ShutdownStepsTest, WaitForClientsLeavesIdleConnectionsToTheirClients) {
  EXPECT_EQ(Names(ShutdownSteps(BugSet{}, DrainStyle::kWaitForClients)),
            "not_ready lame_duck stop_accepting drain join_workers close_pool exit");
  // A bug edits that order the same way.
  EXPECT_EQ(Names(ShutdownSteps(Bugs({Bug::kDbFirst}), DrainStyle::kWaitForClients)),
            "not_ready lame_duck close_pool stop_accepting drain join_workers exit");
}

}  // namespace
}  // namespace gracecheck::refapi
