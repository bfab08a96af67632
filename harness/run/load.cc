#include "load.h"

#include <fmt/format.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <deque>
#include <random>

#include "http_response.h"
#include "tcp_ack.h"

namespace gracecheck {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

bool IsClientError(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
    case EADDRNOTAVAIL:
      return true;
    default:
      return false;
  }
}

Outcome ConnectFailureOutcome(const boost::system::error_code& ec) {
  if (IsClientError(ec)) return Outcome::kClientError;
  // A reset in the handshake is what a client sees when a server closes its
  // listener with the connection in the accept queue (measured: refapi's
  // stop, at the instant a new connection comes in, in 2 of 50 runs of
  // db-block-during-drain); the server never read a byte of it.
  if (ec == asio::error::connection_refused || ec == asio::error::connection_reset ||
      ec == asio::error::connection_aborted) {
    return Outcome::kRefused;
  }
  return Outcome::kReset;
}

namespace {

// Whether a close seen at `done` came within the race window of the write
// at `written`, once `left_out` (time no one could act: the generator's
// stalls, or the server's wait for a CPU) is left out. The generator asks
// as it sees the close; ExcuseServerCpuWaits again after the run.
bool WithinRaceWindow(Nanos written, Nanos done, Nanos left_out, Duration window) {
  return done - written - left_out <= window.count();
}

}  // namespace

Outcome NoResponseOutcome(std::uint16_t reuse, bool quick, bool eof, bool never_acked) {
  if (reuse > 0 && (quick || (eof && never_acked))) return Outcome::kIdleClosed;
  // Measured on a new connection: request 60 of sigterm-then-sigkill written
  // 0.3 ms after the SIGTERM, reset 3 us later (1 of the catalogue's runs in a
  // clean-clone ci/test.sh).
  if (quick && !eof) return Outcome::kRefused;
  return eof ? Outcome::kEof : Outcome::kReset;
}

Outcome WriteFailureOutcome(std::uint16_t reuse) {
  // Measured on a new connection: refapi's stop at the instant request 100 of
  // db-block-during-drain connected, in 3 of 50 runs; the write met the reset.
  // The close came before the write even finished: a reset at once.
  return NoResponseOutcome(reuse, /*quick=*/true, /*eof=*/false, /*never_acked=*/false);
}

int ExcuseServerCpuWaits(std::vector<RequestRecord>* records,
                         const std::vector<std::pair<Nanos, Nanos>>& stalls, const CpuWaits& waits,
                         Duration race_window, std::map<std::uint32_t, Nanos>* left_out) {
  int changed = 0;
  for (std::size_t id = 0; id < records->size(); ++id) {
    RequestRecord& r = (*records)[id];
    const bool eof = r.outcome == Outcome::kEof;
    if ((!eof && r.outcome != Outcome::kReset) || r.first_byte != kNever || r.written == kNever ||
        r.done == kNever) {
      continue;
    }
    const Nanos wait = waits.LongestWait(r.written, r.done);
    const Nanos stalled = OverlapWith(stalls, r.written, r.done);
    if (wait <= stalled) continue;  // the generator's judgement left out as much already
    const bool quick = WithinRaceWindow(r.written, r.done, wait, race_window);
    const Outcome now = NoResponseOutcome(r.reuse, quick, eof, r.has(RequestRecord::kNeverAcked));
    if (now == r.outcome) continue;
    r.outcome = now;
    r.flags |= RequestRecord::kServerCpuWait;
    (*left_out)[static_cast<std::uint32_t>(id)] = wait;
    ++changed;
  }
  return changed;
}

