#include "transport/amqp_consumers.h"

#include "isoqube/log.h"
#include "transport/amqp_table.h"

namespace isoqube::detail {

AmqpConsumers::AmqpConsumers(uint16_t first_channel, uint16_t no_ack_channel,
                             std::string name)
    : first_channel_(first_channel),
      no_ack_channel_(no_ack_channel),
      name_(std::move(name)) {}

uint16_t AmqpConsumers::reserve_channel_number() {
  std::lock_guard<std::mutex> lock(numbers_mutex_);
  uint16_t number = first_channel_;
  while (numbers_.count(number)) ++number;
  numbers_.insert(number);
  return number;
}

void AmqpConsumers::release_channel_number(uint16_t number) {
  std::lock_guard<std::mutex> lock(numbers_mutex_);
  numbers_.erase(number);
}

void AmqpConsumers::open_channel(AmqpConnection& connection, uint16_t number,
                                 uint16_t prefetch, bool global) {
  auto [it, inserted] =
      channels_.emplace(number, ChannelSpec{prefetch, global});
  if (!it->second.open) open(connection, number, it->second);
}

void AmqpConsumers::close_channel(AmqpConnection* connection, uint16_t number) {
  auto it = channels_.find(number);
  if (it == channels_.end()) return;
  if (connection && it->second.open) connection->close_channel(number);
  channels_.erase(it);
}

void AmqpConsumers::open(AmqpConnection& connection, uint16_t number,
                         ChannelSpec& spec) {
  connection.open_channel(number);
  spec.open = true;
  spec.epoch = ++last_epoch_;
  amqp_basic_qos(connection.state(), number, 0, spec.prefetch, spec.global);
  connection.check_reply(
      number, "setting the prefetch of channel " + std::to_string(number));
}

void AmqpConsumers::add(uint64_t id,
                        std::shared_ptr<const AmqpConsumer> consumer,
                        AmqpConnection& connection, AmqpTopology& topology) {
  auto [it, inserted] = consumers_.emplace(id, Entry{std::move(consumer), ""});
  if (!it->second.tag.empty()) return;  // resumed by a reconnect
  try {
    start(id, it->second, connection, topology);
  } catch (const AmqpConnectionLost&) {
    throw;  // stays registered: the reconnect starts it
  } catch (const AmqpChannelClosed&) {
    throw;
  } catch (...) {
    consumers_.erase(id);
    throw;
  }
}

void AmqpConsumers::start(uint64_t id, Entry& entry, AmqpConnection& connection,
                          AmqpTopology& topology) {
  const AmqpConsumer& consumer = *entry.spec;
  const std::string queue = consumer.prepare(topology);
  const amqp_basic_consume_ok_t* ok = amqp_basic_consume(
      connection.state(), consumer.channel, amqp_bytes(queue), amqp_empty_bytes,
      /*no_local=*/0, consumer.no_ack, /*exclusive=*/0, amqp_empty_table);
  connection.check_reply(consumer.channel,
                         "consuming from queue '" + queue + "'");
  entry.tag = to_string(ok->consumer_tag);
  by_tag_[entry.tag] = id;
}

void AmqpConsumers::resume(uint64_t id, Entry& entry,
                           AmqpConnection& connection, AmqpTopology& topology) {
  try {
    start(id, entry, connection, topology);
  } catch (const AmqpConnectionLost&) {
    throw;
  } catch (const AmqpChannelClosed&) {
    throw;
  } catch (const std::exception& e) {
    logger("transport")
        ->error("{}: a consumer cannot resume: {}", name_, e.what());
  }
}

void AmqpConsumers::remove(uint64_t id, AmqpConnection* connection) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return;
  const std::string tag = it->second.tag;
  if (connection && !tag.empty()) {
    const uint16_t channel = it->second.spec->channel;
    amqp_basic_cancel(connection->state(), channel, amqp_bytes(tag));
    connection->check_reply(channel, "stopping a consumer");
  }
  by_tag_.erase(tag);
  consumers_.erase(it);
}

void AmqpConsumers::deliver(AmqpIncoming&& message, AmqpConnection& connection,
                            uint64_t generation) {
  message.generation = generation;
  message.channel_epoch = epoch_of(message.channel);
  auto id = by_tag_.find(message.consumer_tag);
  if (id == by_tag_.end()) {
    // For a consumer stopped meanwhile: give it back rather than leave it
    // unacknowledged until the channel closes.
    if (message.channel != no_ack_channel_) {
      amqp_basic_reject(connection.state(), message.channel,
                        message.delivery_tag, /*requeue=*/1);
    }
    return;
  }
  // Held by value: the callback may stop its own consumer.
  std::shared_ptr<const AmqpConsumer> consumer = consumers_.at(id->second).spec;
  try {
    consumer->on_message(std::move(message));
  } catch (const std::exception& e) {
    logger("transport")
        ->error("{}: a consumer callback failed: {}", name_, e.what());
  }
}

uint64_t AmqpConsumers::epoch_of(uint16_t channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.epoch;
}

void AmqpConsumers::settle(AmqpConnection& connection,
                           const SettleCommand& settle) const {
  // A delivery of a channel closed since (by us or with its connection)
  // is the broker's again: it redelivers it. Its tag could name another
  // message on a channel opened later under the same number.
  auto channel = channels_.find(settle.channel);
  if (channel == channels_.end() || !channel->second.open ||
      channel->second.epoch != settle.channel_epoch) {
    return;
  }
  const int status =
      settle.how == Settle::kAck
          ? amqp_basic_ack(connection.state(), settle.channel,
                           settle.delivery_tag, 0)
          : amqp_basic_nack(connection.state(), settle.channel,
                            settle.delivery_tag, 0, /*requeue=*/1);
  connection.check_status(status, "acknowledging a delivery");
}

// The broker cancels a consumer whose queue was deleted (or, on a cluster,
// whose queue's node went away); declaring and consuming again brings it
// back.
void AmqpConsumers::restart_cancelled(const std::string& tag,
                                      AmqpConnection& connection,
                                      AmqpTopology& topology) {
  auto found = by_tag_.find(tag);
  if (found == by_tag_.end()) return;
  const uint64_t id = found->second;
  Entry& entry = consumers_.at(id);
  by_tag_.erase(found);
  entry.tag.clear();
  logger("transport")
      ->warn(
          "{}: the broker cancelled a consumer (its queue was deleted?); "
          "declaring it again",
          name_);
  resume(id, entry, connection, topology);
  if (!entry.tag.empty()) {
    logger("transport")
        ->info("{}: the cancelled consumer consumes again", name_);
  }
}

void AmqpConsumers::forget() {
  by_tag_.clear();
  for (auto& [id, entry] : consumers_) entry.tag.clear();
  for (auto& [number, spec] : channels_) spec.open = false;
}

void AmqpConsumers::restore(AmqpConnection& connection,
                            AmqpTopology& topology) {
  for (auto& [number, spec] : channels_) open(connection, number, spec);
  for (auto& [id, entry] : consumers_) resume(id, entry, connection, topology);
}

}  // namespace isoqube::detail
