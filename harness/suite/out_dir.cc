#include "out_dir.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "run.h"  // UsageError
#include "watchdog.h"

namespace gracecheck {

namespace fs = std::filesystem;

TempOrKeptDir::TempOrKeptDir(const std::string& kept) {
  if (!kept.empty()) {
    path_ = kept;
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec || ::access(path_.c_str(), W_OK) != 0) {
      throw UsageError(fmt::format("--out {}: cannot write there ({})", kept,
                                   ec ? ec.message() : "permission denied"));
    }
    return;
  }
  std::string pattern = (fs::temp_directory_path() / "gracecheck-out-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temp dir");
  path_ = pattern;
  remove_ = true;
  watchdog::WatchDir(path_.string(), 0);
}

TempOrKeptDir::~TempOrKeptDir() {
  if (!remove_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
  watchdog::ForgetDir(path_.string());
}

}  // namespace gracecheck
