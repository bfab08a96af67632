// A position in a file the user wrote, and one problem found there. Shared
// by every reader of gracecheck's files (yaml_reader.h) and by what they
// read into (a scenario keeps the positions of its parts for warnings).
#pragma once

#include <string>

namespace gracecheck {

// 1-based position in the file; 0 when unknown.
struct SourcePos {
  int line = 0;
  int col = 0;
};

// One problem with a file.
struct FileError {
  std::string file;
  int line = 0;  // 1-based; 0 when the problem concerns the whole file
  int col = 0;   // 1-based
  std::string message;

  // "file:line:col: message", or "file: message" without a position.
  std::string ToString() const;
};

}  // namespace gracecheck
