// The catalogue of refapi's deliberate shutdown bugs (`--bug=NAME`): each is
// one bug seen in production servers, switched on by name so that every
// gracecheck check is proven to catch a real failure. This file only names
// them; what each one does lives where the behaviour it breaks lives:
// shutdown_sequence.cc (edits to the step table), bug_variants.h (what a bug
// adds while serving), signals.h, http_server.h and write_behind.h. README.md
// in this folder has the table with where each is seen in the field.
//
// Threading: pure data and functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gracecheck::refapi {

enum class Bug : std::uint8_t {
  kExitImmediately,
  kDbFirst,
  kNoDbClose,
  kIgnoreSigterm,
  kHangOnShutdown,
  kLeakThreads,
  kLeakSessions,
  kOrphanChild,
  kAckBeforeCommit,
  kResetKeepalive,
  kIdleInTransaction,
  kNoLameDuck,
  kCancelInflight,
  kSmallBacklog,
  kPoolRefuses,
  kNoForward,
};

struct BugInfo {
  Bug bug;
  std::string_view name;     // as given to --bug
  std::string_view summary;  // one line for --help
};

// Every bug, in the order --help lists them.
const std::vector<BugInfo>& KnownBugs();

std::optional<Bug> ParseBug(std::string_view name);
std::string_view BugName(Bug bug);
// "exit-immediately, db-first, …", for error messages.
std::string KnownBugNames();

// The bugs switched on; empty for the correct server.
class BugSet {
 public:
  void Add(Bug bug) { bits_ |= Bit(bug); }
  bool Has(Bug bug) const { return (bits_ & Bit(bug)) != 0; }
  bool empty() const { return bits_ == 0; }

 private:
  static std::uint32_t Bit(Bug bug) { return std::uint32_t{1} << static_cast<unsigned>(bug); }
  std::uint32_t bits_ = 0;
};

}  // namespace gracecheck::refapi
