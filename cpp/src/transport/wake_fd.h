// An eventfd that wakes a thread sleeping in poll() when another thread has
// handed it work, without a system call per piece of work. Internal.
//
// Thread-safety: notify() from any thread; clear() and fd() from the thread
// that polls.
#pragma once

#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
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

// A timerfd that wakes a thread sleeping in poll() once a delay has passed,
// unless cancelled before: a system call each, instead of a wake-up.
//
// Thread-safety: arm() and cancel() from any thread; clear() and fd() from
// the thread that polls.
class WakeTimer {
 public:
  WakeTimer()
      : fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
    if (fd_ < 0) {
      throw TransportError(std::string("cannot create a timerfd: ") +
                           std::strerror(errno));
    }
  }
  ~WakeTimer() { close(fd_); }
  WakeTimer(const WakeTimer&) = delete;
  WakeTimer& operator=(const WakeTimer&) = delete;

  int fd() const { return fd_; }

  void arm(std::chrono::microseconds delay) {
    armed_ = true;
    set(delay);
  }

  // Only a timer armed since it last fired or was cancelled costs a call.
  void cancel() {
    if (armed_.exchange(false)) set(std::chrono::microseconds(0));
  }

  // After poll() found it readable.
  void clear() {
    armed_ = false;
    uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t n =
        read(fd_, &expirations, sizeof expirations);
  }

 private:
  void set(std::chrono::microseconds delay) {
    itimerspec when{};
    when.it_value.tv_sec = static_cast<time_t>(delay.count() / 1000000);
    when.it_value.tv_nsec = static_cast<long>(delay.count() % 1000000) * 1000;
    timerfd_settime(fd_, 0, &when, nullptr);
  }

  const int fd_;
  std::atomic<bool> armed_{false};
};

}  // namespace isoqube::detail
