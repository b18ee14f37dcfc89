#include "transport/amqp_connection.h"

#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "transport/amqp_table.h"

namespace isoqube::detail {
namespace {

// rabbitmq-c's default, and RabbitMQ's: large messages travel as several
// body frames of this size.
constexpr int kFrameMax = 131072;
// Closing waits this long for the broker's close-ok; a broker that does not
// answer is being left anyway.
constexpr std::chrono::milliseconds kCloseTimeout{1000};

// A frame: type, channel, payload size, the payload, then kFrameEnd.
constexpr std::size_t kFrameHeaderBytes = 7;
constexpr uint8_t kFrameEnd = 0xCE;
// A content header's payload before its properties: class, weight, body
// size.
constexpr std::size_t kContentHeaderBytes = 12;

// Big-endian, as AMQP numbers travel.
void put_be(uint8_t* at, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    at[i] = static_cast<uint8_t>(value & 0xFF);
    value >>= 8;
  }
}

// Frames a payload already written at at + kFrameHeaderBytes; returns the
// frame's size.
std::size_t frame(uint8_t* at, uint8_t type, uint16_t channel,
                  std::size_t payload) {
  at[0] = type;
  put_be(at + 1, channel, 2);
  put_be(at + 3, payload, 4);
  at[kFrameHeaderBytes + payload] = kFrameEnd;
  return kFrameHeaderBytes + payload + 1;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string library_error(int status) { return amqp_error_string2(status); }

// "403 ACCESS_REFUSED - Login was refused ..." from a close method.
std::string close_text(const amqp_method_t& method, int* code) {
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    const auto* close = static_cast<amqp_connection_close_t*>(method.decoded);
    *code = close->reply_code;
    return std::to_string(close->reply_code) + " " +
           to_string(close->reply_text);
  }
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const auto* close = static_cast<amqp_channel_close_t*>(method.decoded);
    *code = close->reply_code;
    return std::to_string(close->reply_code) + " " +
           to_string(close->reply_text);
  }
  *code = 0;
  return "unexpected method " + std::to_string(method.id);
}

}  // namespace

AmqpConnection::AmqpConnection(const AmqpOptions& options, const AmqpHost& host,
                               const std::string& name)
    : state_(amqp_new_connection()), host_(host) {
  if (state_ == nullptr) throw TransportError("out of memory");
  try {
    open_socket(options);
    log_in(options, name);
  } catch (...) {
    lost_ = true;
    amqp_destroy_connection(state_);
    throw;
  }
}

AmqpConnection::~AmqpConnection() {
  if (!lost_) {
    const timeval tv = to_timeval(kCloseTimeout);
    amqp_set_rpc_timeout(state_, &tv);
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(state_);
}

void AmqpConnection::open_socket(const AmqpOptions& options) {
  amqp_socket_t* socket = nullptr;
  if (options.tls) {
    tls_ = true;
    socket = amqp_ssl_socket_new(state_);
    if (socket == nullptr) throw TransportError("cannot create a TLS socket");
    const AmqpTlsOptions& tls = options.tls_options;
    if (tls.cacertfile.empty()) {
      SSL_CTX_set_default_verify_paths(
          static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket)));
    } else if (amqp_ssl_socket_set_cacert(socket, tls.cacertfile.c_str()) !=
               AMQP_STATUS_OK) {
      throw ConfigurationError("cannot read the CA certificates in '" +
                               tls.cacertfile + "'");
    }
    if (!tls.certfile.empty() &&
        amqp_ssl_socket_set_key(socket, tls.certfile.c_str(),
                                tls.keyfile.c_str()) != AMQP_STATUS_OK) {
      throw ConfigurationError("cannot use the client certificate '" +
                               tls.certfile + "' with the key '" + tls.keyfile +
                               "'");
    }
    amqp_ssl_socket_set_verify_peer(socket, tls.verify);
    amqp_ssl_socket_set_verify_hostname(socket, tls.verify);
  } else {
    socket = amqp_tcp_socket_new(state_);
    if (socket == nullptr) throw TransportError("cannot create a socket");
  }
  const timeval timeout = to_timeval(options.connection_timeout);
  const int status = amqp_socket_open_noblock(socket, host_.name.c_str(),
                                              host_.port, &timeout);
  if (status != AMQP_STATUS_OK) {
    // rabbitmq-c's "a socket error occurred" is, at connect time, a refused
    // or unreachable address (the cause stays inside the library).
    throw TransportError(
        host_.to_string() + ": " +
        (status == AMQP_STATUS_SOCKET_ERROR
             ? std::string("connection refused or host unreachable")
             : library_error(status)));
  }
  amqp_set_handshake_timeout(state_, &timeout);
  amqp_set_rpc_timeout(state_, &timeout);
  limit_unacknowledged_sends(options);
}