std::optional<LoadOptions> MakeLoadOptions(const LoadSpec& spec, const RunValues& values,
                                           std::string* error) {
  LoadOptions o;
  o.model = spec.model;
  o.rate_per_second = spec.rate ? spec.rate->per_second : 0;
  o.connections = spec.connections;
  o.duration = spec.duration;
  o.keep_alive = spec.keep_alive;
  o.timeout = spec.timeout;
  o.port = values.port;
  for (const RequestSpec& r : spec.requests) {
    LoadKind k;
    k.weight = r.weight;
    k.method = r.method;
    k.expect_status = r.expect_status;
    auto bind = [&](const Template& t) -> std::optional<BoundTemplate> {
      return t.Bind(values, error);
    };
    auto path = bind(r.path);
    auto body = bind(r.body);
    if (!path || !body) return std::nullopt;
    k.path = *path;
    k.body = *body;
    for (const auto& [name, value] : r.headers) {
      auto v = bind(value);
      if (!v) return std::nullopt;
      k.headers.emplace_back(name, *v);
    }
    if (r.write_key) {
      auto v = bind(*r.write_key);
      if (!v) return std::nullopt;
      k.write_key = *v;
    }
    o.kinds.push_back(std::move(k));
  }
  return o;
}

// Subtleness ahead: every handler runs on the one io_context thread, so the
// engine's state needs no locks; a Connection is kept alive by the
// shared_ptr its pending operations hold, and a request is finished exactly
// once because Finish checks that the connection still carries it (a timeout
// and a read error can both fire for the same request).
class LoadGenerator::Engine {
 public:
  Engine(LoadGenerator& owner, const LoadOptions& options, Clock::time_point epoch)
      : owner_(owner),
        o_(options),
        epoch_(epoch),
        arrivals_(io_),
        heartbeat_(io_),
        rng_(options.seed),
        endpoint_(asio::ip::make_address(options.host), static_cast<unsigned short>(options.port)) {
    for (const LoadKind& k : o_.kinds) total_weight_ += k.weight;
    // Room for every record up front, so that the vector never reallocates:
    // a reallocation holds old and new copies at once (3x the records at
    // the peak). Reserved address space costs nothing until written (the
    // pages are mapped lazily), so the closed model, whose rate is not
    // known, reserves for 500k requests/s (beyond what loopback HTTP/1.1
    // reaches here: wrk does ~60k/s against refapi): resident memory stays
    // one RequestRecord (56 bytes) per request made.
    const double seconds = std::chrono::duration<double>(o_.duration).count();
    const double expected =
        o_.model == LoadModel::kOpen ? o_.rate_per_second * seconds * 1.1 : 500'000.0 * seconds;
    const double cap = o_.max_requests > 0 ? static_cast<double>(o_.max_requests) : 20e6;
    records_.reserve(static_cast<std::size_t>(std::min(expected, cap) + 64));
  }

  void Run() {
    start_ = Now();
    owner_.started_at_.store(start_);
    end_ = start_ + o_.duration.count();
    if (o_.model == LoadModel::kOpen) {
      interval_ns_ = 1e9 / o_.rate_per_second;
      ScheduleArrivals();
    } else {
      for (int i = 0; i < o_.connections && !AtRequestLimit(); ++i) Dispatch(NewRequest(Now()));
    }
    beat_due_ = Now();
    Beat();
    io_.run();
    owner_.ended_at_.store(Now());
  }

  void SetRate(double per_second) {
    asio::post(io_, [this, per_second] {
      if (o_.model != LoadModel::kOpen || stopping_ || arrivals_done_) return;
      ++arrival_generation_;  // the cancelled wait must not end the arrivals
      arrivals_.cancel();
      start_ = Now();
      arrivals_made_ = 0;
      interval_ns_ = 1e9 / per_second;
      ScheduleArrivals();
    });
  }

  void Stop() {
    asio::post(io_, [this] {
      stopping_ = true;
      arrivals_.cancel();
      MaybeFinish();
    });
  }

