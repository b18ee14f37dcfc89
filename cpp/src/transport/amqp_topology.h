// The broker entities of the RabbitMQ transport, laid out as MassTransit
// lays them out (the README's RabbitMQ section), and their
// declaration on one connection. Internal.
//
//   topic `t`         durable fanout exchange `t`
//   endpoint `e`      durable queue `e` (classic or quorum) bound to a durable
//                     fanout exchange `e`; each topic it consumes is bound
//                     exchange-to-exchange: `t` -> `e` -> queue `e`
//   error queue       exchange and queue `e_error`, declared on first use
//   delayed sends     queue `e_delay_<ms>`: x-message-ttl <ms>, dead-lettering
//                     to exchange `e`, x-expires so an idle one vanishes
//   broadcasts        durable fanout exchange `isoqube-<channel>`; each
//                     listener an exclusive, auto-delete, server-named queue
//
// Declarations are idempotent; a conflict with an existing entity (another
// queue type, other arguments) throws ConfigurationError with the broker's
// words, and the topology's channel is reopened so the connection goes on.
//
// Thread-safety: none; used by the AmqpLink thread that owns the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "isoqube/json.h"
#include "transport/amqp_connection.h"
#include "transport/amqp_message.h"
#include "transport/amqp_options.h"

namespace isoqube::detail {

std::string error_queue_name(const std::string& endpoint);
std::string delay_queue_name(const std::string& endpoint,
                             std::chrono::milliseconds delay);
std::string broadcast_exchange_name(const std::string& channel);

// Where a publish goes on the wire.
struct AmqpTarget {
  std::string exchange;
  std::string routing_key;
};

class AmqpTopology {
 public:
  // Declares on `channel` of `connection`, which must be open.
  AmqpTopology(AmqpConnection& connection, uint16_t channel,
               QueueType queue_type);

  // Declares what publishing to `to` needs, once per connection (delay
  // queues again when their idle lease runs low), and says where to publish.
  AmqpTarget prepare(const Destination& to);
  // Where to publish to a topic already declared on this connection, with
  // nothing to send first; nullopt otherwise (prepare() it).
  std::optional<AmqpTarget> declared_target(const Destination& to) const;

  // The endpoint's queue and exchange, and a binding from each topic;
  // declared again on every call.
  void declare_endpoint(const std::string& endpoint,
                        const std::vector<std::string>& topics);

  // A fresh exclusive, auto-delete queue bound to the broadcast channel's
  // exchange; returns its server-chosen name.
  std::string declare_listener_queue(const std::string& channel);

 private:
  void declare_exchange(const std::string& name);
  // Returns the queue's name (the server's choice when `name` is empty).
  std::string declare_queue(const std::string& name, const Json& arguments,
                            bool exclusive = false);
  void bind_queue(const std::string& queue, const std::string& exchange);
  void bind_exchange(const std::string& destination, const std::string& source);
  void declare_endpoint_queue(const std::string& endpoint);
  void declare_error_queue(const std::string& endpoint);
  void declare_delay_queue(const std::string& endpoint,
                           std::chrono::milliseconds delay);
  Json queue_arguments() const;
  // Checks the reply of the last call; reopens the channel after a channel
  // error and throws the isoqube exception for it.
  void check(const std::string& what);
  // Whether `key` was declared on this connection; records it.
  bool first_time(const std::string& key);

  AmqpConnection& connection_;
  const uint16_t channel_;
  const QueueType queue_type_;
  std::set<std::string> declared_;
  // Delay queue name -> when its idle lease (x-expires) was last renewed.
  std::map<std::string, std::chrono::steady_clock::time_point> leases_;
};

}  // namespace isoqube::detail
