// Carrying messages between publishers and consumers.
//
// The topology mirrors MassTransit on RabbitMQ: a fanout exchange per topic
// (named by its entity name); per consumer endpoint a queue bound to the
// topics it consumes. Several subscribers of one endpoint compete for its
// messages; every endpoint bound to a topic gets its own copy.
//
// Implementations, chosen by URI scheme in open_transport():
//   memory://[?capacity=N&publish_timeout_ms=T]
//               in-process bounded queues (default capacity 100000 messages
//               per endpoint); envelopes are passed without encoding. A
//               publish to a full endpoint waits up to publish_timeout_ms
//               (default 30000), then throws TransportError.
//   amqp://user:pass@host[:port][,host2[:port]...]/vhost[?options]
//   amqps://...  RabbitMQ through rabbitmq-c, MassTransit's topology and
//               envelope (see cpp/src/transport/amqp_transport.h for the
//               options: heartbeat, queue_type, TLS files, timeouts).
//
// Every implementation behaves alike where this header says so; the
// transport conformance suite (tests/cpp/transport/transport_conformance.h)
// runs the same specifications against each.
//
// Thread-safety: every method may be called from any thread. Deliveries are
// received from an Inbox by the worker's threads; ack/reject of a delivery
// may be called from any thread, once.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/message.h"
#include "isoqube/registry.h"

namespace isoqube {

// Why a message went to an error queue. On RabbitMQ these travel as
// MassTransit's fault headers (MT-Reason, MT-Fault-*) so the cause shows in
// the broker's UI, and a fault a MassTransit service wrote reads back into
// the same fields.
struct Fault {
  std::string message;  // what went wrong, for people
  std::string exception_type = "isoqube.MessageError";
  std::string reason = "fault";  // MT-Reason
  int retry_count = 0;           // attempts made before giving up
  std::string stack_trace;       // MT-Fault-StackTrace, when there is one
  // The rest is filled by the transport when the message is rejected and
  // read back as written: the endpoint's address (Transport::address), the
  // time (ISO 8601), and the consumer and message types a MassTransit
  // service names.
  std::string input_address;  // MT-Fault-InputAddress
  std::string timestamp;      // MT-Fault-Timestamp
  std::string consumer_type;  // MT-Fault-ConsumerType
  std::string message_type;   // MT-Fault-MessageType
};

// A message in an error queue, as error_messages() reads it back.
struct ErrorMessage {
  std::optional<Envelope> envelope;  // nullopt when the body did not decode
  std::string body;                  // the raw body (brokers only)
  Fault fault;
};

struct Delivery {
  std::shared_ptr<const Envelope> envelope;
  std::string endpoint;
  bool redelivered = false;  // the transport delivered it before, unacked
  // Exactly one of these is called when the worker is done with it.
  std::function<void()> ack;
  // Moves the message to the endpoint's error queue with the fault.
  std::function<void(const Fault& fault)> reject;
  // Gives the message back for another delivery (marked redelivered), for
  // failures that are not the message's fault (store unreachable).
  std::function<void()> requeue;
};

struct Binding {
  std::string endpoint;             // queue name
  std::vector<std::string> topics;  // entity names of the topics it consumes
};

class Inbox {
 public:
  virtual ~Inbox() = default;
  // Next delivery for any of the inbox's endpoints, or nullopt after
  // `timeout` or once closed.
  virtual std::optional<Delivery> receive(
      std::chrono::milliseconds timeout) = 0;
  // Wakes blocked receive() calls; later calls return nullopt at once.
  virtual void close() = 0;
};

struct TransportStats {
  uint64_t published = 0;
  uint64_t delivered = 0;
  uint64_t acked = 0;
  uint64_t rejected = 0;
};

// Whose broadcasts a listener hears: everyone's, or only those made through
// other transports (other processes), when it has heard its own already.
// The RabbitMQ transport skips its own without reading them.
enum class BroadcastsFrom { kAnyone, kOthers };

// Held by a listen() caller; destroying it stops the calls.
class Listening {
 public:
  virtual ~Listening() = default;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Whether other processes can share this transport (a broker). Engines
  // broadcast run events only on distributed transports: in one process the
  // engine already hands every event to its subscribers (RunEvents).
  virtual bool distributed() const { return false; }

