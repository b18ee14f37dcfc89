// The RabbitMQ transport, through rabbitmq-c, on MassTransit's wire
// conventions (README.md, "Reference: what each boundary accepts").
//
// URI:  amqp://user:password@host[:port][,host2[:port]...]/vhost[?options]
//       amqps://...   (TLS; default port 5671 instead of 5672)
// The user and password default to guest/guest. The vhost is the
// percent-decoded path: "/%2f" and an empty path are the default vhost "/".
// Several hosts are tried in the order given, at start and on every
// reconnect (starting after the host that was lost). IPv6 addresses go in
// brackets. Options (an unknown one is a ConfigurationError naming it):
//   heartbeat=S              AMQP heartbeat in seconds (default 30, 0 off);
//                            two missed intervals count as a lost connection
//   connection_timeout_ms=T  connecting to one host (TCP, TLS, login), and
//                            each declaration round trip (default 10000)
//   publish_timeout_ms=T     how long publish(), send_delayed(), subscribe()
//                            and the other calls that need the broker wait
//                            for it, through outages, before throwing
//                            TransportError (default 30000)
//   queue_type=classic|quorum  type of the endpoint, error and delay queues
//                            (default classic)
//   prefetch=N               unacknowledged deliveries per endpoint of an
//                            inbox, instead of what subscribe() asks for
//   reconnect_min_ms=T, reconnect_max_ms=T
//                            pause before the first reconnect attempt, and
//                            the most it doubles to (defaults 100, 5000)
//   amqps only: cacertfile=PATH (CA certificates, PEM; default: the
//                            system's), certfile=PATH and keyfile=PATH
//                            (client certificate and key, PEM; keys without
//                            a passphrase), verify=true|false (the broker's
//                            certificate and host name, default true;
//                            rabbitmq-c 0.11 matches host names, not IP
//                            addresses, so connect by name)
//
// Topology: see amqp_topology.h. Envelopes and faults on the wire: see
// amqp_envelope.h; raw application/json messages with an MT-MessageType
// header are accepted by wrapping them in an envelope, other content types
// are moved to the error queue. Received messages that do not decode, or
// are over kMaxMessageBytes, go to the error queue with the reason and never
// reach receive() (amqp_inbox.h); publishing one over the limit throws
// MessageError.
//
// Guarantees: messages are persistent and their queues durable; publish() and
// send_delayed() return once the broker confirmed the message (many publishes
// from many threads are in flight at once, each thread waits for its own
// confirm); publish_async() hands the confirm to a callback instead, so one
// thread can have many publishes in flight. Publishes are mandatory: a topic
// that no endpoint is bound to yet makes publish() throw TransportError instead
// of the message vanishing. Deliveries are acknowledged manually; basic.qos is
// the inbox's prefetch for each of its endpoints (a limit shared by the
// endpoints costs the broker a round trip to the channel's limiter per
// delivery, and quorum queues refuse it). Delayed sends use per-delay TTL
// queues that dead-letter to the endpoint (no plugin). While the broker blocks
// publishers (memory or disk alarm, connection.blocked) publishes wait, within
// publish_timeout_ms, and consumers go on acking. Broadcasts: see
// amqp_broadcast.h; they are transient, unconfirmed and dropped while the
// connection is down.
//
// Connections: two, each with its own I/O thread (amqp_link.h: threads,
// channels, recovery; while that thread sleeps, a thread that publishes to a
// declared topic or acks sends the frames itself, under the link's I/O lock, so
// a connection is still used by one thread at a time): one publishes (confirms,
// error queue moves, broadcasts, error queue reads), the other consumes
// (inboxes, acks, listeners). RabbitMQ advises this split: its flow control
// slows down reading from a connection that publishes too fast, and acks and
// consumption should not wait behind that. Measured on a 2-core machine
// (benchmarks/cpp/amqp_transport_bench), one connection and two gave the same
// hop latency and throughput within noise, so the split costs nothing.
//
// Thread-safety: as Transport (transport.h): every method from any thread.
#pragma once

#include <memory>
#include <string>

#include "isoqube/transport.h"
#include "transport/amqp_inbox.h"
#include "transport/amqp_link.h"
#include "transport/amqp_options.h"

namespace isoqube::detail {

class AmqpTransport final : public Transport {
 public:
  // Connects; throws TransportError naming the URI (password masked) when
  // no host can be reached or the login fails.
  explicit AmqpTransport(const AmqpOptions& options);
  ~AmqpTransport() override;

  bool distributed() const override { return true; }
  std::unique_ptr<Inbox> subscribe(const std::vector<Binding>& bindings,
                                   std::size_t prefetch) override;
  void publish(const std::string& entity_name, Envelope envelope) override;
  // `confirmed` runs on the publishing link's thread, or on this one before
  // it returns when sending the message here failed for good (its headers
  // do not fit in a frame).
  void publish_async(const std::string& entity_name, Envelope envelope,
                     Confirmed confirmed) override;
  void send_delayed(const std::string& endpoint, Envelope envelope,
                    std::chrono::milliseconds delay) override;
  std::vector<ErrorMessage> error_messages(std::string_view endpoint) override;
  void broadcast(std::string_view channel, Json message) override;
  // Sent as it is, on the link's thread, with the other broadcasts.
  void broadcast_text(std::string_view channel, std::string json) override;
  // Calls `on_message` on the consuming link's I/O thread.
  std::unique_ptr<Listening> listen(
      std::string_view channel, BroadcastsFrom from,
      std::function<void(const Json&)> on_message) override;
  TransportStats stats() const override;
  // On the URI's first host.
  std::string address(std::string_view name) const override;

 private:
  void send(Destination to, const Envelope& envelope);
  AmqpOutgoing outgoing(Destination to, const Envelope& envelope) const;

  const AmqpOptions options_;
  std::shared_ptr<AmqpLink> publisher_;
  std::shared_ptr<AmqpLink> consumer_;
  std::shared_ptr<AmqpCounters> counters_;
  std::shared_ptr<AmqpSettler> settler_;
};

}  // namespace isoqube::detail
