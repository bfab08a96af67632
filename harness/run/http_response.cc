#include "http_response.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <string_view>

namespace gracecheck {

namespace {

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxLine = 4 * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IContains(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char x, char y) {
                          return std::tolower(static_cast<unsigned char>(x)) ==
                                 std::tolower(static_cast<unsigned char>(y));
                        });
  return it != haystack.end();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ParseUnsigned(std::string_view s, int base, std::uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

void ResponseParser::Reset(bool head_request) {
  state_ = State::kHead;
  head_request_ = head_request;
  status_ = 0;
  interim_ = 0;
  connection_close_ = false;
  bytes_ = 0;
  remaining_ = 0;
  line_.clear();
  error_.clear();
}

void ResponseParser::Fail(std::string why) {
  state_ = State::kError;
  error_ = std::move(why);
}

std::size_t ResponseParser::FeedHead(const char* data, std::size_t n) {
  // The head ends at the first CRLFCRLF; it may straddle pieces.
  const std::size_t before = line_.size();
  line_.append(data, n);
  std::size_t search_from = before >= 3 ? before - 3 : 0;
  std::size_t end = line_.find("\r\n\r\n", search_from);
  if (end == std::string::npos) {
    if (line_.size() > kMaxHead) Fail("response head over 64 KiB");
    return n;
  }
  const std::size_t used = end + 4 - before;
  line_.resize(end + 2);  // keep the last header's CRLF
  if (!ParseHead()) return used;
  line_.clear();
  return used;
}

bool ResponseParser::ParseHead() {
  std::string_view head(line_);
  std::size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  // HTTP/1.x SP 3DIGIT SP reason
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[11]))) {
    Fail("malformed status line");
    return false;
  }
  const bool http10 = status_line[7] == '0';
  const int code =
      (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  // RFC 9110 15: status codes are 100..599 (found by harness/fuzz: "020"
  // was taken for a complete response).
  if (code < 100 || code > 599) {
    Fail(fmt::format("status {} is not an HTTP status", status_line.substr(9, 3)));
    return false;
  }
  bool close = http10;
  bool chunked = false;
  std::optional<std::uint64_t> length;
  std::size_t pos = eol + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, next - pos);
    pos = next + 2;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      Fail("malformed header line");
      return false;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Content-Length")) {
      std::uint64_t v;
      if (!ParseUnsigned(value, 10, &v) || (length && *length != v)) {
        Fail("bad Content-Length");
        return false;
      }
      length = v;
    } else if (IEquals(name, "Transfer-Encoding")) {
      chunked = IContains(value, "chunked");
    } else if (IEquals(name, "Connection")) {
      if (IContains(value, "close")) close = true;
      if (http10 && IContains(value, "keep-alive")) close = false;
    }
  }
  // RFC 9110 15.2: an interim response has no body, and the final one (or
  // another interim one) follows on the same connection; its headers say
  // nothing about the final response's framing or the connection.
  if (code >= 100 && code < 200 && code != 101) {
    ++interim_;
    state_ = State::kHead;
    return true;
  }
  status_ = code;
  connection_close_ = close;
  if (code == 101) {
    // Switching Protocols: what follows is not HTTP/1.1; this exchange is
    // over, and so is the connection for an HTTP/1.1 client.
    connection_close_ = true;
    state_ = State::kComplete;
  } else if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = State::kComplete;
  } else if (chunked) {
    state_ = State::kChunkSize;
  } else if (length) {
    remaining_ = *length;
    state_ = remaining_ == 0 ? State::kComplete : State::kBody;
  } else {
    state_ = State::kBodyUntilClose;
    connection_close_ = true;
  }
  return true;
}

std::size_t ResponseParser::Feed(const char* data, std::size_t n) {
  std::size_t used = 0;
  while (used < n && state_ != State::kComplete && state_ != State::kError) {
    const char* p = data + used;
    const std::size_t left = n - used;
    std::size_t took = 0;
    switch (state_) {
      case State::kHead:
        took = FeedHead(p, left);
        break;
      case State::kBody:
      case State::kChunkData: {
        took = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, left));
        remaining_ -= took;
        if (remaining_ == 0) {
          state_ = state_ == State::kBody ? State::kComplete : State::kChunkDataCrlf;
          line_.clear();
        }
        break;
      }
      case State::kBodyUntilClose:
        took = left;
        break;
      case State::kChunkDataCrlf:
      case State::kChunkSize:
      case State::kTrailers: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', left));
        took = nl ? static_cast<std::size_t>(nl - p) + 1 : left;
        line_.append(p, took);
        if (line_.size() > kMaxLine) {
          Fail("chunk line too long");
          break;
        }
        if (!nl) break;
        std::string_view line = Trim(std::string_view(line_).substr(0, line_.size() - 1));
        if (state_ == State::kChunkDataCrlf) {
          if (!line.empty())
            Fail("missing CRLF after chunk");
          else
            state_ = State::kChunkSize;
        } else if (state_ == State::kChunkSize) {
          std::uint64_t size;
          if (!ParseUnsigned(line.substr(0, line.find(';')), 16, &size)) {
            Fail("bad chunk size");
          } else if (size == 0) {
            state_ = State::kTrailers;
          } else {
            remaining_ = size;
            state_ = State::kChunkData;
          }
        } else if (line.empty()) {
          state_ = State::kComplete;  // end of trailers
        }
        line_.clear();
        break;
      }
      case State::kComplete:
      case State::kError:
        break;
    }
    used += took;
    bytes_ += took;
  }
  return used;
}

bool ResponseParser::FinishAtEof() {
  if (state_ == State::kBodyUntilClose) state_ = State::kComplete;
  return complete();
}

}  // namespace gracecheck
