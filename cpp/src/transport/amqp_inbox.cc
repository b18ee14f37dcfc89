#include "transport/amqp_inbox.h"

#include "isoqube/log.h"
#include "transport/amqp_envelope.h"
#include "transport/amqp_error_queue.h"

namespace isoqube::detail {

AmqpSettler::AmqpSettler(std::shared_ptr<AmqpLink> publisher,
                         std::shared_ptr<AmqpLink> consumer,
                         std::shared_ptr<AmqpCounters> counters)
    : publisher_(std::move(publisher)),
      consumer_(std::move(consumer)),
      counters_(std::move(counters)) {}

void AmqpSettler::settle(const AmqpIncoming& message, AmqpLink::Settle how) {
  try {
    consumer_->settle(message, how);
  } catch (const TransportError& e) {
    // Closed transport: the broker has given the message back already.
    logger("transport")->debug("delivery not settled: {}", e.what());
  }
}

void AmqpSettler::ack(const AmqpIncoming& message) {
  settle(message, AmqpLink::Settle::kAck);
  ++counters_->acked;
}

void AmqpSettler::requeue(const AmqpIncoming& message) {
  settle(message, AmqpLink::Settle::kRequeue);
}

void AmqpSettler::reject(const AmqpIncoming& message,
                         const std::string& endpoint, Fault fault) {
  if (fault.input_address.empty()) {
    fault.input_address = endpoint_address(publisher_->options(), endpoint);
  }
  try {
    try {
      publisher_->publish(error_publish(message, endpoint, fault));
    } catch (const MessageError& e) {
      // Its headers and the fault's do not fit in one frame: the fault's
      // and the body go, the message's headers do not.
      logger("transport")
          ->warn("message {} on '{}' goes to '{}' without its headers: {}",
                 message.properties.message_id, endpoint, endpoint + "_error",
                 e.what());
      publisher_->publish(error_publish(message, endpoint, fault, false));
    }
  } catch (const Error& e) {
    logger("transport")
        ->error(
            "message {} on '{}' could not be moved to its error queue, so it "
            "goes back to its queue: {}",
            message.properties.message_id, endpoint, e.what());
    requeue(message);
    return;
  }
  settle(message, AmqpLink::Settle::kAck);
  ++counters_->rejected;
}

AmqpInbox::AmqpInbox(std::shared_ptr<AmqpSettler> settler,
                     const std::vector<Binding>& bindings, uint16_t prefetch,
                     bool global)
    : settler_(std::move(settler)), arrivals_(std::make_shared<Arrivals>()) {
  AmqpLink& link = settler_->consumer();
  channel_ = link.open_channel(prefetch, global);
  try {
    for (const Binding& binding : bindings) {
      AmqpLink::Consumer consumer;
      consumer.channel = channel_;
      consumer.prepare = [binding](AmqpTopology& topology) {
        topology.declare_endpoint(binding.endpoint, binding.topics);
        return binding.endpoint;
      };
      consumer.on_message = [arrivals = arrivals_, endpoint = binding.endpoint](
                                AmqpIncoming&& message) {
        arrive(*arrivals, endpoint, std::move(message));
      };
      consumers_.push_back(link.add_consumer(std::move(consumer)));
    }
  } catch (...) {
    stop();
    throw;
  }
}

AmqpInbox::~AmqpInbox() {
  close();
  stop();
}

void AmqpInbox::stop() {
  AmqpLink& link = settler_->consumer();
  if (link.closed()) return;  // the transport went first, and took all
  try {
    for (uint64_t id : consumers_) link.remove_consumer(id);
    link.close_channel(channel_);
  } catch (const std::exception& e) {
    // The broker gives back what it delivered when the connection goes.
    logger("transport")->warn("inbox not closed cleanly: {}", e.what());
  }
  consumers_.clear();
}

void AmqpInbox::arrive(Arrivals& arrivals, std::string endpoint,
                       AmqpIncoming&& message) {
  {
    std::lock_guard<std::mutex> lock(arrivals.mutex);
    arrivals.queue.push_back({std::move(endpoint), std::move(message)});
  }
  arrivals.ready.notify_one();
}

void AmqpInbox::close() {
  {
    std::lock_guard<std::mutex> lock(arrivals_->mutex);
    arrivals_->closed = true;
  }
  arrivals_->ready.notify_all();
}

std::optional<Delivery> AmqpInbox::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::optional<Arrived> arrived = next(deadline)) {
    if (auto delivery = accept(std::move(*arrived))) return delivery;
  }
  return std::nullopt;
}

std::optional<AmqpInbox::Arrived> AmqpInbox::next(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(arrivals_->mutex);
  arrivals_->ready.wait_until(lock, deadline, [&] {
    return arrivals_->closed || !arrivals_->queue.empty();
  });
  if (arrivals_->closed || arrivals_->queue.empty()) return std::nullopt;
  Arrived arrived = std::move(arrivals_->queue.front());
  arrivals_->queue.pop_front();
  return arrived;
}

// Decodes on the receiving thread, so that decoding is spread over the
// worker's threads instead of loading the link's.
std::optional<Delivery> AmqpInbox::accept(Arrived arrived) {
  if (arrived.message.generation != settler_->consumer().generation()) {
    return std::nullopt;  // from a lost connection: the broker redelivers it
  }
  try {
    Envelope envelope =
        read_envelope(arrived.message.properties, arrived.message.body);
    ++settler_->counters().delivered;
    return make_delivery(std::move(envelope), std::move(arrived));
  } catch (const MessageError& e) {
    logger("transport")
        ->error("message {} on '{}' moved to '{}': {}",
                arrived.message.properties.message_id, arrived.endpoint,
                arrived.endpoint + "_error", e.what());
    Fault fault;
    fault.message = e.what();
    settler_->reject(arrived.message, arrived.endpoint, fault);
    return std::nullopt;
  }
}

Delivery AmqpInbox::make_delivery(Envelope envelope, Arrived arrived) {
  Delivery delivery;
  delivery.envelope = std::make_shared<const Envelope>(std::move(envelope));
  delivery.endpoint = arrived.endpoint;
  delivery.redelivered = arrived.message.redelivered;
  auto message =
      std::make_shared<const AmqpIncoming>(std::move(arrived.message));
  auto settled = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<AmqpSettler> settler = settler_;
  delivery.ack = [settler, message, settled] {
    if (!settled->exchange(true)) settler->ack(*message);
  };
  delivery.reject = [settler, message, settled,
                     endpoint = arrived.endpoint](const Fault& fault) {
    if (!settled->exchange(true)) settler->reject(*message, endpoint, fault);
  };
  delivery.requeue = [settler, message, settled] {
    if (!settled->exchange(true)) settler->requeue(*message);
  };
  return delivery;
}

}  // namespace isoqube::detail
