// Messages as the RabbitMQ transport moves them: AMQP basic properties,
// where a message is going, and what arrives, in plain C++ values that own
// their bytes (rabbitmq-c's frames live only until its buffers are
// recycled). Internal.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "isoqube/json.h"
#include "transport/amqp_table.h"

namespace isoqube::detail {

// The basic properties Isoqube reads and writes. user-id is left out on
// purpose: RabbitMQ refuses a publish whose user-id is not the connection's
// user, so one copied from a received message could not be re-published.
struct AmqpProperties {
  std::string content_type;
  std::string content_encoding;
  std::string correlation_id;
  std::string reply_to;
  std::string message_id;
  std::string type;
  std::string app_id;
  Json headers = Json::object();
  bool persistent = true;  // delivery-mode 2
  uint8_t priority = 0;
  uint64_t timestamp = 0;  // seconds since the epoch; 0: not set
};

AmqpProperties read_properties(const amqp_basic_properties_t& properties);

// Builds rabbitmq-c properties pointing into `properties` and the builder;
// both must outlive the publish. Single-threaded.
class AmqpPropertiesBuilder {
 public:
  amqp_basic_properties_t build(const AmqpProperties& properties);

 private:
  AmqpTableBuilder tables_;
};

// Where a message is published. The topology declares what a destination
// needs (exchanges, queues, bindings) before the first publish to it on a
// connection.
struct Destination {
  enum class Kind {
    kTopic,       // the topic's fanout exchange (`name` is its entity name)
    kEndpoint,    // the endpoint's own exchange
    kErrorQueue,  // `<name>_error`
    kDelayQueue,  // `<name>_delay_<ms>`, dead-lettering to endpoint `name`
    kBroadcast,   // the broadcast channel's exchange, transient
  };
  Kind kind = Kind::kTopic;
  std::string name;
  std::chrono::milliseconds delay{0};  // kDelayQueue only
};

struct AmqpOutgoing {
  Destination to;
  AmqpProperties properties;
  std::string body;
};

// A message delivered to a consumer (basic.deliver), and the connection it
// came on: an ack must go back on the same connection and channel.
struct AmqpIncoming {
  uint16_t channel = 0;
  uint64_t generation = 0;     // of the connection, see AmqpLink
  uint64_t channel_epoch = 0;  // which opening of `channel` it came on
  std::string consumer_tag;
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  AmqpProperties properties;
  std::string body;
};

}  // namespace isoqube::detail
