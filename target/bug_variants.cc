#include "bug_variants.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "phase_log.h"

namespace gracecheck::refapi {

namespace {

constexpr auto kHousekeepingInterval = std::chrono::seconds(1);
constexpr auto kPoolWait = std::chrono::seconds(1);
constexpr std::size_t kAuditThreadStack = 64 * 1024;

// leak-threads: what each request's "audit" thread does. It waits for an
// acknowledgement nobody ever sends, like a goroutine blocked on a send to a
// channel nobody reads.
void* AwaitAcknowledgement(void*) {
  static std::mutex mu;
  static std::condition_variable acknowledged;
  std::unique_lock<std::mutex> lock(mu);
  acknowledged.wait(lock, [] { return false; });
  return nullptr;
}

void StartAuditThread() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kAuditThreadStack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  // Named here rather than by the thread itself, so that it shows up named
  // in /proc before the request is answered. It never ends, so the handle
  // stays valid.
  if (pthread_create(&thread, &attr, AwaitAcknowledgement, nullptr) == 0)
    pthread_setname_np(thread, "audit");
  pthread_attr_destroy(&attr);
}

}  // namespace

BugVariants::BugVariants(const Options& options, ConnectionPool& pool, HttpServer& server)
    : options_(options), pool_(pool) {
  const BugSet& bugs = options.bugs;
  if (bugs.Has(Bug::kLeakThreads) || bugs.Has(Bug::kLeakSessions)) {
    server.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      OnRequest();
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  if (bugs.Has(Bug::kHangOnShutdown)) {
    housekeeper_ = std::thread([this] { Housekeep(); });
  }
  if (bugs.Has(Bug::kAckBeforeCommit)) {
    write_behind_ =
        std::make_unique<WriteBehind>(options.db_url, kWriteBehindBatch, kWriteBehindLinger);
    write_behind_->RegisterRoute(server);
  }
  if (bugs.Has(Bug::kResetKeepalive)) {
    server.set_connection_observer([this](int sock, bool open) {
      std::lock_guard<std::mutex> lock(sockets_mu_);
      if (open) {
        sockets_.insert(sock);
      } else {
        sockets_.erase(sock);
      }
    });
  }
  if (bugs.Has(Bug::kSmallBacklog)) {
    server.UseStockCppHttplib(std::min(options.http_workers, kStockCppHttplibWorkers));
  }
}

BugVariants::~BugVariants() {
  {
    std::lock_guard<std::mutex> lock(housekeeper_mu_);
    housekeeper_stop_ = true;
  }
  housekeeper_cv_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
}

void BugVariants::OnRequest() {
  const std::uint64_t n = ++requests_;
  if (options_.bugs.Has(Bug::kLeakThreads)) StartAuditThread();
  if (options_.bugs.Has(Bug::kLeakSessions) && n % kLeakSessionEvery == 0) {
    try {
      // Subtleness ahead, the bug itself: the connection is never deleted,
      // so never closed; the process's exit drops it.
      auto* forgotten = new pqxx::connection(options_.db_url);
      pqxx::nontransaction tx(*forgotten);
      tx.exec("SELECT 1");
    } catch (const std::exception&) {
      // Out of connections, say: the request goes on without its side trip.
    }
  }
}

void BugVariants::Housekeep() {
  pthread_setname_np(pthread_self(), "housekeeper");
  std::unique_lock<std::mutex> lock(housekeeper_mu_);
  while (!housekeeper_cv_.wait_for(lock, kHousekeepingInterval,
                                   [this] { return housekeeper_stop_; })) {
    lock.unlock();
    try {
      if (std::optional<ConnectionPool::Lease> lease = pool_.Acquire(kPoolWait)) {
        pqxx::nontransaction tx(**lease);
        cached_item_count_ = tx.exec1("SELECT count(*) FROM items")[0].as<long long>();
      }
    } catch (const std::exception&) {
      // Try again next time.
    }
    lock.lock();
  }
}

void BugVariants::JoinHousekeeper() {
  // The correct code would set housekeeper_stop_ and notify first.
  if (housekeeper_.joinable()) housekeeper_.join();
}

std::size_t BugVariants::StopWriteBehind() { return write_behind_ ? write_behind_->Stop() : 0; }

std::size_t BugVariants::ResetConnections() {
  std::lock_guard<std::mutex> lock(sockets_mu_);
  std::size_t reset = 0;
  for (int sock : sockets_) {
    linger abort_on_close{1, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    // With SO_LINGER 0, close() would send RST; but the socket's worker still
    // owns it (it may be waiting for a query to answer on it), and closing
    // it here would free its number for reuse under the worker's feet.
    // connect() to AF_UNSPEC aborts a TCP connection the same way (RST) and
    // leaves the descriptor to its worker, which finds it dead.
    sockaddr unspecified{};
    unspecified.sa_family = AF_UNSPEC;
    if (::connect(sock, &unspecified, sizeof unspecified) == 0) ++reset;
  }
  return reset;
}

void LeaveTransactionOpen(ConnectionPool& pool) {
  std::optional<ConnectionPool::Lease> lease = pool.Acquire(kPoolWait);
  if (!lease) {
    LogPhase("transaction_not_opened", "reason=no_free_connection");
    return;
  }
  try {
    std::unique_ptr<pqxx::connection> connection = pool.Hijack(std::move(*lease));
    // A shutdown note under the instance's advisory lock; the COMMIT never
    // comes. Subtleness ahead, the bug itself: neither the transaction (whose
    // destructor would roll back) nor the connection (whose destructor would
    // close it) is ever destroyed.
    auto* note = new pqxx::work(*connection, "shutdown_note");
    note->exec("SELECT pg_advisory_xact_lock(hashtext('refapi-shutdown'))");
    const int backend = connection->backendpid();
    static_cast<void>(connection.release());  // never deleted: the bug
    LogPhase("transaction_left_open", fmt::format("backend_pid={}", backend));
  } catch (const std::exception&) {
    LogPhase("transaction_not_opened", "reason=database_error");
  }
}

pid_t StartOrphanHelper(const std::string& db_url) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The helper. refapi is single-threaded here, so it may do anything.
  ::prctl(PR_SET_NAME, "refapi-helper");
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  try {
    pqxx::connection connection(db_url);
    const auto give_up = std::chrono::steady_clock::now() + kOrphanHelperLifetime;
    while (std::chrono::steady_clock::now() < give_up) {
      pqxx::nontransaction tx(connection);
      tx.exec("SELECT 1");  // "keeps the cache warm"
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  } catch (const std::exception&) {
  }
  ::_exit(0);
}

}  // namespace gracecheck::refapi
