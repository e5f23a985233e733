#include "serve/signals.hpp"

#include <cerrno>
#include <pthread.h>

namespace gostly::serve {

SignalWaiter::SignalWaiter() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set_, &original_);
  std::signal(SIGPIPE, SIG_IGN);
}

int SignalWaiter::wait(std::chrono::milliseconds timeout) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
  int signal = sigtimedwait(&set_, nullptr, &ts);
  return signal < 0 ? 0 : signal;
}

} // namespace gostly::serve
