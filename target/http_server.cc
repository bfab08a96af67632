#include "http_server.h"

#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <thread>

#include "socket_stream.h"
#include "worker_pool.h"

namespace gracecheck::refapi {

namespace {

using State = ConnectionTracker::State;
using Clock = std::chrono::steady_clock;

// cpp-httplib's default is 5 requests per connection; nginx's is 1000.
constexpr std::size_t kMaxRequestsPerConnection = 1000;

// How long StopAccepting() waits for the listen loop to start (it starts at
// once), and then for it to empty the accept queue.
constexpr auto kListenLoopStartLimit = std::chrono::seconds(1);
constexpr auto kAcceptQueueDrainLimit = std::chrono::milliseconds(200);

// Interrupts the accept thread's accept(2) on a shared listener; refapi uses
// it for nothing else, and no other thread ever receives it.
constexpr int kKickSignal = SIGUSR2;

// Set by the post-routing handler when a response told the client
// "Connection: close"; the worker thread then closes after writing it.
thread_local bool t_close_after_response = false;

bool ReadableNow(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

enum class NextRequest { kArrived, kTimedOut, kClosedIdle };

// Waits for the next request on a fresh or idle connection. A fresh
// connection is never closed by CloseIdle(): its first request may be on its
// way (the client connected before the listener closed); it gets the usual
// keep-alive timeout for it, as in Go's Server.Shutdown.
NextRequest WaitForRequest(const SocketStream& stream, State state, Clock::duration timeout,
                           int wakeup_fd) {
  if (stream.HasBufferedInput()) return NextRequest::kArrived;  // pipelined
  const auto deadline = Clock::now() + timeout;
  const bool closable = state == State::kIdle;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd fds[2] = {{stream.socket(), POLLIN, 0}, {wakeup_fd, POLLIN, 0}};
    int n = ::poll(fds, closable ? 2 : 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NextRequest::kTimedOut;
    // Bytes (or EOF, which process_request reads as "client closed").
    if (fds[0].revents != 0) return NextRequest::kArrived;
    // CloseIdle() woke us. Subtleness ahead: the client may have sent a
    // request on this connection in the instant since poll() returned;
    // having arrived, it is served. A request that arrives after this check
    // meets a closed connection: the keep-alive race that every HTTP/1.1
    // server has, and clients retry (RFC 9110 9.2.2).
    if (ReadableNow(stream.socket())) return NextRequest::kArrived;
    return NextRequest::kClosedIdle;
  }
}

}  // namespace

HttpServer::HttpServer(std::size_t workers) {
  new_task_queue = [this, workers] {
    return new WorkerPool(workers, &connections_, [this] { accept_left_ = true; });
  };
  set_tcp_nodelay(true);
  // cpp-httplib 0.11's default options set SO_REUSEPORT (and not
  // SO_REUSEADDR): a second server on the same port binds without error and
  // the kernel splits connections between the two. Refuse to share.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  set_keep_alive_max_count(kMaxRequestsPerConnection);
  set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    if (res.get_header_value("Connection") == "close") {
      t_close_after_response = true;
    } else if (connections_.keep_alive_stopped()) {
      // Shutdown began while this request was being handled: say so, and
      // close after the response instead of waiting for the next request.
      res.headers.erase("Keep-Alive");
      res.set_header("Connection", "close");
      t_close_after_response = true;
    }
  });
}

HttpServer::~HttpServer() {
  if (accept_thread_.joinable()) {
    stop();
    accept_thread_.join();
  }
}

int HttpServer::Bind(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = bind_to_any_port(host);
  } else if (!bind_to_port(host, port)) {
    bound = -1;
  }
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of connects beyond
  // it waits for SYN retransmission (1 s). listen() again only resizes it.
  if (bound > 0 && !stock_) ::listen(svr_sock_, SOMAXCONN);
  return bound > 0 ? bound : -1;
}

void HttpServer::Adopt(int listener) {
  svr_sock_ = listener;
  shared_ = true;
}

void HttpServer::UseStockCppHttplib(std::size_t workers) {
  stock_ = true;
  new_task_queue = [this, workers] { return new WorkerPool(workers, &connections_); };
}

