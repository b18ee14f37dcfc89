// A bare rabbitmq-c client for the tests: publishes bodies the transport
// would never write (malformed, oversize, other content types) and looks at
// queues from the broker's side.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "isoqube/json.h"
#include "isoqube/message.h"
#include "transport/amqp_connection.h"
#include "transport/amqp_message.h"
#include "transport/amqp_options.h"
#include "transport/amqp_table.h"

namespace isoqube::testing {

class RawClient {
 public:
  explicit RawClient(const std::string& uri)
      : options_(detail::parse_amqp_uri(uri)),
        connection_(std::make_unique<detail::AmqpConnection>(
            options_, options_.hosts.front())) {
    connection_->open_channel(kChannel);
    amqp_confirm_select(connection_->state(), kChannel);
    connection_->check_reply(kChannel, "confirm.select");
  }

  // Publishes and waits for the broker's confirm.
  void publish(
      const std::string& exchange, const std::string& body,
      const std::string& content_type = std::string(kEnvelopeContentType),
      const Json& headers = Json::object()) {
    detail::AmqpProperties properties;
    properties.content_type = content_type;
    properties.message_id = new_uuid();
    properties.headers = headers;
    publish(exchange, properties, body);
  }

  void publish(const std::string& exchange,
               const detail::AmqpProperties& properties,
               const std::string& body) {
    detail::AmqpPropertiesBuilder builder;
    const amqp_basic_properties_t amqp_properties = builder.build(properties);
    connection_->check_status(
        amqp_basic_publish(connection_->state(), kChannel,
                           detail::amqp_bytes(exchange), amqp_empty_bytes, 0, 0,
                           &amqp_properties, detail::amqp_bytes(body)),
        "publish");
    amqp_frame_t frame;
    connection_->check_status(
        amqp_simple_wait_frame(connection_->state(), &frame), "confirm");
    ASSERT_EQ(frame.frame_type, AMQP_FRAME_METHOD);
    ASSERT_EQ(frame.payload.method.id, AMQP_BASIC_ACK_METHOD);
  }

  // A durable fanout exchange and a durable queue of the same name, bound:
  // how MassTransit declares an endpoint's `_error` and `_skipped` queues.
  void declare_masstransit_queue(const std::string& name) {
    amqp_exchange_declare(
        connection_->state(), kChannel, detail::amqp_bytes(name),
        amqp_cstring_bytes("fanout"), 0, /*durable=*/1, 0, 0, amqp_empty_table);
    connection_->check_reply(kChannel, "declare exchange " + name);
    amqp_queue_declare(connection_->state(), kChannel, detail::amqp_bytes(name),
                       0, /*durable=*/1, 0, 0, amqp_empty_table);
    connection_->check_reply(kChannel, "declare queue " + name);
    amqp_queue_bind(connection_->state(), kChannel, detail::amqp_bytes(name),
                    detail::amqp_bytes(name), amqp_empty_bytes,
                    amqp_empty_table);
    connection_->check_reply(kChannel, "bind queue " + name);
  }

  // Messages ready in `queue` (not delivered to a consumer).
  uint32_t ready(const std::string& queue) {
    const amqp_queue_declare_ok_t* ok = amqp_queue_declare(
        connection_->state(), kChannel, detail::amqp_bytes(queue), 1, 0, 0, 0,
        amqp_empty_table);
    connection_->check_reply(kChannel, "passive declare of " + queue);
    return ok->message_count;
  }

 private:
  static constexpr uint16_t kChannel = 1;
  detail::AmqpOptions options_;
  std::unique_ptr<detail::AmqpConnection> connection_;
};

}  // namespace isoqube::testing
