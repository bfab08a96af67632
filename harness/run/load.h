// The load generator: HTTP/1.1 requests to the target on loopback, one
// record per request, classified by outcome (timeline.h).
//
// Two models, as in wrk2/k6:
//   open    arrivals at a fixed rate, whether or not earlier requests were
//           answered; latency is measured from the *intended* start, so a
//           stalled server is not hidden by a stalled client (no coordinated
//           omission). An arrival with no free connection waits in a queue.
//   closed  N connections, each sending its next request when the previous
//           one is done.
// The open model keeps arriving through a shutdown (until the duration ends
// or Stop), so refusals and drops after the signal are observed.
//
// Connections: keep-alive (reused until the server says Connection: close or
// closes them) or a new connection per request. Before a connection is
// reused, a non-blocking peek tells whether the server already closed it; if
// so the request goes on a new connection, as a real client's would
// (RequestRecord::kClosedBeforeWrite). If the close races the write instead
// (no response byte, and the close arrives within `race_window` of the write
// on a reused connection, or the write itself fails there), the outcome is
// kIdleClosed: the server never took that request. On a new connection a
// reset within the window is a listener that closed with the connection in
// its accept queue: kRefused (NoResponseOutcome). The window does not
// count time the generator's own loop was stalled (a heartbeat measures it),
// so a starved generator does not turn the race into a drop; nor, after the
// run, the time the server's threads waited for a CPU (ExcuseServerCpuWaits:
// a starved server closes late). Past the
// window, an EOF on a reused connection whose bytes the server's TCP never
// acknowledged is the race too (RequestRecord::kNeverAcked): the server's
// FIN left before the request arrived.
//
// Event-driven: one Asio io_context on one thread, no thread per connection.
//
// Threading: Start/Stop/Join/MarkFirstSignal and the live counters may be called
// from any thread; TakeRecords/TakeWriteKeys after Join.
#pragma once

#include <atomic>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cpu_wait.h"
#include "placeholders.h"
#include "scenario.h"
#include "timeline.h"

namespace gracecheck {

// One kind of request, with its per-run placeholders already bound.
struct LoadKind {
  int weight = 1;
  std::string method = "GET";
  BoundTemplate path;
  BoundTemplate body;
  std::vector<std::pair<std::string, BoundTemplate>> headers;
  std::optional<BoundTemplate> write_key;
  StatusSet expect_status = StatusSet::Successful();
};

struct LoadOptions {
  LoadModel model = LoadModel::kOpen;
  double rate_per_second = 100;  // open model
  int connections = 32;
  Duration duration = std::chrono::seconds(5);
  std::size_t max_requests = 0;  // 0: no limit besides the duration
  bool keep_alive = true;
  Duration timeout = std::chrono::seconds(5);
  std::vector<LoadKind> kinds;  // at least one
  std::string host = "127.0.0.1";
  int port = 0;
  std::uint64_t seed = 1;
  std::string key_prefix = "gc";                         // {key} = key_prefix + "-" + request id
  Duration race_window = std::chrono::milliseconds(10);  // docs/DESIGN.md: measured
};

// The outcome of a request whose connection could not be established, by
// the connect error: kRefused when the server never took the connection
// (ECONNREFUSED; or ECONNRESET/ECONNABORTED, a handshake cut short because
// the listener closed with the connection still in its queue: nothing was
// written, so a client retries it like a refusal); kReset otherwise.
// A local error of the client itself (no fd, no memory, no buffer, no
// local port) is kClientError whatever it met.
Outcome ConnectFailureOutcome(const boost::system::error_code& ec);

// True for the errors that are the client's own resources running out
// (EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL): kClientError.
bool IsClientError(const boost::system::error_code& ec);

// The outcome of a request that could not be written (EPIPE/ECONNRESET: the
// server's close or reset was in before the write): the server never read a
// byte of it, so it is not a drop. On a reused connection that is the
// keep-alive race (kIdleClosed); on a new one, the connection the kernel
// completed but the server never took (its listener closed with it in the
// accept queue), which a client retries like a refusal (kRefused).
Outcome WriteFailureOutcome(std::uint16_t reuse);

// The outcome of a request that got no response byte before the connection
// closed (EOF when `eof`, else a reset), `quick` when the close came within
// the race window of the write: the keep-alive race on a reused connection
// (kIdleClosed); on a new one, a quick reset is the listener closing with
// the connection still in its accept queue (the kernel resets every queued
// connection), which the server never took (kRefused); a quick EOF on a new
// connection is a server that accepted it and closed it: a drop.
// `never_acked`: the EOF came from a server whose TCP had not acknowledged
// the request (PeerAckedBytes): it closed before the request reached it, so
// on a reused connection that is the race whatever the timing.
Outcome NoResponseOutcome(std::uint16_t reuse, bool quick, bool eof, bool never_acked = false);

// After the load: the requests that got no response byte and were judged
// with the close past the race window (a drop; on a new connection, a reset
// not taken for a refusal) are judged again with the window leaving out the
// longest wait for a CPU of any one of the server's threads over their
// write-to-close (`waits`), when that is longer than the generator's own
// stalls there (`stalls`). Not both added: when the whole machine is
// starved both happen at once, and counting the same wait twice would
// excuse a drop. A request whose outcome changes gains
// RequestRecord::kServerCpuWait and an entry in `left_out` (request id ->
// the wait). Returns how many changed.
int ExcuseServerCpuWaits(std::vector<RequestRecord>* records,
                         const std::vector<std::pair<Nanos, Nanos>>& stalls, const CpuWaits& waits,
                         Duration race_window, std::map<std::uint32_t, Nanos>* left_out);

// Binds a scenario's load section for one run.
std::optional<LoadOptions> MakeLoadOptions(const LoadSpec& spec, const RunValues& values,
                                           std::string* error);

// The load as a run drives it (run.h); LoadGenerator is the real one, a unit
// test's fake stands in for it (run_seams_test.cc).
class Load {
 public:
  virtual ~Load() = default;
  virtual const LoadOptions& options() const = 0;
  // Begins now, on the generator's own thread.
  virtual void Start() = 0;
  // No new requests from now on; those in flight finish (or time out).
  virtual void Stop() = 0;
  // Open model only: arrivals from now on at this rate (false otherwise).
  virtual bool SetRate(double per_second) = 0;
  // Waits until the load is over: duration elapsed or Stop, and nothing in flight.
  virtual void Join() = 0;
  // Requests started from `t` on are flagged kAfterSignal.
  virtual void MarkFirstSignal(Nanos t) = 0;

