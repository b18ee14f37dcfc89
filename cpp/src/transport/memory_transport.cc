#include "transport/memory_transport.h"

#include <algorithm>
#include <utility>

#include "isoqube/errors.h"
#include "isoqube/time.h"

namespace isoqube::detail {
namespace {

using std::chrono::milliseconds;

}  // namespace

// One subscriber's view over its endpoints. Deliveries are taken round-robin
// across endpoints so one busy topic does not starve the others.
class MemoryInbox final : public Inbox {
 public:
  MemoryInbox(MemoryTransport& transport, std::vector<std::string> endpoints,
              std::size_t prefetch)
      : transport_(transport),
        endpoints_(std::move(endpoints)),
        prefetch_(prefetch),
        state_(std::make_shared<State>()) {}

  ~MemoryInbox() override { close(); }

  std::optional<Delivery> receive(milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::mutex> lock(transport_.mutex_);
    while (true) {
      if (state_->closed) return std::nullopt;
      if (state_->unacked < prefetch_) {
        if (auto delivery = take_locked()) return delivery;
      }
      if (transport_.has_messages_.wait_until(lock, deadline) ==
          std::cv_status::timeout) {
        if (state_->unacked < prefetch_) return take_locked();
        return std::nullopt;
      }
    }
  }

  void close() override {
    {
      std::lock_guard<std::mutex> lock(transport_.mutex_);
      state_->closed = true;
    }
    transport_.has_messages_.notify_all();
  }

 private:
  // Shared with the ack callbacks, which may outlive the inbox.
  struct State {
    std::size_t unacked = 0;
    bool closed = false;
  };

  std::optional<Delivery> take_locked() {
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      const std::string& name = endpoints_[(next_ + i) % endpoints_.size()];
      auto& endpoint = transport_.endpoint_locked(name);
      if (endpoint.queue.empty()) continue;
      next_ = (next_ + i + 1) % endpoints_.size();
      MemoryTransport::Queued queued = std::move(endpoint.queue.front());
      endpoint.queue.pop_front();
      ++state_->unacked;
      ++transport_.delivered_;
      transport_.has_space_.notify_all();
      return make_delivery(name, std::move(queued));
    }
    return std::nullopt;
  }

  Delivery make_delivery(const std::string& name,
                         MemoryTransport::Queued queued) {
    Delivery d;
    d.envelope = queued.message;
    d.endpoint = name;
    d.redelivered = queued.redelivered;
    MemoryTransport* transport = &transport_;
    std::shared_ptr<State> state = state_;
    auto settle = [transport, state] {
      std::lock_guard<std::mutex> lock(transport->mutex_);
      --state->unacked;
    };
    d.ack = [transport, settle] {
      settle();
      ++transport->acked_;
      transport->has_messages_.notify_all();
    };
    d.reject = [transport, settle, name,
                message = queued.message](Fault fault) {
      settle();
      // Filled as the AMQP transport's fault headers are.
      if (fault.input_address.empty()) {
        fault.input_address = transport->address(name);
      }
      if (fault.timestamp.empty()) fault.timestamp = format_time(now());
      {
        std::lock_guard<std::mutex> lock(transport->mutex_);
        transport->endpoint_locked(name).errors.push_back(
            {*message, std::string(), std::move(fault)});
      }
      ++transport->rejected_;
      transport->has_messages_.notify_all();
    };
    d.requeue = [transport, settle, name, message = queued.message] {
      settle();
      {
        std::lock_guard<std::mutex> lock(transport->mutex_);
        transport->endpoint_locked(name).queue.push_front({message, true});
      }
      transport->has_messages_.notify_all();
    };
    return d;
  }

  MemoryTransport& transport_;
  const std::vector<std::string> endpoints_;
  const std::size_t prefetch_;
  std::shared_ptr<State> state_;
  std::size_t next_ = 0;
};

MemoryTransport::MemoryTransport(MemoryTransportOptions options)
    : options_(options), timer_([this] { run_timer(); }) {}

MemoryTransport::~MemoryTransport() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  timer_wake_.notify_all();
  timer_.join();
}

MemoryTransport::Endpoint& MemoryTransport::endpoint_locked(
    const std::string& name) {
  return endpoints_[name];
}

std::unique_ptr<Inbox> MemoryTransport::subscribe(
    const std::vector<Binding>& bindings, std::size_t prefetch) {
  if (prefetch == 0) {
    throw ConfigurationError("memory transport: prefetch must be at least 1");
  }
  std::vector<std::string> names;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (const Binding& binding : bindings) {
      endpoint_locked(binding.endpoint);
      names.push_back(binding.endpoint);
      for (const std::string& entity : binding.topics) {
        auto& bound = bindings_[entity];
        if (std::find(bound.begin(), bound.end(), binding.endpoint) ==
            bound.end()) {
          bound.push_back(binding.endpoint);
        }
      }
    }
  }
  return std::make_unique<MemoryInbox>(*this, std::move(names), prefetch);
}

