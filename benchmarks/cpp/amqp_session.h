// A blocking rabbitmq-c connection for the broker ceiling benchmark
// (amqp_ceiling.cc): RAII, failures as exceptions, and the few AMQP calls the
// ceiling needs. Deliberately independent of Isoqube's transport: it is the
// baseline Isoqube is measured against.
//
// Thread-safety: none. One thread owns a session; rabbitmq-c connections
// must not be shared between threads.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bench {

// What the broker sent next on a session.
struct AmqpEvent {
  enum class Kind { kTimeout, kOther, kDelivery, kConfirm };
  Kind kind = Kind::kTimeout;  // kOther: a frame of no interest here
  // kDelivery
  amqp_channel_t channel = 0;
  uint64_t delivery_tag = 0;
  std::string body;
  // kConfirm: the broker holds publish `sequence` (and, when `multiple`,
  // every earlier one on the channel).
  uint64_t sequence = 0;
  bool multiple = false;
};

class AmqpSession {
 public:
  // Connects and logs in with a 60 s heartbeat, as Isoqube's transport does.
  // Throws std::runtime_error naming the URI (password masked).
  explicit AmqpSession(const std::string& uri);
  ~AmqpSession();
  AmqpSession(const AmqpSession&) = delete;
  AmqpSession& operator=(const AmqpSession&) = delete;

  void open_channel(amqp_channel_t channel);
  // Puts the channel in publisher-confirm mode: publish() then returns the
  // sequence number the broker's basic.ack refers to.
  void confirm_select(amqp_channel_t channel);
  // How publishes reach a queue Q, for every session of the process: the
  // default exchange straight to Q, or MassTransit's topology as Isoqube
  // declares it (a fanout exchange "Q.topic" bound to a fanout exchange "Q"
  // bound to the queue), which costs the broker two exchange hops.
  enum class Route { kDirect, kMassTransit };
  static void set_route(Route route) { route_ = route; }

  // Declares a durable classic queue (and its exchanges, by the route) and
  // empties it of earlier runs' messages.
  void declare_queue(amqp_channel_t channel, const std::string& queue);
  void delete_queue(amqp_channel_t channel, const std::string& queue);
  // Starts a manual-ack consumer holding at most `prefetch` unacked messages.
  void consume(amqp_channel_t channel, const std::string& queue,
               uint16_t prefetch);
  // Publishes a persistent message to `queue` by the route.
  // Returns its publish sequence number on the channel.
  uint64_t publish(amqp_channel_t channel, const std::string& queue,
                   const std::string& body);
  void ack(amqp_channel_t channel, uint64_t delivery_tag);
  // Waits up to `timeout` for a delivery or a publisher confirm. Throws on a
  // nack, a closed channel or connection, or a socket error.
  AmqpEvent next(std::chrono::milliseconds timeout);

 private:
  AmqpEvent read_method_frame();
  void check(amqp_rpc_reply_t reply, const char* what) const;
  void check(int status, const char* what) const;

  static inline Route route_ = Route::kDirect;
  amqp_connection_state_t connection_;
  std::string masked_uri_;
  std::map<amqp_channel_t, uint64_t> published_;  // last sequence per channel
};

// Publishes awaiting their confirm, each with the delivery to ack once the
// broker holds it (0: none), so an ack never precedes the publish it caused.
class PendingConfirms {
 public:
  void add(uint64_t sequence, uint64_t delivery_tag);
  // Forgets the publishes a confirm covers; returns their delivery tags.
  std::vector<uint64_t> confirm(uint64_t sequence, bool multiple);
  std::size_t size() const { return pending_.size(); }

 private:
  std::map<uint64_t, uint64_t> pending_;
};

}  // namespace bench
