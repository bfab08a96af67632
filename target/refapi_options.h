// refapi's command line: what the server listens on, which database it uses,
// how big its pools are, how long its shutdown may take, and which
// deliberate shutdown bugs (bugs.h) it has.
//
// ParseOptions is a pure function (no I/O); safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bugs.h"
#include "duration.h"

namespace gracecheck::refapi {

struct ListenAddress {
  std::string host = "127.0.0.1";  // without brackets, also for IPv6
  int port = 8080;                 // 0: the kernel picks a free port
};

// How the drain treats idle keep-alive connections.
// How the API sends its statements (api.h, UseStatements).
enum class Statements { kPrepared, kInline };

enum class DrainStyle {
  kCloseIdle,       // close them at once (Go's Shutdown): the default
  kWaitForClients,  // leave them to their clients (Node's server.close()):
                    // keep-alive goes on, and the exit waits until every
                    // client has closed its connection, or the keep-alive
                    // timeout (5 s) closed it
};

struct Options {
  ListenAddress listen;
  std::string db_url;  // libpq URL or key=value string; never logged (it may hold a password)
  std::size_t pool_size = 8;
  std::size_t http_workers = 128;  // --threads: HTTP worker threads per process
  // --workers N: pre-fork mode (prefork.h), N worker processes sharing the
  // master's listener, each with its own pool of pool_size; 0: one process.
  std::size_t worker_processes = 0;
  // --buggy-workers K: only the first K workers have `bugs` (the master's
  // own, no-forward, is the master's); 0: all of them.
  std::size_t buggy_workers = 0;
  Duration drain_timeout = std::chrono::seconds(10);
  Duration lame_duck = Duration::zero();
  DrainStyle drain = DrainStyle::kCloseIdle;  // --drain close-idle|wait-for-clients
  Statements statements = Statements::kPrepared;  // --statements prepared|inline
  int exit_code = 0;  // of a graceful shutdown (143: the JVM's after SIGTERM)
  BugSet bugs;        // --bug NAME, repeatable; empty: the correct server
  bool help = false;  // --help: print Usage() and exit 0
};

// Parses `args` (without the program name). Accepts `--name value` and
// `--name=value`. On failure returns false and sets `error` to one line.
bool ParseOptions(const std::vector<std::string_view>& args, Options* options, std::string* error);

// Parses "HOST:PORT" or "[V6HOST]:PORT".
bool ParseListenAddress(std::string_view text, ListenAddress* address, std::string* error);

// "HOST:PORT", with brackets around an IPv6 host.
std::string FormatHostPort(const std::string& host, int port);

std::string Usage();

}  // namespace gracecheck::refapi
