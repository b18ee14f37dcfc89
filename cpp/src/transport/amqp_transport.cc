#include "transport/amqp_transport.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "isoqube/log.h"
#include "transport/amqp_broadcast.h"
#include "transport/amqp_envelope.h"
#include "transport/amqp_error_queue.h"

namespace isoqube::detail {
namespace {

class AmqpListening final : public Listening {
 public:
  AmqpListening(std::shared_ptr<AmqpLink> link, uint64_t consumer,
                std::shared_ptr<std::atomic<bool>> active)
      : link_(std::move(link)),
        consumer_(consumer),
        active_(std::move(active)) {}
  ~AmqpListening() override {
    // Checked between the messages of a batch: a listener stopped by its
    // own callback hears no more of the batch.
    *active_ = false;
    if (link_->closed()) return;  // the transport went first, and took all
    try {
      link_->remove_consumer(consumer_);
    } catch (const std::exception& e) {
      logger("transport")->warn("listener not stopped cleanly: {}", e.what());
    }
  }

 private:
  std::shared_ptr<AmqpLink> link_;
  uint64_t consumer_;
  std::shared_ptr<std::atomic<bool>> active_;
};

}  // namespace

AmqpTransport::AmqpTransport(const AmqpOptions& options)
    : options_(options),
      publisher_(std::make_shared<AmqpLink>(options, "amqp-publish")),
      consumer_(std::make_shared<AmqpLink>(options, "amqp-consume")),
      counters_(std::make_shared<AmqpCounters>()),
      settler_(
          std::make_shared<AmqpSettler>(publisher_, consumer_, counters_)) {}

// Deliveries, inboxes and listeners share the links and may outlive the
// transport; closing here ends the connections now all the same, and what
// they do later fails quietly (the broker gives their messages back).
AmqpTransport::~AmqpTransport() {
  consumer_->close();
  publisher_->close();
}

std::unique_ptr<Inbox> AmqpTransport::subscribe(
    const std::vector<Binding>& bindings, std::size_t prefetch) {
  const std::size_t wanted = options_.prefetch ? options_.prefetch : prefetch;
  if (wanted == 0) {
    throw ConfigurationError("amqp transport: prefetch must be at least 1");
  }
  const auto count = static_cast<uint16_t>(
      std::min<std::size_t>(wanted, std::numeric_limits<uint16_t>::max()));
  // Per endpoint, as MassTransit sizes it, never channel-wide: quorum
  // queues refuse that (540 NOT_IMPLEMENTED "does not support global qos"),
  // and on classic queues it makes every delivery consult the channel's
  // limiter: embedded_bench (10 endpoints, prefetch 20) did 4,700 steps/s
  // with the broker busy 2.3 s per 10,000 steps channel-wide, 6,550 and
  // 1.6 s per endpoint (https://www.rabbitmq.com/consumer-prefetch.html).
  return std::make_unique<AmqpInbox>(settler_, bindings, count,
                                     /*global=*/false);
}

AmqpOutgoing AmqpTransport::outgoing(Destination to,
                                     const Envelope& envelope) const {
  AmqpOutgoing message;
  message.body = encode(envelope);
  if (message.body.size() > kMaxMessageBytes) {
    throw MessageError("message " + envelope.message_id + " to '" + to.name +
                       "' is " + std::to_string(message.body.size()) +
                       " bytes, over the limit of " +
                       std::to_string(kMaxMessageBytes));
  }
  message.to = std::move(to);
  message.properties = envelope_properties(envelope);
  return message;
}

void AmqpTransport::send(Destination to, const Envelope& envelope) {
  publisher_->publish(outgoing(std::move(to), envelope));
  ++counters_->published;
}

void AmqpTransport::publish(const std::string& entity_name, Envelope envelope) {
  send({Destination::Kind::kTopic, entity_name}, envelope);
}

void AmqpTransport::publish_async(const std::string& entity_name,
                                  Envelope envelope, Confirmed confirmed) {
  publisher_->publish_async(
      outgoing({Destination::Kind::kTopic, entity_name}, envelope),
      [counters = counters_,
       confirmed = std::move(confirmed)](std::exception_ptr error) {
        if (!error) ++counters->published;
        confirmed(std::move(error));
      });
}

void AmqpTransport::send_delayed(const std::string& endpoint, Envelope envelope,
                                 std::chrono::milliseconds delay) {
  if (delay.count() <= 0) {
    send({Destination::Kind::kEndpoint, endpoint}, envelope);
  } else {
    send({Destination::Kind::kDelayQueue, endpoint, delay}, envelope);
  }
}

std::vector<ErrorMessage> AmqpTransport::error_messages(
    std::string_view endpoint) {
  return publisher_->call<std::vector<ErrorMessage>>(
      [name = std::string(endpoint)](AmqpSession& session) {
        return read_error_queue(session.connection, AmqpLink::kReaderChannel,
                                name);
      });
}

// Encoded here, on the caller's thread, not on the link's, which every
// publish and broadcast of the transport goes through. Best-effort text: a
// string that is not UTF-8 (an error message of any bytes) gets
// replacement characters instead of costing its batch and the connection.
void AmqpTransport::broadcast(std::string_view channel, Json message) {
  publisher_->broadcast(
      std::string(channel),
      message.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void AmqpTransport::broadcast_text(std::string_view channel, std::string json) {
  publisher_->broadcast(std::string(channel), std::move(json));
}

std::unique_ptr<Listening> AmqpTransport::listen(
    std::string_view channel, BroadcastsFrom from,
    std::function<void(const Json&)> on_message) {
  // Broadcasts made before this call, still gathering on the publishing
  // link, leave before the listener starts: it hears only later ones.
  publisher_->send_broadcasts_now();
  AmqpLink::Consumer consumer;
  consumer.channel = AmqpLink::kBroadcastChannel;
  consumer.no_ack = true;
  consumer.prepare = [name = std::string(channel)](AmqpTopology& topology) {
    return topology.declare_listener_queue(name);
  };
  auto active = std::make_shared<std::atomic<bool>>(true);
  // Batches carry the publishing link's origin (amqp_broadcast.h).
  std::string skipped_origin =
      from == BroadcastsFrom::kOthers ? publisher_->origin() : std::string();
  consumer.on_message = [name = std::string(channel), active,
                         skipped_origin = std::move(skipped_origin),
                         on_message =
                             std::move(on_message)](AmqpIncoming&& message) {
    if (!skipped_origin.empty() &&
        message.properties.app_id == skipped_origin) {
      return;
    }
    for (const Json& item : decode_broadcast_batch(message.body)) {
      if (!*active) return;
      try {
        on_message(item);
      } catch (const std::exception& e) {
        logger("transport")
            ->error("a listener of '{}' failed: {}", name, e.what());
      }
    }
  };
  const uint64_t id = consumer_->add_consumer(std::move(consumer));
  return std::make_unique<AmqpListening>(consumer_, id, std::move(active));
}

std::string AmqpTransport::address(std::string_view name) const {
  return endpoint_address(options_, name);
}

TransportStats AmqpTransport::stats() const {
  return {counters_->published.load(), counters_->delivered.load(),
          counters_->acked.load(), counters_->rejected.load()};
}

}  // namespace isoqube::detail
