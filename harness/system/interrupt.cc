#include "interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "exit_codes.h"

namespace gracecheck::interrupt {

namespace {

std::atomic<int> g_signal{0};

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
          ::_exit(kExitInterrupted);
        }
        g_signal.store(sig);
      }
    }).detach();
  });
}

bool Requested() { return g_signal.load() != 0; }

int Signal() { return g_signal.load(); }

void ThrowIfRequested() {
  if (Requested()) throw Interrupted();
}

}  // namespace gracecheck::interrupt
