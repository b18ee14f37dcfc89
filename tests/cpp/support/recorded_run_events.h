// A RunEvents that keeps what an orchestrator hands it, and on which
// threads, for tests to compare with the store's event log.
#pragma once

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "orchestrator/orchestrator.h"

namespace isoqube::testing {

class RecordedRunEvents final : public RunEvents {
 public:
  void emit(const std::vector<Event>& events) override {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.insert(events_.end(), events.begin(), events.end());
    if (!events.empty()) threads_.insert(std::this_thread::get_id());
  }

  // Every event handed over, in the order handed over.
  std::vector<Event> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

  // The threads that handed over at least one event.
  std::set<std::thread::id> threads() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return threads_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
  std::set<std::thread::id> threads_;
};

}  // namespace isoqube::testing
