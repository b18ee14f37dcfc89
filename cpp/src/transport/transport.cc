#include "isoqube/transport.h"

#include <string>

#include "common/uri.h"
#include "isoqube/errors.h"
#include "transport/amqp_options.h"
#include "transport/amqp_transport.h"
#include "transport/memory_transport.h"

namespace isoqube {

void Transport::broadcast_text(std::string_view channel, std::string json) {
  broadcast(channel, Json::parse(json));
}

namespace {

long query_number(const detail::Uri& uri, const std::string& key,
                  long fallback) {
  auto it = uri.query.find(key);
  if (it == uri.query.end()) return fallback;
  try {
    std::size_t used = 0;
    long value = std::stol(it->second, &used);
    if (used == it->second.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  throw ConfigurationError("transport URI '" + uri.masked() + "': " + key +
                           " must be a positive integer, not '" + it->second +
                           "'");
}

}  // namespace

std::string Transport::address(std::string_view name) const {
  return "loopback://localhost/" + std::string(name);
}

void Transport::publish_async(const std::string& entity_name, Envelope envelope,
                              Confirmed confirmed) {
  publish(entity_name, std::move(envelope));
  confirmed(nullptr);
}

std::unique_ptr<Transport> open_transport(std::string_view text) {
  detail::Uri uri = detail::parse_uri(text);
  if (uri.scheme == "memory") {
    for (const auto& [key, value] : uri.query) {
      if (key != "capacity" && key != "publish_timeout_ms") {
        throw ConfigurationError("transport URI '" + uri.masked() +
                                 "': unknown option '" + key +
                                 "' (known: capacity, publish_timeout_ms)");
      }
    }
    detail::MemoryTransportOptions options;
    options.capacity = static_cast<std::size_t>(
        query_number(uri, "capacity", static_cast<long>(options.capacity)));
    options.publish_timeout = std::chrono::milliseconds(query_number(
        uri, "publish_timeout_ms", options.publish_timeout.count()));
    return std::make_unique<detail::MemoryTransport>(options);
  }
  if (uri.scheme == "amqp" || uri.scheme == "amqps") {
    return std::make_unique<detail::AmqpTransport>(
        detail::parse_amqp_uri(text));
  }
  throw ConfigurationError("unsupported transport URI '" + uri.masked() +
                           "': the scheme must be memory://, amqp:// or "
                           "amqps://");
}

}  // namespace isoqube
