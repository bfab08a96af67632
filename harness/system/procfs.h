// Reading /proc. A process can vanish between open() and read(), and then
// read() fails with ESRCH: libstdc++'s streams turn that into an exception on
// whatever thread is reading, so /proc is read with plain syscalls here.
//
// Pure functions of the system state; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gracecheck {

// The file's contents (at most `max` bytes); empty if it cannot be read.
std::string ReadProcFile(const std::string& path, std::size_t max = 1 << 20);

// The entries of a directory other than . and .. (their names in `names`
// if given); -1 if it cannot be opened.
int CountEntries(const std::string& dir, std::vector<std::string>* names = nullptr);

// What /proc/PID/stat says of a process that matters to gracecheck.
struct ProcStat {
  char state = '?';  // R, S, D, Z (zombie), X (dead), T, ...
  int ppid = 0;
  int pgrp = 0;
  int threads = 0;
  unsigned long long start_ticks = 0;  // since boot, in clock ticks: tells a reused pid apart
};
// nullopt if the process is gone or the file cannot be parsed.
std::optional<ProcStat> ReadProcStat(int pid);
// Parses the contents of a /proc/PID/stat (the command name between the
// parentheses may hold spaces and parentheses itself).
std::optional<ProcStat> ParseProcStat(std::string_view text);

// Where the set is that the process's main thread waits with in sigwait(3),
// sigwaitinfo(2) or sigtimedwait(2) (one system call, rt_sigtimedwait) at
// this moment; nullopt if it is not waiting in it or that cannot be read
// (/proc/PID/syscall needs the access a debugger has: the same user and a
// ptrace_scope allowing it, or root). While a thread waits there the kernel
// takes the set it waits for off its blocked mask (SigBlk) and puts it back
// when the wait returns: a single-threaded process that sigwaits for
// SIGTERM shows it as neither blocked nor caught. Read it *before* the
// masks: a wait that returns in between (the signal came) has its mask
// back by then, and the set read after it still says what it waited for.
std::optional<std::uint64_t> SigwaitSetAddress(int pid);
// The same from the text of a /proc/PID/syscall: "128 0x7ffd... ..." on
// x86-64 is a wait in rt_sigtimedwait, its set at the first argument.
std::optional<std::uint64_t> SigwaitSetAddress(std::string_view syscall_line);
// The signal set (bit N-1 for signal N) at `address` in the process's
// memory (/proc/PID/mem, with the same access); nullopt if unreadable.
std::optional<std::uint64_t> ReadSigwaitSet(int pid, std::uint64_t address);

// Its command line, the arguments joined by spaces, at most `max` bytes
// (then ending in "…"); a kernel thread's or a zombie's is its [comm].
std::string ReadCommandLine(int pid, std::size_t max = 200);

// Every live descendant of `pid` (children of each of its threads,
// recursively, at most 16 deep), added to `out`.
void CollectDescendants(int pid, std::set<int>* out);

// Which of `pids` hold a socket listening on TCP `port` (IPv4 or IPv6, any
// address): the server among a wrapper and its children. Empty when none
// does or /proc cannot tell.
std::vector<int> ListenersOn(int port, const std::set<int>& pids);

// SIGKILLs every process whose working directory is `dir` or below it, and
// returns how many there were. PostgreSQL's processes all run in their data
// dir, and each child calls setsid(), so a signal to the postmaster's group
// misses them; this finds a backend or logger that outlived its postmaster.
int KillProcessesWorkingIn(const std::string& dir);

// Live processes (other than this one) whose environment holds `entry`
// ("NAME=value"): everything a process starts inherits its environment, so a
// marker set for it finds all its descendants, wherever they went.
std::vector<int> ProcessesWithEnvironment(const std::string& entry);

}  // namespace gracecheck
