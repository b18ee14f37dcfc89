// Work handed to another thread, and its outcome for the thread that waits
// for it: a promise settled once, and a flag the waiting thread raises when
// it stops waiting, so the work is skipped if it has not started. Work
// nobody waits for has a callback instead (then()) and no promise: setting
// one costs an allocation and, in libstdc++, a futex wake-up syscall even
// when nobody waits (one per publish confirm). Internal.
//
// Thread-safety: succeed()/fail() from the working thread only (for an
// AmqpLink: whoever holds its I/O lock); `abandoned` from any thread;
// result() or then() before handing it over, the future from any thread.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <optional>

#include "isoqube/log.h"

namespace isoqube::detail {

class Pending {
 public:
  virtual ~Pending() = default;

  // The future of the outcome; at most once.
  std::future<void> result() { return done_.emplace().get_future(); }

  // Called once with the outcome (nullptr: succeeded), on the working
  // thread, which it must not hold up.
  void then(std::function<void(std::exception_ptr)> callback) {
    then_ = std::move(callback);
  }

  void succeed() {
    if (settled_) return;
    settled_ = true;
    if (done_) done_->set_value();
    call_then(nullptr);
  }

  void fail(std::exception_ptr error) {
    if (settled_) return;
    settled_ = true;
    if (done_) done_->set_exception(error);
    call_then(std::move(error));
  }

  bool settled() const { return settled_; }

  std::atomic<bool> abandoned{false};

 private:
  // Nothing escapes to the working thread: it is a connection's I/O loop.
  void call_then(std::exception_ptr error) {
    if (!then_) return;
    try {
      then_(std::move(error));
    } catch (const std::exception& e) {
      logger("transport")->error("a publish callback failed: {}", e.what());
    }
    then_ = nullptr;
  }

  std::function<void(std::exception_ptr)> then_;
  std::optional<std::promise<void>> done_;  // from result()
  bool settled_ = false;                    // working thread only
};

}  // namespace isoqube::detail