  // Live figures.
  virtual int inflight() const = 0;
  virtual std::uint64_t completed() const = 0;
  virtual std::uint64_t count(Outcome o) const = 0;
  virtual Nanos started_at() const = 0;
  virtual Nanos ended_at() const = 0;

  virtual std::vector<RequestRecord> TakeRecords() = 0;
  virtual std::vector<WriteKey> TakeWriteKeys() = 0;
  // After Join: how many requests failed with each client error (errno ->
  // count); empty when the generator never ran out of anything.
  virtual std::map<int, std::uint64_t> ClientErrors() const = 0;
  // After Join: every stretch [from, to] the generator's loop ran late by
  // more than 0.2 ms (not scheduled, stopped, or busy with other handlers),
  // in order: a moment it stamped within one may be late by its overlap.
  virtual std::vector<std::pair<Nanos, Nanos>> TakeStalls() = 0;
};

class LoadGenerator : public Load {
 public:
  using Clock = std::chrono::steady_clock;

  // `epoch` is the run's time zero (Timeline).
  LoadGenerator(LoadOptions options, Clock::time_point epoch);
  ~LoadGenerator() override;  // stops and joins

  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  const LoadOptions& options() const override { return options_; }
  void Start() override;
  void Stop() override;
  bool SetRate(double per_second) override;
  void Join() override;
  void MarkFirstSignal(Nanos t) override { fault_at_.store(t); }

  int inflight() const override { return inflight_.load(std::memory_order_relaxed); }
  std::uint64_t completed() const override { return completed_.load(std::memory_order_relaxed); }
  std::uint64_t count(Outcome o) const override {
    return outcome_counts_[static_cast<int>(o)].load(std::memory_order_relaxed);
  }
  Nanos started_at() const override { return started_at_.load(); }
  Nanos ended_at() const override { return ended_at_.load(); }

  std::vector<RequestRecord> TakeRecords() override;
  std::vector<WriteKey> TakeWriteKeys() override;
  std::map<int, std::uint64_t> ClientErrors() const override;
  std::vector<std::pair<Nanos, Nanos>> TakeStalls() override;

  class Engine;  // the Asio side, in load.cc

 private:
  LoadOptions options_;
  Clock::time_point epoch_;
  std::unique_ptr<Engine> engine_;
  std::thread thread_;
  std::atomic<int> inflight_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> outcome_counts_[kOutcomeCount] = {};
  std::atomic<Nanos> fault_at_{kNever};
  std::atomic<Nanos> started_at_{kNever};
  std::atomic<Nanos> ended_at_{kNever};
};

}  // namespace gracecheck
