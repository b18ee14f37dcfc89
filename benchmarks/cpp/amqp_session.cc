#include "amqp_session.h"

#include <amqp_tcp_socket.h>

#include <memory>
#include <stdexcept>

namespace bench {
namespace {

constexpr int kHeartbeatSeconds = 60;
constexpr int kFrameMax = 131072;  // RabbitMQ's default

amqp_bytes_t bytes(const std::string& text) {
  return {text.size(), const_cast<char*>(text.data())};
}

std::string text(amqp_bytes_t bytes) {
  return {static_cast<const char*>(bytes.bytes), bytes.len};
}

std::string masked(const amqp_connection_info& info) {
  std::string vhost = info.vhost;
  return std::string(info.ssl ? "amqps://" : "amqp://") + info.user + ":***@" +
         info.host + ":" + std::to_string(info.port) + "/" +
         (vhost == "/" ? "%2f" : vhost);
}

}  // namespace

AmqpSession::AmqpSession(const std::string& uri)
    : connection_(amqp_new_connection()) {
  // amqp_parse_url decodes in place and points into the buffer it is given.
  std::unique_ptr<char[]> buffer(new char[uri.size() + 1]);
  uri.copy(buffer.get(), uri.size());
  buffer[uri.size()] = '\0';
  amqp_connection_info info{};
  if (amqp_parse_url(buffer.get(), &info) != AMQP_STATUS_OK) {
    amqp_destroy_connection(connection_);
    // Not echoed: a malformed URI may still hold a password.
    throw std::runtime_error("not an amqp://user:password@host:port/vhost URI");
  }
  masked_uri_ = masked(info);
  if (info.ssl) {
    amqp_destroy_connection(connection_);
    throw std::runtime_error(masked_uri_ + ": amqps:// is not supported here");
  }
  amqp_socket_t* socket = amqp_tcp_socket_new(connection_);
  try {
    if (socket == nullptr) throw std::runtime_error("no socket");
    check(amqp_socket_open(socket, info.host, info.port), "connecting");
    check(amqp_login(connection_, info.vhost, 0, kFrameMax, kHeartbeatSeconds,
                     AMQP_SASL_METHOD_PLAIN, info.user, info.password),
          "logging in");
  } catch (...) {
    amqp_destroy_connection(connection_);
    throw;
  }
}

AmqpSession::~AmqpSession() {
  amqp_connection_close(connection_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(connection_);
}

void AmqpSession::open_channel(amqp_channel_t channel) {
  amqp_channel_open(connection_, channel);
  check(amqp_get_rpc_reply(connection_), "opening a channel");
}

void AmqpSession::confirm_select(amqp_channel_t channel) {
  amqp_confirm_select(connection_, channel);
  check(amqp_get_rpc_reply(connection_), "selecting publisher confirms");
  published_[channel] = 0;
}

void AmqpSession::declare_queue(amqp_channel_t channel,
                                const std::string& queue) {
  amqp_queue_declare(connection_, channel, bytes(queue), /*passive=*/0,
                     /*durable=*/1, /*exclusive=*/0, /*auto_delete=*/0,
                     amqp_empty_table);
  check(amqp_get_rpc_reply(connection_), "declaring a queue");
  if (route_ == Route::kMassTransit) {
    const std::string topic = queue + ".topic";
    for (const std::string* name : {&queue, &topic}) {
      amqp_exchange_declare(connection_, channel, bytes(*name),
                            amqp_cstring_bytes("fanout"), /*passive=*/0,
                            /*durable=*/1, /*auto_delete=*/0, /*internal=*/0,
                            amqp_empty_table);
      check(amqp_get_rpc_reply(connection_), "declaring an exchange");
    }
    amqp_queue_bind(connection_, channel, bytes(queue), bytes(queue),
                    amqp_empty_bytes, amqp_empty_table);
    check(amqp_get_rpc_reply(connection_), "binding a queue");
    amqp_exchange_bind(connection_, channel, bytes(queue), bytes(topic),
                       amqp_empty_bytes, amqp_empty_table);
    check(amqp_get_rpc_reply(connection_), "binding an exchange");
  }
  amqp_queue_purge(connection_, channel, bytes(queue));
  check(amqp_get_rpc_reply(connection_), "purging a queue");
}

void AmqpSession::delete_queue(amqp_channel_t channel,
                               const std::string& queue) {
  amqp_queue_delete(connection_, channel, bytes(queue), 0, 0);
  check(amqp_get_rpc_reply(connection_), "deleting a queue");
}

void AmqpSession::consume(amqp_channel_t channel, const std::string& queue,
                          uint16_t prefetch) {
  // global=0: RabbitMQ applies the limit to each consumer started after it.
  amqp_basic_qos(connection_, channel, 0, prefetch, /*global=*/0);
  check(amqp_get_rpc_reply(connection_), "setting the prefetch");
  amqp_basic_consume(connection_, channel, bytes(queue), amqp_empty_bytes,
                     /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0,
                     amqp_empty_table);
  check(amqp_get_rpc_reply(connection_), "starting a consumer");
}

uint64_t AmqpSession::publish(amqp_channel_t channel, const std::string& queue,
                              const std::string& body) {
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  const bool direct = route_ == Route::kDirect;
  const std::string topic = direct ? std::string() : queue + ".topic";
  check(amqp_basic_publish(connection_, channel, bytes(topic),
                           direct ? bytes(queue) : amqp_empty_bytes, 0, 0,
                           &properties, bytes(body)),
        "publishing");
  return ++published_[channel];
}

void AmqpSession::ack(amqp_channel_t channel, uint64_t delivery_tag) {
  check(amqp_basic_ack(connection_, channel, delivery_tag, 0), "acking");
}

AmqpEvent AmqpSession::next(std::chrono::milliseconds timeout) {
  amqp_maybe_release_buffers(connection_);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval wait{static_cast<time_t>(micros / 1000000),
               static_cast<suseconds_t>(micros % 1000000)};
  amqp_envelope_t envelope;
  amqp_rpc_reply_t reply =
      amqp_consume_message(connection_, &envelope, &wait, 0);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
    AmqpEvent event;
    event.kind = AmqpEvent::Kind::kDelivery;
    event.channel = envelope.channel;
    event.delivery_tag = envelope.delivery_tag;
    event.body = text(envelope.message.body);
    amqp_destroy_envelope(&envelope);
    return event;
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      reply.library_error == AMQP_STATUS_TIMEOUT) {
    return {};
  }
  // Any method but basic.deliver (here: confirms) is left for the caller.
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
    return read_method_frame();
  }
  check(reply, "waiting for the broker");
  return {};
}