void MemoryTransport::enqueue_locked(std::unique_lock<std::mutex>& lock,
                                     Endpoint& endpoint,
                                     const std::string& name, Queued queued) {
  if (endpoint.queue.size() >= options_.capacity) {
    bool has_room = has_space_.wait_for(lock, options_.publish_timeout, [&] {
      return endpoint.queue.size() < options_.capacity;
    });
    if (!has_room) {
      throw TransportError("memory transport: endpoint '" + name +
                           "' is full (" + std::to_string(options_.capacity) +
                           " messages) and stayed full for " +
                           std::to_string(options_.publish_timeout.count()) +
                           " ms");
    }
  }
  endpoint.queue.push_back(std::move(queued));
}

void MemoryTransport::publish(const std::string& entity_name,
                              Envelope envelope) {
  auto message = std::make_shared<const Envelope>(std::move(envelope));
  {
    std::unique_lock<std::mutex> lock(mutex_);
    auto bound = bindings_.find(entity_name);
    if (bound == bindings_.end()) {
      // As RabbitMQ's mandatory publish answers (basic.return), so that a
      // run whose topic nothing consumes fails at once on both transports.
      throw TransportError("topic '" + entity_name +
                           "' routed the message to no endpoint: nothing is "
                           "subscribed to it yet, so it was not delivered");
    }
    // Copy: enqueue may wait, and a subscribe may add bindings meanwhile.
    std::vector<std::string> names = bound->second;
    for (const std::string& name : names) {
      enqueue_locked(lock, endpoint_locked(name), name, {message, false});
    }
  }
  ++published_;
  has_messages_.notify_all();
}

void MemoryTransport::send_delayed(const std::string& endpoint,
                                   Envelope envelope, milliseconds delay) {
  auto message = std::make_shared<const Envelope>(std::move(envelope));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    delayed_.push({std::chrono::steady_clock::now() + delay, endpoint,
                   std::move(message)});
  }
  ++published_;
  timer_wake_.notify_all();
}

void MemoryTransport::run_timer() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (delayed_.empty()) {
      timer_wake_.wait(lock);
      continue;
    }
    auto due = delayed_.top().due;
    if (std::chrono::steady_clock::now() < due) {
      timer_wake_.wait_until(lock, due);
      continue;
    }
    Delayed item = delayed_.top();
    delayed_.pop();
    // A delayed message is never refused for capacity: it was accepted when
    // sent, and waiting here would stall every other timer.
    endpoint_locked(item.endpoint).queue.push_back({item.message, false});
    has_messages_.notify_all();
  }
}

std::vector<ErrorMessage> MemoryTransport::error_messages(
    std::string_view endpoint) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return {};
  return it->second.errors;
}

class MemoryTransport::MemoryListening final : public Listening {
 public:
  MemoryListening(MemoryTransport& transport, uint64_t id)
      : transport_(transport), id_(id) {}
  ~MemoryListening() override {
    std::lock_guard<std::mutex> lock(transport_.listeners_mutex_);
    transport_.listeners_.erase(id_);
  }

 private:
  MemoryTransport& transport_;
  uint64_t id_;
};

void MemoryTransport::broadcast(std::string_view channel, Json message) {
  std::vector<std::shared_ptr<const Listener>> targets;
  {
    std::lock_guard<std::mutex> lock(listeners_mutex_);
    for (const auto& [id, listener] : listeners_) {
      if (listener->channel == channel) targets.push_back(listener);
    }
  }
  for (const auto& listener : targets) listener->on_message(message);
}

// One MemoryTransport carries only its own broadcasts: a listener of
// other transports' hears nothing.
std::unique_ptr<Listening> MemoryTransport::listen(
    std::string_view channel, BroadcastsFrom from,
    std::function<void(const Json&)> on_message) {
  if (from == BroadcastsFrom::kOthers) on_message = [](const Json&) {};
  std::lock_guard<std::mutex> lock(listeners_mutex_);
  uint64_t id = ++next_listener_;
  listeners_.emplace(id, std::make_shared<const Listener>(Listener{
                             std::string(channel), std::move(on_message)}));
  return std::make_unique<MemoryListening>(*this, id);
}

TransportStats MemoryTransport::stats() const {
  return {published_.load(), delivered_.load(), acked_.load(),
          rejected_.load()};
}

}  // namespace isoqube::detail
