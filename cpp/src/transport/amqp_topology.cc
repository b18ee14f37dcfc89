#include "transport/amqp_topology.h"

#include "transport/amqp_table.h"

namespace isoqube::detail {
namespace {

// A delay queue is deleted by the broker after this long unused
// (https://www.rabbitmq.com/ttl.html#queue-ttl) on top of its message TTL.
// Publishing does not count as use, only declaring does, so the lease is
// renewed by re-declaring when half of this has passed: every message then
// expires (and is dead-lettered) well before its queue could.
constexpr std::chrono::milliseconds kDelayQueueIdle{5 * 60 * 1000};

const amqp_bytes_t kFanout = amqp_bytes("fanout");

}  // namespace

std::string error_queue_name(const std::string& endpoint) {
  return endpoint + "_error";
}

std::string delay_queue_name(const std::string& endpoint,
                             std::chrono::milliseconds delay) {
  return endpoint + "_delay_" + std::to_string(delay.count());
}

std::string broadcast_exchange_name(const std::string& channel) {
  return "isoqube-" + channel;
}

AmqpTopology::AmqpTopology(AmqpConnection& connection, uint16_t channel,
                           QueueType queue_type)
    : connection_(connection), channel_(channel), queue_type_(queue_type) {}

AmqpTarget AmqpTopology::prepare(const Destination& to) {
  using Kind = Destination::Kind;
  switch (to.kind) {
    case Kind::kTopic:
      if (first_time("exchange " + to.name)) declare_exchange(to.name);
      return {to.name, ""};
    case Kind::kEndpoint:
      declare_endpoint_queue(to.name);
      return {to.name, ""};
    case Kind::kErrorQueue:
      declare_error_queue(to.name);
      return {error_queue_name(to.name), ""};
    case Kind::kDelayQueue:
      declare_delay_queue(to.name, to.delay);
      // Through the default exchange, which routes by queue name.
      return {"", delay_queue_name(to.name, to.delay)};
    case Kind::kBroadcast: {
      const std::string exchange = broadcast_exchange_name(to.name);
      if (first_time("exchange " + exchange)) declare_exchange(exchange);
      return {exchange, ""};
    }
  }
  return {to.name, ""};
}

std::optional<AmqpTarget> AmqpTopology::declared_target(
    const Destination& to) const {
  if (to.kind != Destination::Kind::kTopic ||
      declared_.count("exchange " + to.name) == 0) {
    return std::nullopt;
  }
  return AmqpTarget{to.name, ""};
}

void AmqpTopology::declare_endpoint(const std::string& endpoint,
                                    const std::vector<std::string>& topics) {
  // Always sent: consumers come here again when their queue was deleted.
  declared_.erase("endpoint " + endpoint);
  declare_endpoint_queue(endpoint);
  for (const std::string& topic : topics) {
    if (first_time("exchange " + topic)) declare_exchange(topic);
    bind_exchange(endpoint, topic);
  }
}

std::string AmqpTopology::declare_listener_queue(const std::string& channel) {
  const std::string exchange = broadcast_exchange_name(channel);
  if (first_time("exchange " + exchange)) declare_exchange(exchange);
  // Always classic: quorum queues cannot be exclusive.
  const std::string queue = declare_queue("", Json::object(), true);
  bind_queue(queue, exchange);
  return queue;
}

void AmqpTopology::declare_endpoint_queue(const std::string& endpoint) {
  if (!first_time("endpoint " + endpoint)) return;
  declare_queue(endpoint, queue_arguments());
  declare_exchange(endpoint);
  bind_queue(endpoint, endpoint);
}

void AmqpTopology::declare_error_queue(const std::string& endpoint) {
  const std::string name = error_queue_name(endpoint);
  if (!first_time("error " + name)) return;
  declare_queue(name, queue_arguments());
  declare_exchange(name);
  bind_queue(name, name);
}

void AmqpTopology::declare_delay_queue(const std::string& endpoint,
                                       std::chrono::milliseconds delay) {
  const std::string name = delay_queue_name(endpoint, delay);
  const auto now = std::chrono::steady_clock::now();
  const auto lease = leases_.find(name);
  if (lease != leases_.end() && now - lease->second < kDelayQueueIdle / 2) {
    return;
  }
  // Dead-lettered messages must find the endpoint's queue.
  declare_endpoint_queue(endpoint);
  Json arguments = queue_arguments();
  arguments["x-message-ttl"] = delay.count();
  arguments["x-dead-letter-exchange"] = endpoint;
  arguments["x-expires"] = (delay + kDelayQueueIdle).count();
  if (queue_type_ == QueueType::kQuorum) {
    // Quorum queues dead-letter at most once unless told otherwise
    // (https://www.rabbitmq.com/quorum-queues.html#dead-lettering); the
    // at-least-once strategy needs reject-publish overflow.
    arguments["x-dead-letter-strategy"] = "at-least-once";
    arguments["x-overflow"] = "reject-publish";
  }
  declare_queue(name, arguments);
  leases_[name] = now;
}

Json AmqpTopology::queue_arguments() const {
  // Classic queues get no x-queue-type at all, so that queues MassTransit
  // declared without arguments are equivalent to ours.
  if (queue_type_ == QueueType::kQuorum) return {{"x-queue-type", "quorum"}};
  return Json::object();
}

void AmqpTopology::declare_exchange(const std::string& name) {
  amqp_exchange_declare(connection_.state(), channel_, amqp_bytes(name),
                        kFanout, /*passive=*/0, /*durable=*/1,
                        /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
  check("declaring exchange '" + name + "'");
}

std::string AmqpTopology::declare_queue(const std::string& name,
                                        const Json& arguments, bool exclusive) {
  AmqpTableBuilder tables;
  const amqp_queue_declare_ok_t* ok = amqp_queue_declare(
      connection_.state(), channel_, amqp_bytes(name), /*passive=*/0,
      /*durable=*/exclusive ? 0 : 1, exclusive, /*auto_delete=*/exclusive,
      tables.build(arguments));
  check(name.empty() ? std::string("declaring a listener queue")
                     : "declaring queue '" + name + "'");
  return to_string(ok->queue);
}

void AmqpTopology::bind_queue(const std::string& queue,
                              const std::string& exchange) {
  amqp_queue_bind(connection_.state(), channel_, amqp_bytes(queue),
                  amqp_bytes(exchange), amqp_empty_bytes, amqp_empty_table);
  check("binding queue '" + queue + "' to exchange '" + exchange + "'");
}

void AmqpTopology::bind_exchange(const std::string& destination,
                                 const std::string& source) {
  amqp_exchange_bind(connection_.state(), channel_, amqp_bytes(destination),
                     amqp_bytes(source), amqp_empty_bytes, amqp_empty_table);
  check("binding exchange '" + source + "' to exchange '" + destination + "'");
}

void AmqpTopology::check(const std::string& what) {
  try {
    connection_.check_reply(channel_, what);
  } catch (const AmqpChannelClosed& e) {
    // Nothing else lives on this channel, so it is simply opened again.
    connection_.open_channel(channel_);
    declared_.clear();  // a failed declaration may have been half done
    if (e.code() == kReplyPreconditionFailed) {
      throw ConfigurationError(e.what());
    }
    throw TransportError(e.what());
  }
}

bool AmqpTopology::first_time(const std::string& key) {
  return declared_.insert(key).second;
}

}  // namespace isoqube::detail
