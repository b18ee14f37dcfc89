// Work handed to another thread, and its outcome for the thread that waits
// for it: a promise settled once, and a flag the waiting thread raises when
// it stops waiting, so the work is skipped if it has not started. Internal.
//
// Thread-safety: succeed()/fail() from the working thread only;
// `abandoned` and result() from any thread.
#pragma once

#include <atomic>
#include <exception>
#include <future>

namespace isoqube::detail {

class Pending {
 public:
  virtual ~Pending() = default;

  std::future<void> result() { return done_.get_future(); }

  void succeed() {
    if (settled_) return;
    settled_ = true;
    done_.set_value();
  }

  void fail(std::exception_ptr error) {
    if (settled_) return;
    settled_ = true;
    done_.set_exception(std::move(error));
  }

  bool settled() const { return settled_; }

  std::atomic<bool> abandoned{false};

 private:
  std::promise<void> done_;
  bool settled_ = false;  // working thread only
};

}  // namespace isoqube::detail
