#include "requests_out.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <unordered_map>

#include "report_files.h"

namespace gracecheck {

namespace {

nlohmann::json Ms(Nanos t) {
  return t == kNever ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(t) / 1e6);
}

}  // namespace

nlohmann::json RequestRecordJson(std::uint32_t id, const RequestRecord& r,
                                 const std::string* write_key) {
  return {{"id", id},
          {"connection", r.connection},
          {"reuse", r.reuse},
          {"kind", r.kind},
          {"outcome", OutcomeName(r.outcome)},
          {"dropped", r.dropped()},
          {"status", r.status},
          {"bytes", r.bytes},
          {"after_fault", r.has(RequestRecord::kAfterSignal)},
          {"prev_connection_close", r.has(RequestRecord::kPrevConnectionClose)},
          {"write_failed", r.has(RequestRecord::kWriteFailed)},
          {"closed_before_write", r.has(RequestRecord::kClosedBeforeWrite)},
          {"never_acked", r.has(RequestRecord::kNeverAcked)},
          {"by_reset", r.has(RequestRecord::kByReset)},
          {"server_cpu_wait", r.has(RequestRecord::kServerCpuWait)},
          {"intended_ms", Ms(r.intended)},
          {"connected_ms", Ms(r.connected)},
          {"written_ms", Ms(r.written)},
          {"first_byte_ms", Ms(r.first_byte)},
          {"done_ms", Ms(r.done)},
          {"latency_ms", Ms(r.latency())},
          {"write_key", write_key ? nlohmann::json(*write_key) : nlohmann::json(nullptr)}};
}

void WriteRequestRecords(std::ostream& out, const Timeline& tl) {
  std::unordered_map<std::uint32_t, const std::string*> keys;
  for (const WriteKey& w : tl.write_keys) keys[w.request_id] = &w.key;
  for (const RequestRecord& r : tl.requests) {
    auto it = keys.find(RequestId(tl, r));
    out << RequestRecordJson(RequestId(tl, r), r, it == keys.end() ? nullptr : it->second)
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << '\n';
  }
}

void WriteRequestRecords(const std::string& path, const Timeline& tl) {
  // Opened safely first (OpenOutputFile), then streamed to through the fd.
  int fd;
  try {
    fd = OpenOutputFile(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("cannot write the request records: {}", e.what()));
  }
  std::ofstream out(fmt::format("/proc/self/fd/{}", fd), std::ios::binary | std::ios::trunc);
  ::close(fd);
  if (out) WriteRequestRecords(out, tl);
  if (out) out.flush();
  if (!out) {
    throw std::runtime_error(
        fmt::format("cannot write the request records to {}: {}", path, std::strerror(errno)));
  }
}

}  // namespace gracecheck
