#include "interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gracecheck::interrupt {

namespace {

std::atomic<int> g_signal{0};
std::mutex g_mu;
std::condition_variable g_cv;

void Deliver(int sig) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_signal.store(sig);
  }
  g_cv.notify_all();
}

}  // namespace

void Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      pthread_setname_np(pthread_self(), "gc-signals");
      while (true) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (Requested()) {
          static const char kMsg[] = "gracecheck: interrupted again, exiting now\n";
          ssize_t n = ::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
          (void)n;
          ::_exit(kExitCode);
        }
        Deliver(sig);
      }
    }).detach();
  });
}

bool Requested() { return g_signal.load() != 0; }

int Signal() { return g_signal.load(); }

bool SleepFor(Duration d) {
  std::unique_lock<std::mutex> lock(g_mu);
  return g_cv.wait_for(lock, d, [] { return Requested(); });
}

void ThrowIfRequested() {
  if (Requested()) throw Interrupted();
}

void RequestForTesting(int sig) { Deliver(sig); }

}  // namespace gracecheck::interrupt
