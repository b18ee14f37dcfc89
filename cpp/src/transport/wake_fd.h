// An eventfd that wakes a thread sleeping in poll() when another thread has
// handed it work, without a system call per piece of work. Internal.
//
// Thread-safety: notify() from any thread; clear() and fd() from the thread
// that polls.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "isoqube/errors.h"

namespace isoqube::detail {

class WakeFd {
 public:
  WakeFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) {
      throw TransportError(std::string("cannot create an eventfd: ") +
                           std::strerror(errno));
    }
  }
  ~WakeFd() { close(fd_); }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return fd_; }

  // Only the first notify() after a clear() writes to the eventfd.
  void notify() {
    if (pending_.exchange(true)) return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(fd_, &one, sizeof one);
  }

  // Call before taking the work, so that work handed over after this is
  // sure to wake the next poll().
  void clear() {
    pending_.store(false);
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = read(fd_, &count, sizeof count);
  }

  bool pending() const { return pending_.load(); }

 private:
  const int fd_;
  std::atomic<bool> pending_{false};
};

}  // namespace isoqube::detail
