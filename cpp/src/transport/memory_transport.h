// The in-process transport: bounded queues per endpoint, fanout by topic
// entity, a timer thread for delayed sends. See transport.h for the URI and
// the behaviour every transport shares (tests/cpp/transport/
// transport_conformance.h checks it against RabbitMQ's). Endpoints and
// bindings live as long as the transport, as durable queues do on a broker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "isoqube/transport.h"

namespace isoqube::detail {

struct MemoryTransportOptions {
  std::size_t capacity = 100000;  // messages per endpoint queue
  std::chrono::milliseconds publish_timeout{30000};
};

class MemoryTransport final : public Transport {
 public:
  explicit MemoryTransport(MemoryTransportOptions options);
  ~MemoryTransport() override;

  std::unique_ptr<Inbox> subscribe(const std::vector<Binding>& bindings,
                                   std::size_t prefetch) override;
  void publish(const std::string& entity_name, Envelope envelope) override;
  void send_delayed(const std::string& endpoint, Envelope envelope,
                    std::chrono::milliseconds delay) override;
  std::vector<ErrorMessage> error_messages(std::string_view endpoint) override;
  // Listeners are called on the broadcasting thread.
  void broadcast(std::string_view channel, Json message) override;
  std::unique_ptr<Listening> listen(
      std::string_view channel, BroadcastsFrom from,
      std::function<void(const Json&)> on_message) override;
  TransportStats stats() const override;

 private:
  friend class MemoryInbox;
  using Message = std::shared_ptr<const Envelope>;
  struct Queued {
    Message message;
    bool redelivered = false;
  };
  struct Endpoint {
    std::deque<Queued> queue;
    std::vector<ErrorMessage> errors;
  };
  struct Delayed {
    std::chrono::steady_clock::time_point due;
    std::string endpoint;
    Message message;
    bool operator>(const Delayed& o) const { return due > o.due; }
  };

  // Both require mutex_ held.
  void enqueue_locked(std::unique_lock<std::mutex>& lock, Endpoint& endpoint,
                      const std::string& name, Queued queued);
  Endpoint& endpoint_locked(const std::string& name);
  void run_timer();

  class MemoryListening;
  struct Listener {
    std::string channel;
    std::function<void(const Json&)> on_message;
  };

  const MemoryTransportOptions options_;
  // Broadcast listeners, by id; separate from mutex_ so that a listener may
  // publish.
  std::mutex listeners_mutex_;
  std::map<uint64_t, std::shared_ptr<const Listener>> listeners_;
  uint64_t next_listener_ = 0;
  std::mutex mutex_;
  std::condition_variable has_messages_;  // inboxes wait here
  std::condition_variable has_space_;     // publishers to full queues wait
  std::map<std::string, Endpoint, std::less<>> endpoints_;
  std::map<std::string, std::vector<std::string>> bindings_;  // entity -> eps
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;
  std::condition_variable timer_wake_;
  bool stopping_ = false;
  std::thread timer_;

  std::atomic<uint64_t> published_{0}, delivered_{0}, acked_{0}, rejected_{0};
};

}  // namespace isoqube::detail
