#include "signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "phase_log.h"

namespace gracecheck::refapi {

namespace {

bool g_sigterm_ignored = false;  // set before any thread starts, read-only after
std::atomic<int> g_signals_taken{0};  // shutdown signals sigwait (or SecondSignalCame) took

}  // namespace

sigset_t ShutdownSignalSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  if (!g_sigterm_ignored) sigaddset(&set, SIGTERM);
  return set;
}

void BlockShutdownSignals() {
  sigset_t set = ShutdownSignalSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Sockets are written with MSG_NOSIGNAL and libpq guards its own writes;
  // this is for any other write to a closed peer.
  ::signal(SIGPIPE, SIG_IGN);
}

void StartSignalThread(std::function<void(int sig)> on_first_signal) {
  std::thread([on_first_signal = std::move(on_first_signal)] {
    pthread_setname_np(pthread_self(), "signals");
    const sigset_t set = ShutdownSignalSet();
    for (int count = 0;; ++count) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      g_signals_taken.fetch_add(1);
      LogSignal(sig);
      if (count == 0) {
        on_first_signal(sig);
      } else {
        LogPhase("forced_exit");
        ::_exit(1);
      }
    }
  }).detach();
}

bool SecondSignalCame() {
  const sigset_t set = ShutdownSignalSet();
  const timespec now{0, 0};
  if (const int sig = ::sigtimedwait(&set, nullptr, &now); sig > 0) {
    g_signals_taken.fetch_add(1);
    LogSignal(sig);
  }
  return g_signals_taken.load() >= 2;
}

void LogSignal(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  LogPhase("signal", std::string("sig=SIG") + (abbrev != nullptr ? abbrev : "?"));
}

void IgnoreSigterm() {
  g_sigterm_ignored = true;
  ::signal(SIGTERM, SIG_IGN);
  // Linux never discards a blocked signal, even an ignored one: it would
  // stay pending instead of being dropped.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
}

}  // namespace gracecheck::refapi
