// What the peer's TCP acknowledged on a connected socket: the one piece of
// evidence a client has of whether a server ever received its request.
//
// A server that closes a connection (FIN) after its kernel received a
// request acknowledges it in that FIN; one that closed before the request
// arrived cannot have read it. Measured on loopback here
// (docs/DESIGN.md, "A close the server sent before the request came"):
// close before the request, bytes acknowledged = the earlier requests only;
// read then close, all of them.
#pragma once

#include <cstdint>
#include <optional>

namespace gracecheck {

// Bytes of this socket's sent data the peer has acknowledged
// (TCP_INFO tcpi_bytes_acked), or nullopt if the kernel does not say
// (not TCP, or a kernel before 4.1).
std::optional<std::uint64_t> PeerAckedBytes(int fd);

}  // namespace gracecheck
