#include "transport/amqp_content.h"

#include <algorithm>

#include "transport/amqp_table.h"

namespace isoqube::detail {

bool AmqpContentAssembler::starts_content(const amqp_frame_t& frame) {
  return frame.frame_type == AMQP_FRAME_METHOD &&
         (frame.payload.method.id == AMQP_BASIC_DELIVER_METHOD ||
          frame.payload.method.id == AMQP_BASIC_RETURN_METHOD);
}

std::optional<AmqpContent> AmqpContentAssembler::feed(
    const amqp_frame_t& frame) {
  const uint16_t channel = frame.channel;
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    Partial& partial = partial_[channel];
    partial = Partial{};
    AmqpIncoming& message = partial.content.message;
    message.channel = channel;
    if (frame.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
      const auto* deliver = static_cast<const amqp_basic_deliver_t*>(
          frame.payload.method.decoded);
      message.consumer_tag = to_string(deliver->consumer_tag);
      message.delivery_tag = deliver->delivery_tag;
      message.redelivered = deliver->redelivered != 0;
      message.exchange = to_string(deliver->exchange);
      message.routing_key = to_string(deliver->routing_key);
    } else {
      const auto* returned =
          static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
      partial.content.kind = AmqpContent::Kind::kReturn;
      partial.content.reply_code = returned->reply_code;
      partial.content.reply_text = to_string(returned->reply_text);
      message.exchange = to_string(returned->exchange);
      message.routing_key = to_string(returned->routing_key);
    }
    return std::nullopt;
  }
  const auto found = partial_.find(channel);
  if (found == partial_.end()) return std::nullopt;  // content of no message
  Partial& partial = found->second;
  if (frame.frame_type == AMQP_FRAME_HEADER) {
    partial.has_header = true;
    partial.body_size = frame.payload.properties.body_size;
    partial.content.message.properties =
        read_properties(*static_cast<const amqp_basic_properties_t*>(
            frame.payload.properties.decoded));
    // Reserve no more than a sane amount up front: the announced size is
    // the peer's word.
    partial.content.message.body.reserve(static_cast<std::size_t>(
        std::min<uint64_t>(partial.body_size, 64u << 20)));
  } else if (frame.frame_type == AMQP_FRAME_BODY && partial.has_header) {
    const amqp_bytes_t& fragment = frame.payload.body_fragment;
    partial.content.message.body.append(
        static_cast<const char*>(fragment.bytes), fragment.len);
  }
  return complete_if_done(channel, partial);
}

std::optional<AmqpContent> AmqpContentAssembler::complete_if_done(
    uint16_t channel, Partial& partial) {
  if (!partial.has_header ||
      partial.content.message.body.size() < partial.body_size) {
    return std::nullopt;
  }
  AmqpContent done = std::move(partial.content);
  partial_.erase(channel);
  return done;
}

}  // namespace isoqube::detail
