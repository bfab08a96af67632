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

  // Serves on a new "http-accept" thread until stop(). `on_exit` runs on that
  // thread when the library's listen loop has returned, i.e. after every
  // worker finished.
  void Start(std::function<void(bool ok)> on_exit);
  // Closes the listener (new connects: ECONNREFUSED) without resetting the
  // connections the kernel had already completed: see http_server.cc.
  // Call once, from any thread, after Start().
  void StopAccepting();
  // Waits until the listen loop has returned; false if `deadline` came first.
  bool WaitUntilStopped(std::chrono::steady_clock::time_point deadline);
  // Joins the accept thread; call only after WaitUntilStopped() returned true.
  void Join();

  ConnectionTracker& connections() { return connections_; }

 private:
  bool process_and_close_socket(socket_t sock) override;

  ConnectionTracker connections_;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace gracecheck::refapi
