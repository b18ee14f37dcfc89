// One rabbitmq-c connection to one broker host, owned as an RAII handle,
// and the translation of rabbitmq-c's status codes and broker exceptions
// into isoqube exceptions. Internal.
//
// Thread-safety: none. rabbitmq-c connections must not be shared between
// threads; each belongs to the AmqpLink thread that opened it.
#pragma once

#include <amqp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/errors.h"
#include "transport/amqp_options.h"

namespace isoqube::detail {

// The connection cannot be used any more: a socket error, missed
// heartbeats, or the broker closed it. `by_broker` tells the last apart
// (connection.close, with the broker's reply code).
class AmqpConnectionLost : public TransportError {
 public:
  AmqpConnectionLost(const std::string& what, bool by_broker, int code = 0)
      : TransportError(what), by_broker_(by_broker), code_(code) {}
  bool by_broker() const { return by_broker_; }
  int code() const { return code_; }

 private:
  bool by_broker_;
  int code_;
};

// The broker closed one channel (channel.close, already answered with
// close-ok); the connection and its other channels go on.
class AmqpChannelClosed : public TransportError {
 public:
  AmqpChannelClosed(const std::string& what, uint16_t channel, int code)
      : TransportError(what), channel_(channel), code_(code) {}
  uint16_t channel() const { return channel_; }
  int code() const { return code_; }  // e.g. 404 NOT_FOUND, 406

 private:
  uint16_t channel_;
  int code_;
};

// AMQP reply codes the transport reacts to.
inline constexpr int kReplyNotFound = 404;
inline constexpr int kReplyPreconditionFailed = 406;

class AmqpConnection {
 public:
  // Opens the socket (TLS when options.tls), logs in and negotiates the
  // heartbeat. `name` is shown in the broker's connection list. Throws
  // TransportError saying why, without the URI (callers name it), or
  // ConfigurationError for TLS files that cannot be used.
  AmqpConnection(const AmqpOptions& options, const AmqpHost& host,
                 const std::string& name = "isoqube");
  // Closes the connection politely unless it was lost.
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  amqp_connection_state_t state() const { return state_; }
  int fd() const;
  const AmqpHost& host() const { return host_; }
  int heartbeat_seconds() const;

  void open_channel(uint16_t channel);
  // Waits for close-ok; a channel the broker already closed is not an error.
  void close_channel(uint16_t channel);

  // Throws AmqpConnectionLost or AmqpChannelClosed when the reply of a
  // synchronous call made on `channel` (rabbitmq-c's amqp_get_rpc_reply) is
  // not normal. `what` names the call for the message ("declaring queue
  // 'x'").
  void check_reply(uint16_t channel, std::string_view what);
  void check_reply(const amqp_rpc_reply_t& reply, uint16_t channel,
                   std::string_view what);
  // basic.publish with its content, as amqp_basic_publish() sends it and
  // with its status, but in one write where it can: rabbitmq-c writes the
  // method, header and body frames with a system call each. One write
  // needs a plain TCP connection (TLS goes through rabbitmq-c's socket) and
  // a body that fits in one frame; other publishes go through rabbitmq-c.
  // AMQP_STATUS_TABLE_TOO_BIG (headers that do not fit in a frame) and the
  // other encoding errors come before anything is written: the connection
  // can go on.
  int publish(uint16_t channel, amqp_bytes_t exchange, amqp_bytes_t routing_key,
              bool mandatory, const amqp_basic_properties_t& properties,
              amqp_bytes_t body);

  // For calls that return a status (publish, ack): throws
  // AmqpConnectionLost unless it is AMQP_STATUS_OK.
  void check_status(int status, std::string_view what);

  // For a close method from the broker: answers with close-ok and throws
  // AmqpChannelClosed or AmqpConnectionLost, the message starting with
  // `what` when given.
  [[noreturn]] void on_close_method(uint16_t channel,
                                    const amqp_method_t& method,
                                    std::string_view what = {});

  // After a failure: the destructor then only releases resources.
  void mark_lost() { lost_ = true; }

 private:
  void open_socket(const AmqpOptions& options);
  void limit_unacknowledged_sends(const AmqpOptions& options);
  void log_in(const AmqpOptions& options, const std::string& name);
  // Writes all of `data` to the socket, waiting for room as rabbitmq-c
  // does; a rabbitmq-c status.
  int write_all(const uint8_t* data, std::size_t size);

  amqp_connection_state_t state_;
  AmqpHost host_;
  bool tls_ = false;
  bool lost_ = false;
  std::vector<uint8_t> frames_;  // publish()'s, kept for the next
};

}  // namespace isoqube::detail
