// The envelope decoder, as the RabbitMQ transport calls it on every
// delivered body: as an envelope (application/vnd.masstransit+json), or as
// MassTransit's raw JSON (application/json) when the input starts "raw:".
// Properties: only MessageError comes out of reading; what is read, encode()
// writes, and decode() reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "isoqube/errors.h"
#include "isoqube/message.h"
#include "transport/amqp_envelope.h"

using namespace isoqube;

namespace {

void check_round_trip(const Envelope& e) {
  std::string text;
  try {
    text = encode(e);
  } catch (const MessageError&) {
    return;  // strings that are not UTF-8 are refused, not written
  }
  const Envelope back = decode(text);
  FUZZ_CHECK(back.message_id == e.message_id, "messageId round-trips");
  FUZZ_CHECK(back.correlation_id == e.correlation_id, "correlationId");
  FUZZ_CHECK(back.conversation_id == e.conversation_id, "conversationId");
  FUZZ_CHECK(back.initiator_id == e.initiator_id, "initiatorId");
  FUZZ_CHECK(back.source_address == e.source_address, "sourceAddress");
  FUZZ_CHECK(back.destination_address == e.destination_address,
             "destinationAddress");
  FUZZ_CHECK(back.message_type == e.message_type, "messageType");
  FUZZ_CHECK(back.message == e.message, "message");
  FUZZ_CHECK(back.headers == e.headers, "headers");
  FUZZ_CHECK(back.host == e.host, "host");
  FUZZ_CHECK(format_time(back.sent_time) == format_time(e.sent_time),
             "sentTime");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  detail::AmqpProperties properties;
  constexpr std::string_view kRaw = "raw:";
  if (body.substr(0, kRaw.size()) == kRaw) {
    body.remove_prefix(kRaw.size());
    properties.content_type = "application/json";
    properties.headers = {{"MT-MessageType", "urn:message:Fuzz:Message"}};
  }
  try {
    const Envelope e = detail::read_envelope(properties, body);
    try {
      (void)step_ref(e);
    } catch (const MessageError&) {
    }
    check_round_trip(e);
  } catch (const MessageError&) {
  }
  return 0;
}
