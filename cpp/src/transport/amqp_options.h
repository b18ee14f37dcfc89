// The settings of the RabbitMQ transport and the parser of its URI. The URI
// format and every option are documented in amqp_transport.h. Internal;
// values only, so it needs no broker and is tested on its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace isoqube::detail {

struct AmqpHost {
  std::string name;
  int port = 0;

  std::string to_string() const;  // "name:port", IPv6 in brackets
};

enum class QueueType { kClassic, kQuorum };

struct AmqpTlsOptions {
  std::string cacertfile;  // empty: the system's CA certificates
  std::string certfile;    // client certificate, with keyfile
  std::string keyfile;
  bool verify = true;  // peer certificate and host name
};

struct AmqpOptions {
  bool tls = false;             // amqps://
  std::vector<AmqpHost> hosts;  // tried in order; at least one
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  std::chrono::seconds heartbeat{30};  // 0 turns heartbeats off
  // Bounds connecting to one host (TCP, TLS, login) and each broker round
  // trip of the connection's own thread (declarations, consume).
  std::chrono::milliseconds connection_timeout{10000};
  // How long publish(), subscribe() and the other calls that need the broker
  // wait for it (through an outage) before throwing TransportError.
  std::chrono::milliseconds publish_timeout{30000};
  QueueType queue_type = QueueType::kClassic;
  std::size_t prefetch = 0;  // 0: what subscribe() asks for
  AmqpTlsOptions tls_options;
  std::chrono::milliseconds reconnect_min{100};   // first pause
  std::chrono::milliseconds reconnect_max{5000};  // doubling stops here
  std::string masked_uri;                         // for messages and logs
};

// Parses amqp://user:pass@host[:port][,host2[:port]...]/vhost[?options] and
// amqps://... Throws ConfigurationError naming the URI (password masked) and
// what is wrong: a bad host list, port or number, or an unknown option.
AmqpOptions parse_amqp_uri(std::string_view uri);

// The address MassTransit gives the endpoint (queue) `name` on this broker:
// rabbitmq[s]://host[:port]/[vhost/]name, the default port and vhost left
// out, as its RabbitMqEndpointAddress writes it.
std::string endpoint_address(const AmqpOptions& options, std::string_view name);

}  // namespace isoqube::detail