AmqpEvent AmqpSession::read_method_frame() {
  amqp_frame_t frame;
  check(amqp_simple_wait_frame(connection_, &frame), "reading a frame");
  AmqpEvent event;
  event.kind = AmqpEvent::Kind::kOther;
  if (frame.frame_type != AMQP_FRAME_METHOD) return event;
  const amqp_method_t& method = frame.payload.method;
  switch (method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* ack = static_cast<amqp_basic_ack_t*>(method.decoded);
      event.kind = AmqpEvent::Kind::kConfirm;
      event.sequence = ack->delivery_tag;
      event.multiple = ack->multiple != 0;
      return event;
    }
    case AMQP_BASIC_NACK_METHOD:
      throw std::runtime_error(masked_uri_ + ": the broker refused a publish");
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD: {
      amqp_rpc_reply_t reply{};
      reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
      reply.reply = method;
      check(reply, "consuming");
      return event;
    }
    default:
      return event;
  }
}

void AmqpSession::check(amqp_rpc_reply_t reply, const char* what) const {
  std::string reason;
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_NONE:
      reason = "no reply";
      break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      reason = amqp_error_string2(reply.library_error);
      break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        reason = "channel closed: " + text(close->reply_text);
      } else if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* close =
            static_cast<amqp_connection_close_t*>(reply.reply.decoded);
        reason = "connection closed: " + text(close->reply_text);
      } else {
        reason = "unexpected method " + std::to_string(reply.reply.id);
      }
      break;
  }
  throw std::runtime_error(masked_uri_ + ": " + what + ": " + reason);
}

void AmqpSession::check(int status, const char* what) const {
  if (status < 0) {
    throw std::runtime_error(masked_uri_ + ": " + what + ": " +
                             amqp_error_string2(status));
  }
}

void PendingConfirms::add(uint64_t sequence, uint64_t delivery_tag) {
  pending_.emplace(sequence, delivery_tag);
}

std::vector<uint64_t> PendingConfirms::confirm(uint64_t sequence,
                                               bool multiple) {
  std::vector<uint64_t> tags;
  auto first = multiple ? pending_.begin() : pending_.find(sequence);
  auto last = pending_.upper_bound(sequence);
  if (first == pending_.end()) return tags;
  for (auto it = first; it != last; ++it) {
    if (it->second != 0) tags.push_back(it->second);
  }
  pending_.erase(first, last);
  return tags;
}

}  // namespace bench
