#include "common/fanout_sink.h"

#include <algorithm>
#include <atomic>

namespace isoqube::detail {

FanoutSink::FanoutSink(SinkPtr first)
    : sinks_(std::make_shared<const Sinks>(Sinks{std::move(first)})) {}

// std::atomic_load/store on shared_ptr: C++17's way to share an immutable
// list between threads (std::atomic<std::shared_ptr> is C++20).
std::shared_ptr<const FanoutSink::Sinks> FanoutSink::snapshot() const {
  return std::atomic_load(&sinks_);
}

void FanoutSink::log(const spdlog::details::log_msg& msg) {
  const auto sinks = snapshot();
  for (const SinkPtr& sink : *sinks) {
    if (sink->should_log(msg.level)) sink->log(msg);
  }
}

void FanoutSink::flush() {
  const auto sinks = snapshot();
  for (const SinkPtr& sink : *sinks) sink->flush();
}

void FanoutSink::add(SinkPtr sink) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  const auto current = snapshot();
  if (std::find(current->begin(), current->end(), sink) != current->end()) {
    return;
  }
  auto changed = std::make_shared<Sinks>(*current);
  changed->push_back(std::move(sink));
  std::atomic_store(&sinks_, std::shared_ptr<const Sinks>(std::move(changed)));
}

void FanoutSink::remove(const SinkPtr& sink) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  const auto current = snapshot();
  auto changed = std::make_shared<Sinks>(*current);
  changed->erase(std::remove(changed->begin(), changed->end(), sink),
                 changed->end());
  std::atomic_store(&sinks_, std::shared_ptr<const Sinks>(std::move(changed)));
}

}  // namespace isoqube::detail
