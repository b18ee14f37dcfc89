// The consumers of one link (AmqpLink) and their deliveries: consumer
// channels with their prefetch, consumers kept across reconnects,
// deliveries handed to their consumer's callback, and acks and requeues.
// Internal.
//
// Owns: the consumer channels and consumers registered, by number and id,
// and which consumer tag is whose on the current connection.
// Thread: channel numbers are reserved and released from any thread;
// everything else runs on the link's thread, or for settle() on a thread
// that holds the link's I/O lock (AmqpLink::send_here()).
// Invariants: a channel's epoch counts its openings over all connections
// and is never reused, so a delivery tag (valid for one opening) is only
// ever settled on the opening it came from; a consumer with a tag is
// consuming on the current connection; after forget() none has a tag and
// no channel is open until restore().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "transport/amqp_connection.h"
#include "transport/amqp_message.h"
#include "transport/amqp_topology.h"

namespace isoqube::detail {

struct AmqpConsumer {
  uint16_t channel = 0;  // a consumer channel, or the broadcast channel
  bool no_ack = false;
  // Declares what the consumer needs and returns the queue to consume;
  // called again after every reconnect.
  std::function<std::string(AmqpTopology&)> prepare;
  // Called for every message, on the link's thread.
  std::function<void(AmqpIncoming&&)> on_message;
};

class AmqpConsumers {
 public:
  enum class Settle { kAck, kRequeue };
  struct SettleCommand {
    uint16_t channel;
    uint64_t channel_epoch;
    uint64_t delivery_tag;
    Settle how;
  };

  // `first_channel`: the lowest number a consumer channel gets;
  // `no_ack_channel`: the channel whose deliveries are never settled (the
  // broadcasts'); `name` names the link in logs.
  AmqpConsumers(uint16_t first_channel, uint16_t no_ack_channel,
                std::string name);

  // From any thread: the lowest free number, from first_channel on.
  uint16_t reserve_channel_number();
  void release_channel_number(uint16_t number);

  // Registers channel `number` and opens it on the connection, unless open.
  void open_channel(AmqpConnection& connection, uint16_t number,
                    uint16_t prefetch, bool global);
  // Closes it when `connection` (nullptr: none) has it open, and forgets it.
  void close_channel(AmqpConnection* connection, uint16_t number);

  // Registers consumer `id` and starts it, unless a reconnect started it
  // already. A failure of the connection leaves it registered, for the
  // reconnect to start; another failure unregisters it. Both throw.
  void add(uint64_t id, std::shared_ptr<const AmqpConsumer> consumer,
           AmqpConnection& connection, AmqpTopology& topology);
  // Stops it (on the connection, if any) and forgets it.
  void remove(uint64_t id, AmqpConnection* connection);

  // Hands a delivery to its consumer, on a channel opening of the current
  // connection (`generation`); one for a consumer stopped meanwhile goes
  // back to the broker.
  void deliver(AmqpIncoming&& message, AmqpConnection& connection,
               uint64_t generation);
  // The channel opening a delivery on `channel` came from.
  uint64_t epoch_of(uint16_t channel) const;
  // Acks or requeues; dropped for a channel opening that is gone.
  void settle(AmqpConnection& connection, const SettleCommand& settle) const;
  // The broker cancelled the consumer with `tag` (its queue was deleted):
  // declares and consumes again.
  void restart_cancelled(const std::string& tag, AmqpConnection& connection,
                         AmqpTopology& topology);

  // The connection is lost: nothing is open or consuming any more.
  void forget();
  // A new connection: opens the channels and resumes the consumers.
  void restore(AmqpConnection& connection, AmqpTopology& topology);

 private:
  struct ChannelSpec {
    uint16_t prefetch;
    bool global;
    bool open = false;   // on the current connection
    uint64_t epoch = 0;  // counts openings of channels, never reused
  };
  struct Entry {
    std::shared_ptr<const AmqpConsumer> spec;
    std::string tag;  // on the current connection; empty when not running
  };

  void open(AmqpConnection& connection, uint16_t number, ChannelSpec& spec);
  void start(uint64_t id, Entry& entry, AmqpConnection& connection,
             AmqpTopology& topology);
  // Failures of the connection go up; others leave the consumer stopped
  // and are logged.
  void resume(uint64_t id, Entry& entry, AmqpConnection& connection,
              AmqpTopology& topology);

  const uint16_t first_channel_;
  const uint16_t no_ack_channel_;
  const std::string name_;
  std::mutex numbers_mutex_;
  std::set<uint16_t> numbers_;  // guarded by numbers_mutex_: in use
  std::map<uint16_t, ChannelSpec> channels_;
  std::map<uint64_t, Entry> consumers_;
  std::map<std::string, uint64_t> by_tag_;
  uint64_t last_epoch_ = 0;
};

}  // namespace isoqube::detail
