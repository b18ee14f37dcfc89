#include "transport/amqp_message.h"

namespace isoqube::detail {
namespace {

constexpr uint8_t kPersistent = 2;
constexpr uint8_t kTransient = 1;

// The text properties: flag, rabbitmq-c field, AmqpProperties field.
struct TextProperty {
  amqp_flags_t flag;
  amqp_bytes_t amqp_basic_properties_t::*amqp;
  std::string AmqpProperties::*ours;
};

using P = amqp_basic_properties_t;
constexpr TextProperty kTextProperties[] = {
    {AMQP_BASIC_CONTENT_TYPE_FLAG, &P::content_type,
     &AmqpProperties::content_type},
    {AMQP_BASIC_CONTENT_ENCODING_FLAG, &P::content_encoding,
     &AmqpProperties::content_encoding},
    {AMQP_BASIC_CORRELATION_ID_FLAG, &P::correlation_id,
     &AmqpProperties::correlation_id},
    {AMQP_BASIC_REPLY_TO_FLAG, &P::reply_to, &AmqpProperties::reply_to},
    {AMQP_BASIC_MESSAGE_ID_FLAG, &P::message_id, &AmqpProperties::message_id},
    {AMQP_BASIC_TYPE_FLAG, &P::type, &AmqpProperties::type},
    {AMQP_BASIC_APP_ID_FLAG, &P::app_id, &AmqpProperties::app_id},
};

}  // namespace

AmqpProperties read_properties(const amqp_basic_properties_t& p) {
  AmqpProperties out;
  for (const TextProperty& text : kTextProperties) {
    if (p._flags & text.flag) out.*text.ours = to_string(p.*text.amqp);
  }
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
    out.headers = table_to_json(p.headers);
  }
  out.persistent = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) &&
                   p.delivery_mode == kPersistent;
  if (p._flags & AMQP_BASIC_PRIORITY_FLAG) out.priority = p.priority;
  if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = p.timestamp;
  return out;
}

amqp_basic_properties_t AmqpPropertiesBuilder::build(
    const AmqpProperties& from) {
  amqp_basic_properties_t to{};
  for (const TextProperty& text : kTextProperties) {
    const std::string& value = from.*text.ours;
    if (value.empty()) continue;
    to._flags |= text.flag;
    to.*text.amqp = amqp_bytes(value);
  }
  if (!from.headers.empty()) {
    to._flags |= AMQP_BASIC_HEADERS_FLAG;
    to.headers = tables_.build(from.headers);
  }
  to._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  to.delivery_mode = from.persistent ? kPersistent : kTransient;
  if (from.priority != 0) {
    to._flags |= AMQP_BASIC_PRIORITY_FLAG;
    to.priority = from.priority;
  }
  if (from.timestamp != 0) {
    to._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    to.timestamp = from.timestamp;
  }
  return to;
}

}  // namespace isoqube::detail
