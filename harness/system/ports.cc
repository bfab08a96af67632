#include "ports.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>

namespace gracecheck {

namespace {

int BindAnyPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot find a free port: {}", std::strerror(err)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

int PickFreePort() {
  // Runs made at once (--jobs) must not be handed the same port: the last
  // ports handed out in this process are not handed out again.
  static std::mutex mu;
  static std::deque<int> recent;
  constexpr std::size_t kRemembered = 256;
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0;; ++attempt) {
    const int port = BindAnyPort();
    if (attempt < 32 && std::find(recent.begin(), recent.end(), port) != recent.end()) continue;
    recent.push_back(port);
    if (recent.size() > kRemembered) recent.pop_front();
    return port;
  }
}

}  // namespace gracecheck