// rabbitmq-c waits without limit for room to send a publish. A peer that
// stops reading (a dropped network, a frozen broker) would then hold the
// link's thread until TCP gives up, which takes minutes; this makes the
// kernel give up after two heartbeat intervals, as for missed heartbeats.
// https://man7.org/linux/man-pages/man7/tcp.7.html (TCP_USER_TIMEOUT)
void AmqpConnection::limit_unacknowledged_sends(const AmqpOptions& options) {
  if (options.heartbeat.count() == 0) return;
  const unsigned int ms =
      static_cast<unsigned int>(options.heartbeat.count()) * 2 * 1000;
  setsockopt(amqp_get_sockfd(state_), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
             sizeof ms);
}

void AmqpConnection::log_in(const AmqpOptions& options,
                            const std::string& name) {
  // Merged by rabbitmq-c with its own (which ask the broker to say why a
  // login failed instead of just closing the socket). connection.blocked
  // lets the broker tell us when it stops reading publishes (memory or
  // disk alarm); consumer_cancel_notify, when a queue we consume vanishes.
  Json properties = {
      {"connection_name", name},
      {"capabilities",
       {{"consumer_cancel_notify", true}, {"connection.blocked", true}}},
  };
  AmqpTableBuilder tables;
  const amqp_table_t table = tables.build(properties);
  const amqp_rpc_reply_t reply = amqp_login_with_properties(
      state_, options.vhost.c_str(), 0, kFrameMax,
      static_cast<int>(options.heartbeat.count()), &table,
      AMQP_SASL_METHOD_PLAIN, options.user.c_str(), options.password.c_str());
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
  std::string reason;
  if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
    int code = 0;
    reason = "the broker refused the login to vhost '" + options.vhost +
             "' as user '" + options.user +
             "': " + close_text(reply.reply, &code);
  } else {
    reason = "login to vhost '" + options.vhost + "' as user '" + options.user +
             "' failed: " + library_error(reply.library_error);
  }
  throw TransportError(host_.to_string() + ": " + reason);
}

int AmqpConnection::fd() const { return amqp_get_sockfd(state_); }

// The frames as rabbitmq-c's amqp_send_frame() writes them
// (amqp_connection.c), encoded by its own amqp_encode_method() and
// amqp_encode_properties(), so that only the writing differs. Both are
// encoded before anything is written, also for a publish that rabbitmq-c
// then sends: one that cannot be encoded (headers that do not fit in a
// frame) leaves nothing on the wire, and the connection goes on.
int AmqpConnection::publish(uint16_t channel, amqp_bytes_t exchange,
                            amqp_bytes_t routing_key, bool mandatory,
                            const amqp_basic_properties_t& properties,
                            amqp_bytes_t body) {
  const std::size_t frame_max =
      static_cast<std::size_t>(amqp_get_frame_max(state_));
  const std::size_t overhead = kFrameHeaderBytes + 1;
  // Each frame fits in frame_max, as rabbitmq-c's outbound buffer.
  frames_.resize(3 * frame_max);
  uint8_t* at = frames_.data();

  amqp_basic_publish_t method{};
  method.exchange = exchange;
  method.routing_key = routing_key;
  method.mandatory = mandatory ? 1 : 0;
  uint8_t* payload = at + kFrameHeaderBytes;
  put_be(payload, AMQP_BASIC_PUBLISH_METHOD, 4);
  int encoded =
      amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, &method,
                         amqp_bytes_t{frame_max - overhead - 4, payload + 4});
  if (encoded < 0) return encoded;
  at += frame(at, AMQP_FRAME_METHOD, channel, 4 + encoded);

  amqp_basic_properties_t header = properties;  // encoded, not changed
  payload = at + kFrameHeaderBytes;
  put_be(payload, AMQP_BASIC_CLASS, 2);
  put_be(payload + 2, 0, 2);  // weight
  put_be(payload + 4, body.len, 8);
  encoded = amqp_encode_properties(
      AMQP_BASIC_CLASS, &header,
      amqp_bytes_t{frame_max - overhead - kContentHeaderBytes,
                   payload + kContentHeaderBytes});
  if (encoded < 0) return encoded;
  at += frame(at, AMQP_FRAME_HEADER, channel, kContentHeaderBytes + encoded);

  if (tls_ || body.len == 0 || body.len > frame_max - overhead) {
    return amqp_basic_publish(state_, channel, exchange, routing_key,
                              mandatory ? 1 : 0, /*immediate=*/0, &properties,
                              body);
  }
  std::memcpy(at + kFrameHeaderBytes, body.bytes, body.len);
  at += frame(at, AMQP_FRAME_BODY, channel, body.len);
  return write_all(frames_.data(),
                   static_cast<std::size_t>(at - frames_.data()));
}

