// `<endpoint>_error`: what goes in (the original message, its properties
// and headers kept, with MassTransit's fault headers added) and reading it
// back without taking anything out. Internal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isoqube/transport.h"
#include "transport/amqp_connection.h"
#include "transport/amqp_message.h"

namespace isoqube::detail {

// The publish that moves `message`, received on `endpoint`, to its error
// queue. Without `message_headers`, the message's own headers are left
// out, and a header says how many: for a message whose headers and the
// fault's do not fit in one frame together.
AmqpOutgoing error_publish(const AmqpIncoming& message,
                           const std::string& endpoint, const Fault& fault,
                           bool message_headers = true);

// Every message in `endpoint`'s error queue, oldest first; none when the
// queue does not exist. Reads with basic.get on `channel`, which it opens,
// and closes the channel after, which gives every message back to the
// queue in its place. Runs on the connection's own thread.
std::vector<ErrorMessage> read_error_queue(AmqpConnection& connection,
                                           uint16_t channel,
                                           const std::string& endpoint);

}  // namespace isoqube::detail
