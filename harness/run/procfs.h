// Reading /proc. A process can vanish between open() and read(), and then
// read() fails with ESRCH: libstdc++'s streams turn that into an exception on
// whatever thread is reading, so /proc is read with plain syscalls here.
//
// Pure functions of the system state; safe from any thread.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace gracecheck {

// The file's contents (at most `max` bytes); empty if it cannot be read.
std::string ReadProcFile(const std::string& path, std::size_t max = 1 << 20);

// The entries of a directory other than . and .. (their names in `names`
// if given); -1 if it cannot be opened.
int CountEntries(const std::string& dir, std::vector<std::string>* names = nullptr);

// Every live descendant of `pid` (children of each of its threads,
// recursively, at most 16 deep), added to `out`.
void CollectDescendants(int pid, std::set<int>* out);

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