void HttpServer::Start(std::function<void(bool ok)> on_exit, std::function<bool()> gate) {
  WorkerPool* early = nullptr;
  if (gate) {  // every thread now; the library takes this pool when its loop starts
    const auto make = std::move(new_task_queue);
    early = static_cast<WorkerPool*>(make());
    new_task_queue = [early] { return early; };
  }
  accept_thread_ = std::thread([this, early, gate = std::move(gate), on_exit = std::move(on_exit)] {
    pthread_setname_np(pthread_self(), "http-accept");
    bool ok = false;
    if (!gate || gate()) {
      ok = listen_after_bind();
    } else {  // never served: the pool goes as the library's loop would let it go
      early->shutdown();
      delete early;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    if (on_exit) on_exit(ok);
  });
}

// Closing a listening socket resets every connection still in its accept
// queue: the client had connected and maybe sent its request, and gets RST
// (measured: about one such drop in 20 shutdowns under connection-per-request
// load). So first make the listener drop new SYNs (the clients retransmit
// theirs after 1 s and are refused, the listener being gone by then) while
// handshakes under way still complete, let the accept loop take everything
// the kernel has queued, and only then close.
void HttpServer::StopAccepting() {
  // cpp-httplib 0.11 ignores stop() until its listen loop runs; a signal
  // right after start may come before that.
  const auto started_by = Clock::now() + kListenLoopStartLimit;
  while (!is_running() && Clock::now() < started_by &&
         !WaitUntilStopped(Clock::now() + std::chrono::milliseconds(1))) {
  }
  if (stock_) {
    stop();
    return;
  }
  const auto give_up = Clock::now() + kAcceptQueueDrainLimit;
  const int listener = svr_sock_;
  // A socket filter on a TCP socket sees the TCP header at offset 0; byte 13
  // holds the flags. Drop SYN without ACK, keep everything else. Accepted
  // sockets inherit the filter; it never matches on them.
  sock_filter drop_syn[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),        // SYN | ACK
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),  // SYN alone?
      BPF_STMT(BPF_RET | BPF_K, 0),                     // drop
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),            // keep all of it
  };
  sock_fprog program{static_cast<unsigned short>(std::size(drop_syn)), drop_syn};
  if (listener >= 0 &&
      ::setsockopt(listener, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0) {
    for (;;) {
      // For a listener, tcpi_unacked is the accept queue's length.
      tcp_info info{};
      socklen_t len = sizeof info;
      if (::getsockopt(listener, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) break;
      if (info.tcpi_unacked == 0 || Clock::now() >= give_up) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  if (shared_) {
    StopSharedListener();
  } else {
    stop();
  }
}

namespace {
void IgnoreKick(int) {}
}  // namespace

// The accept thread may be blocked in accept(2) on the shared socket, which
// close(2) does not wake. Take the socket from the loop (it sees
// INVALID_SOCKET when it next looks), then interrupt accept() with a
// thread-directed signal (it fails with EINTR, or the loop returns, in
// cpp-httplib 0.11 either way), as often as it takes for the loop to leave:
// one kick may land just before the thread enters accept(). A connection it
// takes meanwhile is served as usual.
void HttpServer::StopSharedListener() {
  struct sigaction kick {};
  kick.sa_handler = IgnoreKick;  // no SA_RESTART: accept() returns EINTR
  sigemptyset(&kick.sa_mask);
  ::sigaction(kKickSignal, &kick, nullptr);
  const int listener = svr_sock_.exchange(INVALID_SOCKET);
  const auto give_up = Clock::now() + kListenLoopStartLimit;
  while (!accept_left_ && accept_thread_.joinable() && Clock::now() < give_up) {
    ::pthread_kill(accept_thread_.native_handle(), kKickSignal);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (listener >= 0) ::close(listener);
}

bool HttpServer::WaitUntilStopped(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [this] { return stopped_; });
}

void HttpServer::Join() {
  if (accept_thread_.joinable()) accept_thread_.join();
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  connections_.Move(State::kQueued, State::kFresh);
  State state = State::kFresh;
  // Linux copies TCP_NODELAY from the listener, but say it: without it a
  // response written in two parts waits ~40 ms for the client's delayed ACK.
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  const auto read_timeout =
      std::chrono::seconds(read_timeout_sec_) + std::chrono::microseconds(read_timeout_usec_);
  const auto write_timeout =
      std::chrono::seconds(write_timeout_sec_) + std::chrono::microseconds(write_timeout_usec_);
  SocketStream stream(sock, read_timeout, write_timeout);
  if (connection_observer_) connection_observer_(sock, true);
  bool ok = true;
  bool closed_idle = false;
  for (std::size_t served = 0;; ++served) {
    if (stock_ && svr_sock_ == INVALID_SOCKET) break;
    NextRequest next = WaitForRequest(stream, state, std::chrono::seconds(keep_alive_timeout_sec_),
                                      connections_.wakeup_fd());
    if (next != NextRequest::kArrived) {
      closed_idle = next == NextRequest::kClosedIdle;
      break;
    }
    connections_.Move(state, State::kActive);
    state = State::kActive;
    const bool last = connections_.keep_alive_stopped() || connections_.closing_idle() ||
                      served + 1 >= keep_alive_max_count_;
    bool client_closes = false;
    t_close_after_response = false;
    ok = process_request(stream, last, client_closes, nullptr);
    ok = stream.Flush() && ok;
    if (!ok || last || client_closes || t_close_after_response) break;
    connections_.Move(State::kActive, State::kIdle);
    state = State::kIdle;
  }
  if (connection_observer_) connection_observer_(sock, false);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  connections_.Closed(state, closed_idle);
  return ok;
}

}  // namespace gracecheck::refapi
