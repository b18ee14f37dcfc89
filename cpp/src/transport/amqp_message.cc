#include "transport/amqp_message.h"

namespace isoqube::detail {
namespace {

constexpr uint8_t kPersistent = 2;
constexpr uint8_t kTransient = 1;

void copy_if_set(const amqp_basic_properties_t& from, amqp_flags_t flag,
                 amqp_bytes_t amqp_basic_properties_t::*field,
                 std::string& to) {
  if (from._flags & flag) to = to_string(from.*field);
}

void set_if_not_empty(amqp_basic_properties_t& to, amqp_flags_t flag,
                      amqp_bytes_t amqp_basic_properties_t::*field,
                      const std::string& from) {
  if (from.empty()) return;
  to._flags |= flag;
  to.*field = amqp_bytes(from);
}

}  // namespace

AmqpProperties read_properties(const amqp_basic_properties_t& p) {
  AmqpProperties out;
  using P = amqp_basic_properties_t;
  copy_if_set(p, AMQP_BASIC_CONTENT_TYPE_FLAG, &P::content_type,
              out.content_type);
  copy_if_set(p, AMQP_BASIC_CONTENT_ENCODING_FLAG, &P::content_encoding,
              out.content_encoding);
  copy_if_set(p, AMQP_BASIC_CORRELATION_ID_FLAG, &P::correlation_id,
              out.correlation_id);
  copy_if_set(p, AMQP_BASIC_REPLY_TO_FLAG, &P::reply_to, out.reply_to);
  copy_if_set(p, AMQP_BASIC_MESSAGE_ID_FLAG, &P::message_id, out.message_id);
  copy_if_set(p, AMQP_BASIC_TYPE_FLAG, &P::type, out.type);
  copy_if_set(p, AMQP_BASIC_APP_ID_FLAG, &P::app_id, out.app_id);
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
  using P = amqp_basic_properties_t;
  set_if_not_empty(to, AMQP_BASIC_CONTENT_TYPE_FLAG, &P::content_type,
                   from.content_type);
  set_if_not_empty(to, AMQP_BASIC_CONTENT_ENCODING_FLAG, &P::content_encoding,
                   from.content_encoding);
  set_if_not_empty(to, AMQP_BASIC_CORRELATION_ID_FLAG, &P::correlation_id,
                   from.correlation_id);
  set_if_not_empty(to, AMQP_BASIC_REPLY_TO_FLAG, &P::reply_to, from.reply_to);
  set_if_not_empty(to, AMQP_BASIC_MESSAGE_ID_FLAG, &P::message_id,
                   from.message_id);
  set_if_not_empty(to, AMQP_BASIC_TYPE_FLAG, &P::type, from.type);
  set_if_not_empty(to, AMQP_BASIC_APP_ID_FLAG, &P::app_id, from.app_id);
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
