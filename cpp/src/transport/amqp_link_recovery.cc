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
  consumers_.restore(connection, *topology_);
  set_status("");
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
  consumers_.forget();
  end_broadcast_batch();  // best-effort: not kept for the next connection
  // Unconfirmed publishes were sent first, held ones next: both go before
  // the rest, in that order.
  requeue_first(publisher_.take_to_resend());
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
  publisher_.expire([this] { return status(); });
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
      broadcaster_.gather(broadcast->channel, std::move(broadcast->json));
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
  publisher_.fail_all(closed);
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
  topology_.reset();
  connection_.reset();
}

}  // namespace isoqube::detail
