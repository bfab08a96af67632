// One accepted TCP connection as a cpp-httplib Stream, buffered both ways.
//
// cpp-httplib 0.11 builds a new SocketStream, with a new read buffer, for
// each request on a connection; this stream lives as long as the connection,
// so bytes read ahead (a pipelined request) are never lost and the server
// can tell whether a request has already arrived (HasBufferedInput) before
// it decides to close an idle connection.
// Output is collected and sent with Flush() (or before the next read, so that
// "100 Continue" goes out before the body is awaited): a small response
// leaves in one segment instead of two.
//
// Threading: used by the one worker thread that serves the connection.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <string>

namespace gracecheck::refapi {

class SocketStream : public httplib::Stream {
 public:
  // Does not take ownership of `fd`.
  SocketStream(int fd, std::chrono::microseconds read_timeout,
               std::chrono::microseconds write_timeout);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  using httplib::Stream::write;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  bool HasBufferedInput() const { return in_pos_ < in_.size(); }
  // Sends buffered output; false if the peer is gone or stopped reading for
  // longer than the write timeout.
  bool Flush();

 private:
  bool WaitFor(short events, std::chrono::microseconds timeout) const;

  int fd_;
  std::chrono::microseconds read_timeout_;
  std::chrono::microseconds write_timeout_;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::string out_;
  bool write_failed_ = false;
};

}  // namespace gracecheck::refapi
