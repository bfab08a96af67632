#include "procfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace gracecheck {

std::string ReadProcFile(const std::string& path, std::size_t max) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (out.size() > max) out.resize(max);
  return out;
}

}  // namespace gracecheck
