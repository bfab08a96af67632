#include "socket_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gracecheck::refapi {

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kMaxBufferedOutput = 64 * 1024;

void AddressOf(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  }
  ip = text;
}

}  // namespace

SocketStream::SocketStream(int fd, std::chrono::microseconds read_timeout,
                           std::chrono::microseconds write_timeout)
    : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

bool SocketStream::WaitFor(short events, std::chrono::microseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

bool SocketStream::is_readable() const {
  return HasBufferedInput() || WaitFor(POLLIN, read_timeout_);
}

bool SocketStream::is_writable() const {
  return !write_failed_ && WaitFor(POLLOUT, write_timeout_);
}

ssize_t SocketStream::read(char* ptr, size_t size) {
  if (!out_.empty() && !Flush()) return -1;
  if (!HasBufferedInput()) {
    if (!WaitFor(POLLIN, read_timeout_)) return -1;
    in_.resize(kReadChunk);
    ssize_t n;
    do {
      n = ::recv(fd_, in_.data(), in_.size(), 0);
    } while (n < 0 && errno == EINTR);
    in_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    in_pos_ = 0;
    if (n <= 0) return n;
  }
  std::size_t take = std::min(size, in_.size() - in_pos_);
  std::memcpy(ptr, in_.data() + in_pos_, take);
  in_pos_ += take;
  return static_cast<ssize_t>(take);
}

ssize_t SocketStream::write(const char* ptr, size_t size) {
  if (write_failed_) return -1;
  if (out_.size() + size > kMaxBufferedOutput && !Flush()) return -1;
  out_.append(ptr, size);
  if (out_.size() > kMaxBufferedOutput && !Flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool SocketStream::Flush() {
  std::size_t sent = 0;
  while (!write_failed_ && sent < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      write_failed_ = !WaitFor(POLLOUT, write_timeout_);
    } else {
      write_failed_ = true;
    }
  }
  out_.clear();
  return !write_failed_;
}

void SocketStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) AddressOf(addr, ip, port);
}

void SocketStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) AddressOf(addr, ip, port);
}

}  // namespace gracecheck::refapi
