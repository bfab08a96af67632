#include "http_response.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// RFC 9110 15.2: interim responses come before the final one; none is the
// answer, none has a body.
TEST(ResponseParserTest, ContinueThenOkIsTheOk) {
  const std::string r =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ResponseParser p;
  p.Reset();
  EXPECT_EQ(p.Feed(r.data(), r.size()), r.size());
  EXPECT_TRUE(p.complete()) << p.error();
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.interim(), 1);
  EXPECT_FALSE(p.connection_close());
  EXPECT_EQ(p.bytes(), r.size());
}

TEST(ResponseParserTest, TwoEarlyHintsWithHeadersThenOkInAnyPieces) {
  const std::string hint =
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n"
      "Link: </app.js>; rel=preload; as=script\r\n\r\n";
  const std::string final_response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  const std::string r = hint + hint + final_response;
  for (std::size_t step :
       std::vector<std::size_t>{1, 2, 5, 13, hint.size() - 1, hint.size(), 1000}) {
    ResponseParser p;
    p.Reset();
    EXPECT_EQ(FeedInPieces(p, r + "NEXT", step), r.size()) << "step " << step;
    EXPECT_TRUE(p.complete()) << "step " << step << ": " << p.error();
    EXPECT_EQ(p.status(), 200) << "step " << step;
    EXPECT_EQ(p.interim(), 2) << "step " << step;
  }
}

// The hint's head split across reads: nothing final is known until the 200.
TEST(ResponseParserTest, EarlyHintSplitAcrossReadsRecordsNoStatus) {
  ResponseParser p;
  p.Reset();
  const std::string first = "HTTP/1.1 103 Early Hi";
  const std::string second = "nts\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 20";
  const std::string third = "0 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(p.Feed(first.data(), first.size()), first.size());
  EXPECT_EQ(p.status(), 0);
  EXPECT_EQ(p.Feed(second.data(), second.size()), second.size());
  EXPECT_FALSE(p.complete());
  EXPECT_EQ(p.status(), 0) << "a 103 is not the response's status";
  EXPECT_EQ(p.interim(), 1);
  EXPECT_EQ(p.Feed(third.data(), third.size()), third.size());
  EXPECT_TRUE(p.complete()) << p.error();
  EXPECT_EQ(p.status(), 200);
}

// An interim response's headers say nothing about the final one: its
// "Connection: close" does not close, and the final response's framing
// counts.
TEST(ResponseParserTest, InterimHeadersDoNotFrameTheFinalResponse) {
  const std::string r =
      "HTTP/1.1 100 Continue\r\nConnection: close\r\nX-Note: ignored\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnopNEXT";
  ResponseParser p;
  p.Reset();
  EXPECT_EQ(p.Feed(r.data(), r.size()), r.size() - 4);
  EXPECT_TRUE(p.complete()) << p.error();
  EXPECT_EQ(p.status(), 404);
  EXPECT_FALSE(p.connection_close());
}

// The server closed after an interim response: no final response, no
// status; the server had begun answering (the load generator counts it
// truncated).
TEST(ResponseParserTest, InterimThenEofIsNoFinalResponse) {
  const std::string r = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
  ResponseParser p;
  p.Reset();
  EXPECT_EQ(p.Feed(r.data(), r.size()), r.size());
  EXPECT_FALSE(p.complete());
  EXPECT_FALSE(p.FinishAtEof());
  EXPECT_FALSE(p.failed());
  EXPECT_EQ(p.status(), 0);
  EXPECT_TRUE(p.started());
}

// 101 Switching Protocols is final: the connection speaks something else
// after it, so the exchange ends there and the connection with it.
TEST(ResponseParserTest, SwitchingProtocolsIsFinalAndClosesTheConnection) {
  const std::string r =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "\x81\x02hi";
  ResponseParser p;
  p.Reset();
  EXPECT_EQ(p.Feed(r.data(), r.size()), r.size() - 4);
  EXPECT_TRUE(p.complete());
  EXPECT_EQ(p.status(), 101);
  EXPECT_EQ(p.interim(), 0);
  EXPECT_TRUE(p.connection_close());
}

// Reset forgets the interim responses of the previous exchange.
TEST(ResponseParserTest, ResetClearsInterimCount) {
  const std::string r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
  ResponseParser p;
  p.Reset();
  p.Feed(r.data(), r.size());
  EXPECT_TRUE(p.complete());
  p.Reset();
  EXPECT_EQ(p.interim(), 0);
  EXPECT_EQ(p.status(), 0);
}

TEST(ResponseParserTest, GarbageFails) {
  for (std::string r :
       {"garbage\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 020 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 600 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
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
