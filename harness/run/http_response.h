// An incremental HTTP/1.1 response parser: enough of RFC 9112 to know the
// status, whether the server will close the connection, and exactly where the
// response ends (Content-Length, chunked, or close-delimited), from bytes fed
// in pieces as they arrive. Bodies are counted, not kept.
//
// Interim responses (1xx but 101) are read and skipped, as RFC 9110 §15.2
// asks of a client: any number of them may come before the final response,
// none has a body, and status() is only ever the final response's (0 until
// it came). 101 Switching Protocols is final instead: the connection speaks
// another protocol after it, so the response is complete and
// connection_close() is true (the load generator speaks HTTP/1.1 only).
//
// It never throws and never reads past what it is given; malformed input
// puts it in the error state (the load generator then classifies the
// request as truncated or an HTTP error).
//
// Threading: one parser per connection; not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gracecheck {

class ResponseParser {
 public:
  // Ready for the next response. HEAD responses and 101/204/304 have no body.
  void Reset(bool head_request = false);

  // Consumes bytes of one response; returns how many it used (fewer than `n`
  // only once the response is complete or on error).
  std::size_t Feed(const char* data, std::size_t n);
  // The peer closed the connection: a close-delimited body ends here.
  // Returns complete().
  bool FinishAtEof();

  bool complete() const { return state_ == State::kComplete; }
  bool failed() const { return state_ == State::kError; }
  // Any byte came, an interim response's too.
  bool started() const { return bytes_ > 0; }
  // The final response's status; 0 before its status line (after 1xx only).
  int status() const { return status_; }
  // Interim (1xx) responses read before the final one.
  int interim() const { return interim_; }
  bool connection_close() const { return connection_close_; }
  std::uint64_t bytes() const { return bytes_; }  // interim responses' included
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kHead,
    kBody,
    kBodyUntilClose,
    kChunkSize,
    kChunkData,
    kChunkDataCrlf,
    kTrailers,
    kComplete,
    kError
  };
  std::size_t FeedHead(const char* data, std::size_t n);
  bool ParseHead();
  void Fail(std::string why);

  State state_ = State::kHead;
  bool head_request_ = false;
  int status_ = 0;
  int interim_ = 0;
  bool connection_close_ = false;
  std::uint64_t bytes_ = 0;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to come
  std::string line_;             // head, or the current chunk-size/trailer line
  std::string error_;
};

}  // namespace gracecheck
