#include "transport/amqp_error_queue.h"

#include "transport/amqp_envelope.h"
#include "transport/amqp_topology.h"

namespace isoqube::detail {
namespace {

// Makes sure the temporary channel is closed on every path: closing is what
// returns the messages read to the queue.
class TemporaryChannel {
 public:
  TemporaryChannel(AmqpConnection& connection, uint16_t number)
      : connection_(connection), number_(number) {
    connection_.open_channel(number_);
  }
  ~TemporaryChannel() {
    if (!open_) return;
    try {
      connection_.close_channel(number_);
    } catch (const std::exception&) {
      // The connection is lost; the broker gives the messages back anyway.
    }
  }
  void closed_by_broker() { open_ = false; }

 private:
  AmqpConnection& connection_;
  const uint16_t number_;
  bool open_ = true;
};

ErrorMessage to_error_message(const amqp_message_t& message) {
  ErrorMessage out;
  const AmqpProperties properties = read_properties(message.properties);
  out.body = to_string(message.body);
  try {
    out.envelope = read_envelope(properties, out.body);
  } catch (const MessageError&) {
    // Undecodable bodies are what error queues are for.
  }
  out.fault = read_fault(properties.headers);
  return out;
}

}  // namespace

AmqpOutgoing error_publish(const AmqpIncoming& message,
                           const std::string& endpoint, const Fault& fault,
                           bool message_headers) {
  AmqpOutgoing out;
  out.to = {Destination::Kind::kErrorQueue, endpoint};
  out.properties = message.properties;
  out.properties.persistent = true;
  if (!message_headers) {
    const std::size_t dropped = out.properties.headers.size();
    out.properties.headers = Json::object();
    out.properties.headers["Isoqube-Headers-Dropped"] =
        std::to_string(dropped) +
        " headers of the message, which did not fit in one frame with "
        "the fault's";
  }
  const Json headers = fault_headers(fault);
  for (const auto& [name, value] : headers.items()) {
    out.properties.headers[name] = value;
  }
  out.body = message.body;
  return out;
}

std::vector<ErrorMessage> read_error_queue(AmqpConnection& connection,
                                           uint16_t channel,
                                           const std::string& endpoint) {
  const std::string queue = error_queue_name(endpoint);
  const std::string what = "reading queue '" + queue + "'";
  TemporaryChannel reader(connection, channel);
  amqp_connection_state_t state = connection.state();
  std::vector<ErrorMessage> messages;
  try {
    amqp_queue_declare(state, channel, amqp_bytes(queue), /*passive=*/1, 0, 0,
                       0, amqp_empty_table);
    connection.check_reply(channel, what);
    while (true) {
      const amqp_rpc_reply_t reply =
          amqp_basic_get(state, channel, amqp_bytes(queue), /*no_ack=*/0);
      connection.check_reply(reply, channel, what);
      if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) break;
      amqp_message_t message;
      connection.check_reply(amqp_read_message(state, channel, &message, 0),
                             channel, what);
      messages.push_back(to_error_message(message));
      amqp_destroy_message(&message);
      amqp_maybe_release_buffers_on_channel(state, channel);
    }
  } catch (const AmqpChannelClosed& e) {
    reader.closed_by_broker();
    if (e.code() == kReplyNotFound) return {};  // nothing was ever rejected
    // Only this temporary channel is gone; the connection goes on.
    throw TransportError(e.what());
  }
  return messages;
}

}  // namespace isoqube::detail
