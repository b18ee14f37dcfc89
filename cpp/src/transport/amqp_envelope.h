// Envelopes and faults on the AMQP wire, as MassTransit writes and reads
// them (README.md, "Reference: what each boundary accepts"). Internal.
//
// Written: the body is the JSON envelope (message.h's encode()), content
// type application/vnd.masstransit+json in the property and in a
// `Content-Type` header, delivery mode persistent, message-id and
// correlation-id properties from the envelope.
//
// Read, by content type (property, else the `Content-Type` header):
//   application/vnd.masstransit+json, or none: the body is an envelope.
//   application/json: MassTransit's raw JSON. The body is the message
//     itself and is wrapped in an envelope built from the transport headers
//     MassTransit's raw serializer writes (MT-MessageType, MessageId,
//     CorrelationId, ConversationId, MT-InitiatorId, MT-Source-Address).
//     Without MT-MessageType the message type is unknown and it is
//     rejected.
//   anything else: rejected (MessageError naming the content type).
// Bodies over kMaxMessageBytes are rejected before they are parsed.
#pragma once

#include <string_view>

#include "isoqube/json.h"
#include "isoqube/message.h"
#include "isoqube/transport.h"
#include "transport/amqp_message.h"

namespace isoqube::detail {

AmqpProperties envelope_properties(const Envelope& envelope);

// Throws MessageError saying why the message is not a usable envelope.
Envelope read_envelope(const AmqpProperties& properties, std::string_view body);

// The headers MassTransit puts on a message it moves to an error queue:
// MT-Reason, MT-Fault-ExceptionType, MT-Fault-Message, MT-Fault-Timestamp
// (now, unless the fault has one), MT-Fault-RetryCount, MT-Fault-StackTrace
// (empty when there is none, as MassTransit writes it),
// MT-Host-MachineName/ProcessName/ProcessId, and those of
// MT-Fault-InputAddress, -ConsumerType and -MessageType the fault has.
Json fault_headers(const Fault& fault);
// The fault read back from those headers; missing ones stay default.
Fault read_fault(const Json& headers);

}  // namespace isoqube::detail
