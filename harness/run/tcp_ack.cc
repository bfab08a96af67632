#include "tcp_ack.h"

// <linux/tcp.h>, not <netinet/tcp.h>: glibc's struct tcp_info stops before
// tcpi_bytes_acked, and the two headers cannot be included together.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace gracecheck {

std::optional<std::uint64_t> PeerAckedBytes(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
  if (len < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) {
    return std::nullopt;
  }
  return info.tcpi_bytes_acked;
}

}  // namespace gracecheck