  // Declares the endpoints and their bindings, and returns an inbox that
  // receives from them, holding at most `prefetch` unacknowledged deliveries
  // (on RabbitMQ: per endpoint). Endpoints are durable: they and their
  // bindings outlive the inbox, and keep what is published to them until an
  // inbox receives it.
  virtual std::unique_ptr<Inbox> subscribe(const std::vector<Binding>& bindings,
                                           std::size_t prefetch) = 0;

  // Publishes to every endpoint bound to the topic's entity. Returns once the
  // transport holds the message (on a broker: the publisher confirm).
  // Throws TransportError when it cannot, and when no endpoint is bound to
  // the topic: the message is then dropped, not kept for a later binding
  // (RabbitMQ's mandatory publish), so that a message nobody will consume
  // is an error at once rather than a silent wait.
  virtual void publish(const std::string& entity_name, Envelope envelope) = 0;

  // Called once with the outcome of publish_async(): nullptr once the
  // transport holds the message, or the error publish() would have thrown.
  using Confirmed = std::function<void(std::exception_ptr error)>;

  // Publishes like publish() without waiting for the broker: a worker hands
  // over a step's successors and goes on to its next delivery while their
  // confirms travel. Either throws, as publish() does, and never calls
  // `confirmed`, or calls it once: on a transport thread, which it must not
  // hold up (no waiting, no store writes), or before returning. The default
  // calls publish() and then `confirmed`.
  virtual void publish_async(const std::string& entity_name, Envelope envelope,
                             Confirmed confirmed);

  // Delivers to one endpoint after `delay` (retries), declaring it when
  // nothing did yet. Same guarantee as publish().
  virtual void send_delayed(const std::string& endpoint, Envelope envelope,
                            std::chrono::milliseconds delay) = 0;

  // Messages moved to `<endpoint>_error`, for inspection and tests. Leaves
  // them there.
  virtual std::vector<ErrorMessage> error_messages(
      std::string_view endpoint) = 0;

  // Best-effort fan-out of a JSON value to every listener of `channel` in
  // any process sharing the transport: not persistent, not confirmed (the
  // store's event log is the record). A transport may batch several
  // messages into one. Used for live run events (the seed's
  // EventNotification).
  virtual void broadcast(std::string_view channel, Json message) = 0;
  // The same for a message already written as JSON text (one JSON value,
  // not checked): run events are written straight to text. The default
  // parses it and calls broadcast().
  virtual void broadcast_text(std::string_view channel, std::string json);

  // Calls `on_message` on a transport thread for every message broadcast on
  // `channel` by `from` after this returns, until the result is destroyed.
  // The callback must not block for long and must not call back into
  // listen().
  virtual std::unique_ptr<Listening> listen(
      std::string_view channel, BroadcastsFrom from,
      std::function<void(const Json&)> on_message) = 0;

  virtual TransportStats stats() const = 0;

  // The address MassTransit would give the exchange or queue `name` on this
  // transport, written as an envelope's sourceAddress and
  // destinationAddress: "rabbitmq://host:port/vhost/name" on RabbitMQ
  // ("rabbitmqs://" over TLS; no vhost segment for "/"), and, as
  // MassTransit's in-memory transport writes it, "loopback://localhost/name"
  // (the default).
  virtual std::string address(std::string_view name) const;
};

// Throws ConfigurationError for an unknown scheme or malformed URI,
// TransportError when the transport cannot be reached.
std::unique_ptr<Transport> open_transport(std::string_view uri);

}  // namespace isoqube
