// The link's thread connecting: the first connection, losing one, waiting
// and connecting again, and resuming channels and consumers on the new one.
#include <poll.h>

#include <algorithm>

#include "isoqube/log.h"
#include "transport/amqp_link.h"

namespace isoqube::detail {

// Tries every host once, in order, starting with host_index_.
bool AmqpLink::connect(std::string* errors) {
  const std::size_t count = options_.hosts.size();
  for (std::size_t i = 0; i < count && !stopping_; ++i) {
    const std::size_t index = (host_index_ + i) % count;
    const AmqpHost& host = options_.hosts[index];
    try {
      connection_ =
          std::make_unique<AmqpConnection>(options_, host, "isoqube " + name_);
      host_index_ = index;
      restore();
      return true;
    } catch (const TransportError& e) {
      if (!errors->empty()) *errors += "; ";
      *errors += e.what();
      topology_.reset();
      connection_.reset();
    }
  }
  return false;
}

// Makes the new connection what the last one was: channels, consumers.
void AmqpLink::restore() {
  ++generation_;
  last_received_ = std::chrono::steady_clock::now();
  AmqpConnection& connection = *connection_;
  connection.open_channel(kTopologyChannel);
  topology_ = std::make_unique<AmqpTopology>(connection, kTopologyChannel,
                                             options_.queue_type);
  connection.open_channel(kConfirmChannel);
  amqp_confirm_select(connection.state(), kConfirmChannel);
  connection.check_reply(kConfirmChannel, "turning on publisher confirms");
  connection.open_channel(kBroadcastChannel);
  for (auto& [number, spec] : channels_) open_consumer_channel(number, spec);
  for (auto& [id, entry] : consumers_) resume_consumer(id, entry);
  set_status("");
}

// Failures of the connection go up (to reconnect); others, such as a queue
// now declared differently, leave this consumer stopped and are logged.
void AmqpLink::resume_consumer(uint64_t id, ConsumerEntry& entry) {
  try {
    start_consumer(id, entry);
  } catch (const AmqpConnectionLost&) {
    throw;
  } catch (const AmqpChannelClosed&) {
    throw;
  } catch (const std::exception& e) {
    logger("transport")
        ->error("{}: a consumer cannot resume: {}", name_, e.what());
  }
}

void AmqpLink::open_consumer_channel(uint16_t number, ChannelSpec& spec) {
  connection_->open_channel(number);
  spec.open = true;
  spec.epoch = ++last_channel_epoch_;
  amqp_basic_qos(connection_->state(), number, 0, spec.prefetch, spec.global);
  connection_->check_reply(
      number, "setting the prefetch of channel " + std::to_string(number));
}

void AmqpLink::start_consumer(uint64_t id, ConsumerEntry& entry) {
  const AmqpLink::Consumer& consumer = *entry.spec;
  const std::string queue = consumer.prepare(*topology_);
  const amqp_basic_consume_ok_t* ok =
      amqp_basic_consume(connection_->state(), consumer.channel,
                         amqp_bytes(queue), amqp_empty_bytes, /*no_local=*/0,
                         consumer.no_ack, /*exclusive=*/0, amqp_empty_table);
  connection_->check_reply(consumer.channel,
                           "consuming from queue '" + queue + "'");
  entry.tag = to_string(ok->consumer_tag);
  consumer_by_tag_[entry.tag] = id;
}

void AmqpLink::stop_consumer(uint64_t id) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return;
  const std::string tag = it->second.tag;
  if (connection_ && !tag.empty()) {
    const uint16_t channel = it->second.spec->channel;
    amqp_basic_cancel(connection_->state(), channel, amqp_bytes(tag));
    connection_->check_reply(channel, "stopping a consumer");
  }
  consumer_by_tag_.erase(tag);
  consumers_.erase(it);
}

// The broker cancels a consumer whose queue was deleted (or, on a cluster,
// whose queue's node went away); declaring and consuming again brings it
// back.
void AmqpLink::restart_cancelled_consumer(const std::string& tag) {
  auto found = consumer_by_tag_.find(tag);
  if (found == consumer_by_tag_.end()) return;
  const uint64_t id = found->second;
  ConsumerEntry& entry = consumers_.at(id);
  consumer_by_tag_.erase(found);
  entry.tag.clear();
  logger("transport")
      ->warn(
          "{}: the broker cancelled a consumer (its queue was deleted?); "
          "declaring it again",
          name_);
  resume_consumer(id, entry);
  if (!entry.tag.empty()) {
    logger("transport")
        ->info("{}: the cancelled consumer consumes again", name_);
  }
}

