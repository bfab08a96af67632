// Where each of the HTTP server's connections stands, so that shutdown can
// wait for exactly the requests it still owes a response to and close
// exactly the connections that owe nothing.
//
//   queued ──► fresh ──► active ◄──► idle ──► closed
//   (accepted,   (waiting for    (reading, handling,   (between requests
//    no worker)   its first       writing a request)    on keep-alive)
//                 request)
//
// Shutdown happens in two moves: StopKeepAlive() (every later response says
// "Connection: close" and its connection closes after it) and CloseIdle()
// (idle connections close now, and connections that would turn idle close
// instead; fresh ones still get their first request). Idle waits watch
// wakeup_fd(), which becomes readable for good at CloseIdle(), so no worker
// has to poll a flag.
//
// Threading: every member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

namespace gracecheck::refapi {

class ConnectionTracker {
 public:
  enum class State { kQueued, kFresh, kActive, kIdle };

  struct Counts {
    std::size_t queued = 0;
    std::size_t fresh = 0;
    std::size_t active = 0;
    std::size_t idle = 0;
    std::size_t closed_idle = 0;  // connections closed by CloseIdle() while idle

    // Requests the server may still owe a response to: a queued or fresh
    // connection's first request may already be on its way.
    std::size_t in_flight() const { return queued + fresh + active; }
    std::size_t open() const { return queued + fresh + active + idle; }
  };

  ConnectionTracker();  // throws std::system_error if no eventfd
  ~ConnectionTracker();
  ConnectionTracker(const ConnectionTracker&) = delete;
  ConnectionTracker& operator=(const ConnectionTracker&) = delete;

  void Queued();  // a connection was accepted and waits for a worker
  void Move(State from, State to);
  void Closed(State from, bool by_close_idle);

  void StopKeepAlive();
  bool keep_alive_stopped() const;
  void CloseIdle();
  bool closing_idle() const;
  int wakeup_fd() const { return wakeup_fd_; }

  Counts counts() const;
  // Waits until `done(counts())`; false if `deadline` came first.
  bool WaitUntil(const std::function<bool(const Counts&)>& done,
                 std::chrono::steady_clock::time_point deadline);

 private:
  std::size_t& CountOf(State s);
  void NotifyLocked();

  const int wakeup_fd_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Counts counts_;
  bool keep_alive_stopped_ = false;
  bool closing_idle_ = false;
  int waiters_ = 0;
};

}  // namespace gracecheck::refapi
