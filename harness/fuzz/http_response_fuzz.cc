// libFuzzer target: the load generator's HTTP/1.1 response parser, fed the
// bytes in the chunks a socket might deliver them (the first byte of the
// input chooses the chunk size), then EOF. It must never crash or read out
// of bounds, and its states must stay consistent: complete and failed never
// both, a complete response has a status in 100..599, and Feed uses all it
// is given unless the response ended or failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "http_response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const bool head = (data[0] & 0x80) != 0;
  ++data;
  --size;
  gracecheck::ResponseParser parser;
  parser.Reset(head);
  for (std::size_t at = 0; at < size && !parser.complete() && !parser.failed(); at += chunk) {
    const std::size_t n = size - at < chunk ? size - at : chunk;
    const std::size_t used = parser.Feed(reinterpret_cast<const char*>(data + at), n);
    if (used > n) std::abort();
    if (used < n && !parser.complete() && !parser.failed()) std::abort();
  }
  if (!parser.complete() && !parser.failed()) parser.FinishAtEof();
  if (parser.complete() && parser.failed()) std::abort();
  if (parser.complete() && (parser.status() < 100 || parser.status() > 599)) std::abort();
  return 0;
}