  std::vector<RequestRecord> records_;
  std::vector<WriteKey> write_keys_;
  std::map<int, std::uint64_t> client_errors_;       // errno -> requests
  std::vector<std::pair<Nanos, Nanos>> all_stalls_;  // [due, ran] of every late beat, in order

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io), timer(io) {}
    std::uint32_t id = 0;
    tcp::socket socket;
    asio::steady_timer timer;
    std::uint16_t used = 0;  // requests completed on it
    bool prev_close = false;
    int request = -1;  // index into records_ of the request it carries
    bool open = true;
    ResponseParser parser;
    std::array<char, 16 * 1024> buf;
    std::string out;
    std::uint64_t bytes_written = 0;  // over all its requests, for PeerAckedBytes
  };
  using ConnPtr = std::shared_ptr<Connection>;

  Nanos Now() const { return (Clock::now() - epoch_).count(); }

  bool AtRequestLimit() const { return o_.max_requests > 0 && records_.size() >= o_.max_requests; }

  int NewRequest(Nanos intended) {
    const auto id = static_cast<int>(records_.size());
    RequestRecord r;
    r.intended = intended;
    int pick = static_cast<int>(rng_() % static_cast<std::uint64_t>(total_weight_));
    std::uint16_t kind = 0;
    while (pick >= o_.kinds[kind].weight) pick -= o_.kinds[kind++].weight;
    r.kind = kind;
    records_.push_back(r);
    owner_.inflight_.fetch_add(1, std::memory_order_relaxed);
    return id;
  }

  void ScheduleArrivals() {
    const Nanos next =
        start_ + static_cast<Nanos>(static_cast<double>(arrivals_made_) * interval_ns_);
    if (stopping_ || next >= end_ || AtRequestLimit()) {
      arrivals_done_ = true;
      MaybeFinish();
      return;
    }
    arrivals_.expires_at(epoch_ + Duration(next));
    arrivals_.async_wait([this, generation = arrival_generation_](boost::system::error_code ec) {
      if (generation != arrival_generation_) return;  // replaced by SetRate
      if (ec) {
        arrivals_done_ = true;
        MaybeFinish();
        return;
      }
      // Catch up on every arrival that is due: each keeps its intended time.
      const Nanos now = Now();
      while (!stopping_) {
        const Nanos intended =
            start_ + static_cast<Nanos>(static_cast<double>(arrivals_made_) * interval_ns_);
        if (intended > now || intended >= end_ || AtRequestLimit()) break;
        ++arrivals_made_;
        Dispatch(NewRequest(intended));
      }
      ScheduleArrivals();
    });
  }

  // A connection the server closed while it sat idle: a non-blocking peek
  // sees the FIN (0) or the RST (ECONNRESET); a response nobody asked for
  // makes it unusable too.
  static bool PeerClosed(tcp::socket& s) {
    char c;
    ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }

  void Dispatch(int r) {
    while (!idle_.empty()) {
      ConnPtr c = idle_.back();
      idle_.pop_back();
      if (PeerClosed(c->socket)) {
        records_[r].flags |= RequestRecord::kClosedBeforeWrite;
        Close(c);
        continue;
      }
      Send(c, r);
      return;
    }
    if (open_ < o_.connections) {
      ConnPtr c = std::make_shared<Connection>(io_);
      c->id = next_connection_id_++;
      c->request = r;
      // Our own socket, so that it is close-on-exec from birth (Asio's
      // socket() has no SOCK_CLOEXEC: a target spawned meanwhile would hold
      // a copy, and its peer would never see this side close) and so that
      // running out of fds is told apart from the server resetting.
      const int fd = ::socket(endpoint_.protocol().family(),
                              SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
      boost::system::error_code open_error;
      if (fd < 0) {
        open_error.assign(errno, boost::system::system_category());
      } else if (c->socket.assign(endpoint_.protocol(), fd, open_error)) {
        ::close(fd);
      }
      if (open_error) {
        // Not Close(c): that pumps the queue, which would come straight
        // back here for every queued request, recursively.
        c->open = false;
        FailLocally(c, open_error);
        return;
      }
      ++open_;
      ArmTimer(c, r);
      c->socket.async_connect(endpoint_, [this, c, r](boost::system::error_code ec) {
        if (c->request != r) return;  // timed out meanwhile
        if (ec) {
          if (IsClientError(ec)) ++client_errors_[ec.value()];
          Finish(c, ConnectFailureOutcome(ec));
          Close(c);
          return;
        }
        records_[r].connected = Now();
        c->socket.set_option(tcp::no_delay(true));
        Write(c, r);
      });
      return;
    }
    pending_.push_back(r);
  }

  void Send(const ConnPtr& c, int r) {
    c->request = r;
    ArmTimer(c, r);
    Write(c, r);
  }

  void ArmTimer(const ConnPtr& c, int r) {
    c->timer.expires_after(o_.timeout);
    c->timer.async_wait([this, c, r](boost::system::error_code ec) {
      if (ec || c->request != r) return;
      Finish(c, Outcome::kTimeout);
      Close(c);
    });
  }

  void BuildRequest(const ConnPtr& c, int r) {
    RequestRecord& rec = records_[r];
    const LoadKind& k = o_.kinds[rec.kind];
    key_ = fmt::format("{}-{}", o_.key_prefix, r);
    RequestValues values{key_, &rng_};
    std::string& out = c->out;
    out.clear();
    out += k.method;
    out += ' ';
    k.path.AppendTo(&out, values);
    out += " HTTP/1.1\r\nHost: ";
    out += o_.host;
    out += ':';
    out += std::to_string(o_.port);
    out += "\r\nUser-Agent: gracecheck\r\n";
    if (!o_.keep_alive) out += "Connection: close\r\n";
    bool has_type = false;
    for (const auto& [name, value] : k.headers) {
      out += name;
      out += ": ";
      value.AppendTo(&out, values);
      out += "\r\n";
      if (name.size() == 12 && strncasecmp(name.c_str(), "Content-Type", 12) == 0) has_type = true;
    }
    body_.clear();
    k.body.AppendTo(&body_, values);
    if (!body_.empty() || k.method == "POST" || k.method == "PUT" || k.method == "PATCH") {
      out += fmt::format("Content-Length: {}\r\n", body_.size());
      if (!body_.empty() && !has_type) out += "Content-Type: application/json\r\n";
    }
    out += "\r\n";
    out += body_;
    if (k.write_key)
      write_keys_.push_back({static_cast<std::uint32_t>(r), k.write_key->Expand(values)});
    c->parser.Reset(k.method == "HEAD");
  }

  void Write(const ConnPtr& c, int r) {
    RequestRecord& rec = records_[r];
    rec.connection = c->id;
    rec.reuse = c->used;
    if (c->prev_close) rec.flags |= RequestRecord::kPrevConnectionClose;
    BuildRequest(c, r);
    asio::async_write(c->socket, asio::buffer(c->out),
                      [this, c, r](boost::system::error_code ec, std::size_t n) {
                        c->bytes_written += n;
                        if (c->request != r) return;
                        if (ec) {
                          records_[r].flags |= RequestRecord::kWriteFailed;
                          if (IsClientError(ec)) {
                            ++client_errors_[ec.value()];
                            Finish(c, Outcome::kClientError);
                          } else {
                            Finish(c, WriteFailureOutcome(records_[r].reuse));
                          }
                          Close(c);
                          return;
                        }
                        records_[r].written = Now();
                        Read(c, r);
                      });
  }

  void Read(const ConnPtr& c, int r) {
    c->socket.async_read_some(asio::buffer(c->buf), [this, c, r](boost::system::error_code ec,
                                                                 std::size_t n) {
      if (c->request != r) return;
      RequestRecord& rec = records_[r];
      if (n > 0) {
        if (rec.first_byte == kNever) rec.first_byte = Now();
        c->parser.Feed(c->buf.data(), n);
        if (c->parser.complete()) {
          const bool expected = o_.kinds[rec.kind].expect_status.Contains(c->parser.status());
          Finish(c, expected ? Outcome::kOk : Outcome::kHttpError);
          c->used++;
          c->prev_close = c->parser.connection_close();
          if (o_.keep_alive && !c->prev_close) {
            Release(c);
          } else {
            Close(c);
          }
          return;
        }
        if (c->parser.failed()) {
          Finish(c, Outcome::kHttpError);  // not HTTP: answered, but not properly
          Close(c);
          return;
        }
      }
      if (!ec) {
        Read(c, r);
        return;
      }
      if (IsClientError(ec)) {
        ++client_errors_[ec.value()];
        Finish(c, Outcome::kClientError);
      } else if (ec == asio::error::eof && c->parser.FinishAtEof()) {
        const bool expected = o_.kinds[rec.kind].expect_status.Contains(c->parser.status());
        Finish(c, expected ? Outcome::kOk : Outcome::kHttpError);
      } else if (c->parser.started()) {
        Finish(c, Outcome::kTruncated);
      } else {
        // No response byte, and the close came right after the write
        // ("right after" leaves out the time this loop was stalled: a
        // starved generator sees a close late, not the server closing
        // late). On a reused connection the server closed it as idle
        // while the request was on its way: the keep-alive race. On a new
        // one, a reset is the listener closing with the connection still
        // in its accept queue: never taken, like a refused connect.
        //
        // Past that window, a close (FIN) whose sender had not
        // acknowledged the request was sent before the request reached
        // it: the server cannot have read it, however late the client
        // noticed. (A reset proves nothing: a server's abortive close
        // does not acknowledge what it read.)
        const Nanos now = Now();
        const bool quick =
            WithinRaceWindow(rec.written, now, StalledBetween(rec.written, now), o_.race_window);
        const bool eof = ec == asio::error::eof;
        // Recorded whatever it is judged: a keep-alive race excused by
        // the window says which kind of close it was.
        if (!eof) rec.flags |= RequestRecord::kByReset;
        if (eof) {
          const std::optional<std::uint64_t> acked = PeerAckedBytes(c->socket.native_handle());
          if (acked && *acked < c->bytes_written) rec.flags |= RequestRecord::kNeverAcked;
        }
        Finish(c, NoResponseOutcome(rec.reuse, quick, eof, rec.has(RequestRecord::kNeverAcked)));
      }
      Close(c);
    });
  }

  void Finish(const ConnPtr& c, Outcome outcome) {
    RequestRecord& rec = records_[c->request];
    c->request = -1;
    c->timer.cancel();
    rec.done = Now();
    rec.outcome = outcome;
    rec.status = static_cast<std::int16_t>(c->parser.status());
    rec.bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(c->parser.bytes(), UINT32_MAX));
    const Nanos fault = owner_.fault_at_.load(std::memory_order_relaxed);
    // Sent = when it went on the wire; one that never got there (refused,
    // failed write) was attempted just now, which may be long after its
    // intended start if it waited for a free connection.
    const Nanos started = rec.written != kNever ? rec.written : rec.done;
    if (fault != kNever && started >= fault) rec.flags |= RequestRecord::kAfterSignal;
    owner_.outcome_counts_[static_cast<int>(outcome)].fetch_add(1, std::memory_order_relaxed);
    owner_.completed_.fetch_add(1, std::memory_order_relaxed);
    owner_.inflight_.fetch_sub(1, std::memory_order_relaxed);
    // Closed model: this connection's loop goes on (not after a client
    // error: it would spin on the same missing resource; the run is invalid
    // anyway).
    if (o_.model == LoadModel::kClosed && outcome != Outcome::kClientError && !stopping_ &&
        Now() < end_ && !AtRequestLimit()) {
      closed_next_.push_back(NewRequest(Now()));
    }
  }

  // A request that could not even get a socket.
  void FailLocally(const ConnPtr& c, const boost::system::error_code& ec) {
    ++client_errors_[ec.value()];
    Finish(c, Outcome::kClientError);
    MaybeFinish();
  }

  void Release(const ConnPtr& c) {
    idle_.push_back(c);
    Pump();
  }

  void Close(const ConnPtr& c) {
    if (!c->open) return;
    c->open = false;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    c->timer.cancel();
    --open_;
    Pump();
  }

  // Hands queued requests to free connections.
  void Pump() {
    while (!closed_next_.empty()) {
      int r = closed_next_.front();
      closed_next_.pop_front();
      pending_.push_front(r);
    }
    while (!pending_.empty() && (!idle_.empty() || open_ < o_.connections)) {
      int r = pending_.front();
      pending_.pop_front();
      Dispatch(r);
    }
    MaybeFinish();
  }

  // The loop's heartbeat: a beat every kBeat; one that runs more than
  // kStallMin late means the loop ran no handler from its due time until
  // then (the process was not scheduled, or stopped, or the loop was busy),
  // and that stall is remembered (all of them: the checks discount them too).
  static constexpr Nanos kBeat = 1'000'000;
  static constexpr Nanos kStallMin = 200'000;

  void Beat() {
    const Nanos now = Now();
    // A closed model whose every connection died of a client error has no
    // request left to end it.
    if (o_.model == LoadModel::kClosed && now >= end_) MaybeFinish();
    if (finished_) return;
    if (now - beat_due_ > kStallMin) all_stalls_.emplace_back(beat_due_, now);
    beat_due_ = now + kBeat;
    heartbeat_.expires_at(epoch_ + Duration(beat_due_));
    heartbeat_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Beat();
    });
  }

  // How long of [from, to] the loop was stalled, including a stall still
  // going on (the beat overdue now: its handler may simply come after this
  // one in the batch the loop woke up with).
  Nanos StalledBetween(Nanos from, Nanos to) const {
    auto overlap = [from, to](Nanos a, Nanos b) {
      return std::max<Nanos>(0, std::min(b, to) - std::max(a, from));
    };
    const Nanos ongoing = to - beat_due_ > kStallMin ? overlap(beat_due_, to) : 0;
    return ongoing + OverlapWith(all_stalls_, from, to);
  }

  void MaybeFinish() {
    const bool no_more =
        stopping_ ||
        (o_.model == LoadModel::kOpen ? arrivals_done_ : Now() >= end_ || AtRequestLimit());
    if (!no_more || owner_.inflight_.load() != 0 || !pending_.empty()) return;
    finished_ = true;
    heartbeat_.cancel();
    arrivals_.cancel();
    for (const ConnPtr& c : idle_) {
      boost::system::error_code ignored;
      c->socket.close(ignored);
    }
    idle_.clear();
  }

  LoadGenerator& owner_;
  LoadOptions o_;
  Clock::time_point epoch_;
  asio::io_context io_;
  asio::steady_timer arrivals_;
  asio::steady_timer heartbeat_;
  Nanos beat_due_ = 0;
  bool finished_ = false;
  std::mt19937_64 rng_;
  tcp::endpoint endpoint_;
  int total_weight_ = 0;
  Nanos start_ = 0;
  Nanos end_ = 0;
  double interval_ns_ = 0;
  std::uint64_t arrivals_made_ = 0;
  std::uint64_t arrival_generation_ = 0;
  bool arrivals_done_ = false;
  bool stopping_ = false;
  int open_ = 0;
  std::uint32_t next_connection_id_ = 0;
  std::vector<ConnPtr> idle_;
  std::deque<int> pending_;
  std::deque<int> closed_next_;
  std::string key_;
  std::string body_;
};

