#include "http_response.h"

#include <string>

#include <gtest/gtest.h>

namespace gracecheck {
namespace {

// Feeds `text` in pieces of `step` bytes; returns bytes used.
std::size_t FeedInPieces(ResponseParser& p, const std::string& text, std::size_t step) {
  std::size_t used = 0;
  for (std::size_t i = 0; i < text.size() && !p.complete() && !p.failed(); i += step) {
    used += p.Feed(text.data() + i, std::min(step, text.size() - i));
  }
  return used;
}

TEST(ResponseParserTest, ContentLengthEndsTheResponseWhateverThePieces) {
  const std::string r = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
  for (std::size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    ResponseParser p;
    p.Reset();
    EXPECT_EQ(FeedInPieces(p, r + "NEXT", step), r.size()) << "step " << step;
    EXPECT_TRUE(p.complete()) << "step " << step;
    EXPECT_EQ(p.status(), 201);
    EXPECT_FALSE(p.connection_close());
    EXPECT_EQ(p.bytes(), r.size());
  }
}

TEST(ResponseParserTest, ChunkedWithTrailers) {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  for (std::size_t step : {1u, 4u, 1000u}) {
    ResponseParser p;
    p.Reset();
    EXPECT_EQ(FeedInPieces(p, r, step), r.size());
    EXPECT_TRUE(p.complete()) << "step " << step << " " << p.error();
  }
}

TEST(ResponseParserTest, ConnectionCloseAndHttp10) {
  ResponseParser p;
  p.Reset();
  std::string r = "HTTP/1.1 200 OK\r\nconnection: Close\r\nContent-Length: 0\r\n\r\n";
  p.Feed(r.data(), r.size());
  EXPECT_TRUE(p.complete());
  EXPECT_TRUE(p.connection_close());
  p.Reset();
  r = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  p.Feed(r.data(), r.size());
  EXPECT_TRUE(p.connection_close());
}

TEST(ResponseParserTest, CloseDelimitedBodyEndsAtEof) {
  ResponseParser p;
  p.Reset();
  const std::string r = "HTTP/1.1 200 OK\r\n\r\nsome body";
  p.Feed(r.data(), r.size());
  EXPECT_FALSE(p.complete());
  EXPECT_TRUE(p.FinishAtEof());
  EXPECT_TRUE(p.connection_close());
}

TEST(ResponseParserTest, TruncatedBodyIsNotComplete) {
  ResponseParser p;
  p.Reset();
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  p.Feed(r.data(), r.size());
  EXPECT_FALSE(p.FinishAtEof());
  EXPECT_TRUE(p.started());
}

TEST(ResponseParserTest, NoBodyFor204AndHead) {
  ResponseParser p;
  p.Reset();
  std::string r = "HTTP/1.1 204 No Content\r\n\r\n";
  p.Feed(r.data(), r.size());
  EXPECT_TRUE(p.complete());
  p.Reset(/*head_request=*/true);
  r = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
  p.Feed(r.data(), r.size());
  EXPECT_TRUE(p.complete());
}

TEST(ResponseParserTest, GarbageFails) {
  for (std::string r : {"garbage\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                        "HTTP/1.1 020 OK\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 600 OK\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    ResponseParser p;
    p.Reset();
    p.Feed(r.data(), r.size());
    EXPECT_TRUE(p.failed()) << r;
    EXPECT_FALSE(p.complete()) << r;
  }
  ResponseParser p;
  p.Reset();
  std::string huge(70 * 1024, 'a');
  p.Feed(huge.data(), huge.size());
  EXPECT_TRUE(p.failed());
}

}  // namespace
}  // namespace gracecheck
