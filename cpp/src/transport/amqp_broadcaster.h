// The broadcasts of one link (AmqpLink): gathered for kBroadcastLinger, or
// until kMaxBroadcastBatch of them wait, and sent together as one message
// per channel on kBroadcastChannel (amqp_broadcast.h), transient and
// unconfirmed. Internal.
//
// Owns: the broadcasts gathered and not yet sent or dropped.
// Thread: whoever holds the link's I/O lock, which is the link's thread
// (broadcasts never go out from another thread); not thread-safe.
// Invariants: since() is when the oldest broadcast gathered was; what is
// gathered goes out in the order it was gathered, per channel, or not at
// all (dropped with a lost connection: broadcasts are best-effort).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "transport/amqp_connection.h"
#include "transport/amqp_topology.h"

namespace isoqube::detail {

class AmqpBroadcaster {
 public:
  using Clock = std::chrono::steady_clock;
  // Per channel, each broadcast one JSON value as text.
  using Batches = std::map<std::string, std::vector<std::string>>;

  // `origin` goes out as the app-id of every broadcast; `name` names the
  // link in logs.
  AmqpBroadcaster(std::string origin, std::string name);

  void gather(const std::string& channel, std::string json);
  bool empty() const { return count_ == 0; }
  // Since when the oldest gathered broadcast waits; meaningless when empty.
  Clock::time_point since() const { return since_; }
  // Waited long enough, or enough of them.
  bool due() const;
  // What was gathered; nothing is left gathered.
  Batches take();
  // Sends batches on `channel` of the connection, at most
  // kMaxBroadcastBatch per message. A channel whose exchange cannot be
  // declared is logged and dropped; a lost connection throws.
  void send(AmqpConnection& connection, AmqpTopology& topology,
            uint16_t channel, const Batches& batches) const;

 private:
  const std::string origin_;
  const std::string name_;
  Batches gathered_;
  std::size_t count_ = 0;
  Clock::time_point since_;
};

}  // namespace isoqube::detail