LoadGenerator::LoadGenerator(LoadOptions options, Clock::time_point epoch)
    : options_(std::move(options)), epoch_(epoch) {}

LoadGenerator::~LoadGenerator() {
  if (thread_.joinable()) {
    LoadGenerator::Stop();
    thread_.join();
  }
}

void LoadGenerator::Start() {
  engine_ = std::make_unique<Engine>(*this, options_, epoch_);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "gc-load");
    engine_->Run();
  });
}

void LoadGenerator::Stop() {
  if (engine_) engine_->Stop();
}

bool LoadGenerator::SetRate(double per_second) {
  if (!engine_ || options_.model != LoadModel::kOpen || per_second <= 0) return false;
  engine_->SetRate(per_second);
  return true;
}

void LoadGenerator::Join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<RequestRecord> LoadGenerator::TakeRecords() {
  return engine_ ? std::move(engine_->records_) : std::vector<RequestRecord>{};
}

std::map<int, std::uint64_t> LoadGenerator::ClientErrors() const {
  return engine_ ? engine_->client_errors_ : std::map<int, std::uint64_t>{};
}

std::vector<std::pair<Nanos, Nanos>> LoadGenerator::TakeStalls() {
  return engine_ ? std::move(engine_->all_stalls_) : std::vector<std::pair<Nanos, Nanos>>{};
}

std::vector<WriteKey> LoadGenerator::TakeWriteKeys() {
  return engine_ ? std::move(engine_->write_keys_) : std::vector<WriteKey>{};
}

}  // namespace gracecheck
