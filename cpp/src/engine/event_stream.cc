#include "isoqube/engine.h"

namespace isoqube {

EventStream::EventStream(std::string run_id, std::size_t capacity)
    : run_id_(std::move(run_id)), capacity_(capacity ? capacity : 1) {}

void EventStream::push(const Event& event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    if (events_.size() >= capacity_) {
      events_.pop_front();
      ++dropped_;
    }
    events_.push_back(event);
  }
  cv_.notify_one();
}

std::optional<Event> EventStream::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || !events_.empty(); });
  if (events_.empty()) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void EventStream::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

uint64_t EventStream::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

}  // namespace isoqube
