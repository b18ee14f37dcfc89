// Waits for the confirms of several publishes without a thread: the last
// one to settle calls the callback, with the first error among them or
// nullptr. Internal to the orchestrator.
//
// Thread-safety: settle() from any thread, once per publish.
#pragma once

#include <cstddef>
#include <exception>
#include <mutex>

#include "isoqube/transport.h"

namespace isoqube::detail {

class ConfirmCountdown {
 public:
  ConfirmCountdown(std::size_t count, Transport::Confirmed confirmed)
      : left_(count), confirmed_(std::move(confirmed)) {}

  void settle(std::exception_ptr error) {
    std::exception_ptr outcome;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = std::move(error);
      if (--left_ > 0) return;
      outcome = error_;
    }
    confirmed_(std::move(outcome));
  }

 private:
  std::mutex mutex_;
  std::size_t left_;          // guarded by mutex_
  std::exception_ptr error_;  // guarded by mutex_: the first one
  Transport::Confirmed confirmed_;
};

}  // namespace isoqube::detail
