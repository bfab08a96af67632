// refapi's HTTP server: cpp-httplib 0.11's Server with its connection loop
// replaced, so that shutdown can close idle keep-alive connections without
// cutting a request that is under way.
//
// cpp-httplib 0.11's stop() closes the listener only: each idle keep-alive
// connection keeps its worker until keep_alive_timeout (5 s) runs out and is
// served if a request comes meanwhile, and a connection still waiting for a
// worker is closed unanswered. The library runs every accepted connection
// through the virtual Server::process_and_close_socket(); this class
// overrides it with a loop of its own (keep-alive wait, then the library's
// process_request() per request) that reports each connection's state to a
// ConnectionTracker and waits for the next request on the socket and on the
// tracker's wakeup fd at once. Routing, parsing and writing stay the
// library's.
//
// Threading: Start() once from the main thread; it serves from an
// "http-accept" thread and WorkerPool threads. StopAccepting(),
// connections() and the Wait/Join members may be called from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "connection_tracker.h"

namespace gracecheck::refapi {

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(std::size_t workers);
  ~HttpServer() override;

  // Binds (port 0: any free port) with a listen backlog of SOMAXCONN; returns
  // the bound port, or -1.
  int Bind(const std::string& host, int port);
  // Pre-fork mode (prefork.h): serve on `listener`, a listening socket that
  // other processes share, instead of Bind(). StopAccepting() then closes
  // only this process's descriptor: a shutdown(2) of the socket, as
  // cpp-httplib's stop() does, would stop every process listening on it.
  void Adopt(int listener);

  // Serves on a new "http-accept" thread until stop(). `on_exit` runs on that
  // thread when the library's listen loop has returned, i.e. after every
  // worker finished. With a `gate` (pre-fork workers), every thread starts
  // at once and the accept thread calls `gate` first: it serves if that
  // returns true, else `on_exit(false)` with nothing served.
  void Start(std::function<void(bool ok)> on_exit, std::function<bool()> gate = {});
  // Closes the listener (new connects: ECONNREFUSED) without resetting the
  // connections the kernel had already completed: see http_server.cc.
  // Call once, from any thread, after Start().
  void StopAccepting();
  // Waits until the listen loop has returned; false if `deadline` came first.
  bool WaitUntilStopped(std::chrono::steady_clock::time_point deadline);
  // Joins the accept thread; call only after WaitUntilStopped() returned true.
  void Join();

  ConnectionTracker& connections() { return connections_; }

  // Hooks for refapi's deliberate bugs (bugs.h); the correct server sets
  // neither. Call both before Bind().
  //
  // --bug=small-backlog: behave as stock cpp-httplib 0.11 does: `workers`
  // threads, the library's listen backlog of 5, StopAccepting() a plain
  // stop() (the kernel resets the connections in the accept queue), and a
  // connection that gets its worker after stop() closed without its request
  // being read (the library's loop checks the listener before each request).
  void UseStockCppHttplib(std::size_t workers);
  // --bug=reset-keepalive: called on the worker with a connection's socket
  // when the worker takes it (open) and before it closes it (!open).
  void set_connection_observer(std::function<void(int sock, bool open)> observer) {
    connection_observer_ = std::move(observer);
  }

 private:
  void StopSharedListener();
  bool process_and_close_socket(socket_t sock) override;

  ConnectionTracker connections_;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool stock_ = false;
  bool shared_ = false;                   // Adopt(): the listener is shared with other processes
  std::atomic<bool> accept_left_{false};  // the listen loop has left accept()
  std::function<void(int sock, bool open)> connection_observer_;
};

}  // namespace gracecheck::refapi