int AmqpConnection::write_all(const uint8_t* data, std::size_t size) {
  const int socket = fd();
  while (size > 0) {
    const ssize_t sent = ::send(socket, data, size, MSG_NOSIGNAL);
    if (sent > 0) {
      data += sent;
      size -= static_cast<std::size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd room{socket, POLLOUT, 0};
      if (poll(&room, 1, -1) < 0 && errno != EINTR) {
        return AMQP_STATUS_SOCKET_ERROR;
      }
      continue;
    }
    return AMQP_STATUS_SOCKET_ERROR;
  }
  return AMQP_STATUS_OK;
}

int AmqpConnection::heartbeat_seconds() const {
  return amqp_get_heartbeat(state_);
}

void AmqpConnection::open_channel(uint16_t channel) {
  amqp_channel_open(state_, channel);
  check_reply(channel, "opening channel " + std::to_string(channel));
}

void AmqpConnection::close_channel(uint16_t channel) {
  const amqp_rpc_reply_t reply =
      amqp_channel_close(state_, channel, AMQP_REPLY_SUCCESS);
  try {
    check_reply(reply, channel, "closing channel " + std::to_string(channel));
  } catch (const AmqpChannelClosed&) {
    // Closed by the broker meanwhile: what we wanted.
  }
}

void AmqpConnection::check_reply(uint16_t channel, std::string_view what) {
  check_reply(amqp_get_rpc_reply(state_), channel, what);
}

void AmqpConnection::check_reply(const amqp_rpc_reply_t& reply,
                                 uint16_t channel, std::string_view what) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      on_close_method(channel, reply.reply, what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      lost_ = true;
      throw AmqpConnectionLost(
          std::string(what) + ": " + library_error(reply.library_error), false);
    default:
      lost_ = true;
      throw AmqpConnectionLost(std::string(what) + ": no reply", false);
  }
}

void AmqpConnection::check_status(int status, std::string_view what) {
  if (status == AMQP_STATUS_OK) return;
  lost_ = true;
  throw AmqpConnectionLost(std::string(what) + ": " + library_error(status),
                           false);
}

void AmqpConnection::on_close_method(uint16_t channel,
                                     const amqp_method_t& method,
                                     std::string_view what) {
  int code = 0;
  const std::string reason = close_text(method, &code);
  auto message = [&](const char* by_default) {
    return (what.empty() ? std::string(by_default) : std::string(what)) + ": " +
           reason;
  };
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    amqp_channel_close_ok_t ok{};
    amqp_send_method(state_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    throw AmqpChannelClosed(message("the broker closed the channel"), channel,
                            code);
  }
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    amqp_connection_close_ok_t ok{};
    amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
  }
  lost_ = true;
  throw AmqpConnectionLost(message("the broker closed the connection"),
                           method.id == AMQP_CONNECTION_CLOSE_METHOD, code);
}

}  // namespace isoqube::detail
