// Where a suite's files go: --out DIR, kept (created if need be, and it must
// be writable: a UsageError says why not), or without it a private temp dir
// (gracecheck-out-XXXXXX under $TMPDIR), removed at the end, and by the
// watchdog if gracecheck is SIGKILLed.
#pragma once

#include <filesystem>
#include <string>

namespace gracecheck {

class TempOrKeptDir {
 public:
  explicit TempOrKeptDir(const std::string& kept);  // "": a temp dir
  ~TempOrKeptDir();
  TempOrKeptDir(const TempOrKeptDir&) = delete;
  TempOrKeptDir& operator=(const TempOrKeptDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool remove_ = false;
};

}  // namespace gracecheck
