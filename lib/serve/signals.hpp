#pragma once
// Signal handling without handlers: the main thread blocks SIGINT, SIGTERM and SIGCHLD before any
// worker thread starts (threads inherit the mask, so only sigtimedwait() sees them) and polls
// with a timeout that doubles as the tick of periodic work.
#include <chrono>
#include <csignal>

namespace gostly::serve {

class SignalWaiter {
public:
  /// Blocks SIGINT, SIGTERM and SIGCHLD in the calling thread and ignores SIGPIPE.
  SignalWaiter();
  /// Waits up to `timeout`; returns the signal number received, or 0 on timeout.
  int wait(std::chrono::milliseconds timeout);
  /// The mask to restore in a child process (what it was before the constructor).
  const sigset_t& original_mask() const noexcept { return original_; }

private:
  sigset_t set_;
  sigset_t original_;
};

} // namespace gostly::serve