void AmqpLink::on_lost(const std::string& reason) {
  const std::string host =
      connection_ ? connection_->host().to_string() : std::string("the broker");
  logger("transport")
      ->warn("{}: connection to {} lost: {}; reconnecting", name_, host,
             reason);
  set_status("connection lost: " + reason);
  topology_.reset();
  connection_.reset();
  assembler_.clear();
  consumer_by_tag_.clear();
  end_broadcast_batch();  // best-effort: not kept for the next connection
  for (auto& [id, entry] : consumers_) entry.tag.clear();
  for (auto& [number, spec] : channels_) spec.open = false;
  blocked_ = false;
  // Unconfirmed publishes were sent first, held ones next: both go before
  // the rest, in that order.
  while (!held_.empty()) {
    work_.push_front(std::move(held_.back()));
    held_.pop_back();
  }
  std::vector<std::shared_ptr<PendingPublish>> unconfirmed =
      confirms_.take_unconfirmed();
  for (auto it = unconfirmed.rbegin(); it != unconfirmed.rend(); ++it) {
    work_.push_front(std::move(*it));
  }
  host_index_ = (host_index_ + 1) % options_.hosts.size();
}

void AmqpLink::reconnect() {
  std::chrono::milliseconds delay = options_.reconnect_min;
  for (int attempt = 1; !stopping_; ++attempt) {
    pause(delay);
    if (stopping_) return;
    std::string errors;
    try {
      if (connect(&errors)) {
        logger("transport")
            ->info("{}: reconnected to {} (attempt {})", name_,
                   connection_->host().to_string(), attempt);
        return;
      }
    } catch (const std::exception& e) {
      errors = e.what();
    }
    set_status("cannot reconnect: " + errors);
    // Attempts 1, 2, 4, 8, ... are logged: enough to follow a long outage.
    if ((attempt & (attempt - 1)) == 0) {
      logger("transport")
          ->warn("{}: reconnect attempt {} failed: {}", name_, attempt, errors);
    }
    delay = std::min(delay * 2, options_.reconnect_max);
  }
}

// Sleeps without a connection, but still does what needs none.
void AmqpLink::pause(std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!stopping_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd wake{wake_.fd(), POLLIN, 0};
    poll(&wake, 1,
         milliseconds_to_next_deadline(static_cast<int>(left.count())));
    run_offline_commands();
  }
}

// Without a connection: offline tasks run, acks and broadcasts are dropped
// (acks are for deliveries of a connection that is gone), publishes and
// other tasks wait.
void AmqpLink::run_offline_commands() {
  take_commands();
  end_broadcast_batch();  // the broadcasts taken are dropped below
  expire_publishes();
  std::deque<Command> waiting;
  for (Command& command : work_) {
    if (auto* task = std::get_if<std::shared_ptr<PendingTask>>(&command)) {
      PendingTask& t = **task;
      if (!t.offline) {
        if (!t.abandoned) waiting.push_back(std::move(command));
        continue;
      }
      try {
        t.run(nullptr);
        t.succeed();
      } catch (...) {
        t.fail(std::current_exception());
      }
    } else if (auto* publish =
                   std::get_if<std::shared_ptr<PendingPublish>>(&command)) {
      if (!(*publish)->abandoned) waiting.push_back(std::move(command));
    }
  }
  work_ = std::move(waiting);
}

// Broadcasts made before close() still go out, as they would have without
// the linger; those that cannot are dropped, as ever.
void AmqpLink::send_last_broadcasts() {
  for (Command& command : work_) {
    if (auto* broadcast = std::get_if<BroadcastCommand>(&command)) {
      gather_broadcast(std::move(*broadcast));
    }
  }
  if (!connection_ || !topology_) return;
  try {
    flush_broadcasts();
  } catch (const std::exception& e) {
    logger("transport")
        ->debug("{}: last broadcasts dropped: {}", name_, e.what());
  }
}

void AmqpLink::shut_down() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  take_commands();
  send_last_broadcasts();
  const auto closed = std::make_exception_ptr(
      TransportError("the transport to " + options_.masked_uri +
                     " was closed before the broker confirmed"));
  for (auto& publish : confirms_.take_unconfirmed()) publish->fail(closed);
  for (auto& publish : held_) publish->fail(closed);
  for (Command& command : work_) {
    if (auto* publish =
            std::get_if<std::shared_ptr<PendingPublish>>(&command)) {
      (*publish)->fail(closed);
    } else if (auto* task =
                   std::get_if<std::shared_ptr<PendingTask>>(&command)) {
      (*task)->fail(closed);
    }
  }
  work_.clear();
  deadlines_.clear();
  topology_.reset();
  connection_.reset();
}

}  // namespace isoqube::detail
