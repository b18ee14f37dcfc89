#include "transport/amqp_options.h"

#include <cctype>
#include <functional>
#include <limits>
#include <map>

#include "common/uri.h"
#include "isoqube/errors.h"

namespace isoqube::detail {
namespace {

constexpr int kAmqpPort = 5672;
constexpr int kAmqpsPort = 5671;
// basic.qos carries the prefetch count in 16 bits.
constexpr long kMaxPrefetch = std::numeric_limits<uint16_t>::max();
constexpr long kMaxMillis = 24L * 3600 * 1000;

// Names the URI as it was written (Uri::masked() would show "/%2f"
// decoded), with the password masked.
class OptionReader {
 public:
  explicit OptionReader(std::string masked_uri)
      : masked_uri_(std::move(masked_uri)) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw ConfigurationError("transport URI '" + masked_uri_ + "': " + problem);
  }

  long number(const std::string& key, const std::string& value, long minimum,
              long maximum) const {
    try {
      std::size_t used = 0;
      const long parsed = std::stol(value, &used);
      if (used == value.size() && parsed >= minimum && parsed <= maximum) {
        return parsed;
      }
    } catch (const std::exception&) {
    }
    fail("option " + key + " must be an integer from " +
         std::to_string(minimum) + " to " + std::to_string(maximum) +
         ", not '" + value + "'");
  }

  bool boolean(const std::string& key, const std::string& value) const {
    if (value == "true" || value == "1" || value == "yes") return true;
    if (value == "false" || value == "0" || value == "no") return false;
    fail("option " + key + " must be true or false, not '" + value + "'");
  }

 private:
  const std::string masked_uri_;
};

AmqpHost parse_host(std::string_view text, int default_port,
                    const OptionReader& reader) {
  AmqpHost host;
  std::string_view name = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) reader.fail("unclosed '[' in host");
    name = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') reader.fail("unexpected text after ']'");
      port = text.substr(close + 2);
    }
  } else if (const std::size_t colon = text.rfind(':');
             colon != std::string_view::npos) {
    name = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (name.empty()) reader.fail("a host in the host list is empty");
  host.name = std::string(name);
  host.port = port.empty() ? default_port
                           : static_cast<int>(reader.number(
                                 "port", std::string(port), 1, 65535));
  return host;
}

// parse_uri() keeps a comma-separated host list whole in `host` (port 0),
// so the list is split here.
std::vector<AmqpHost> parse_hosts(const Uri& uri, int default_port,
                                  const OptionReader& reader) {
  if (uri.host.empty()) reader.fail("no host given");
  if (uri.host.find(',') == std::string::npos) {
    return {{uri.host, uri.port ? uri.port : default_port}};
  }
  std::vector<AmqpHost> hosts;
  std::size_t start = 0;
  while (start <= uri.host.size()) {
    std::size_t end = uri.host.find(',', start);
    if (end == std::string::npos) end = uri.host.size();
    hosts.push_back(
        parse_host(std::string_view(uri.host).substr(start, end - start),
                   default_port, reader));
    start = end + 1;
  }
  return hosts;
}

// "" and "/" name the default vhost "/"; otherwise the path without its
// leading slash, already percent-decoded ("/%2f" is "/").
std::string vhost_of(const std::string& path) {
  if (path.empty() || path == "/") return "/";
  return path.substr(1);
}

using Setter =
    std::function<void(AmqpOptions&, const std::string& key,
                       const std::string& value, const OptionReader& reader)>;

Setter millis_option(std::chrono::milliseconds AmqpOptions::*field) {
  return [field](AmqpOptions& o, const std::string& key,
                 const std::string& value, const OptionReader& reader) {
    o.*field =
        std::chrono::milliseconds(reader.number(key, value, 1, kMaxMillis));
  };
}

Setter file_option(std::string AmqpTlsOptions::*field) {
  return [field](AmqpOptions& o, const std::string&, const std::string& value,
                 const OptionReader&) { o.tls_options.*field = value; };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"heartbeat",
       [](AmqpOptions& o, auto& k, auto& v, auto& r) {
         o.heartbeat = std::chrono::seconds(r.number(k, v, 0, 3600));
       }},
      {"connection_timeout_ms",
       millis_option(&AmqpOptions::connection_timeout)},
      {"publish_timeout_ms", millis_option(&AmqpOptions::publish_timeout)},
      {"queue_type",
       [](AmqpOptions& o, auto& k, auto& v, auto& r) {
         if (v == "classic") {
           o.queue_type = QueueType::kClassic;
         } else if (v == "quorum") {
           o.queue_type = QueueType::kQuorum;
         } else {
           r.fail("option queue_type must be classic or quorum, not '" + v +
                  "'");
         }
       }},
      {"prefetch",
       [](AmqpOptions& o, auto& k, auto& v, auto& r) {
         o.prefetch = static_cast<std::size_t>(r.number(k, v, 1, kMaxPrefetch));
       }},
      {"cacertfile", file_option(&AmqpTlsOptions::cacertfile)},
      {"certfile", file_option(&AmqpTlsOptions::certfile)},
      {"keyfile", file_option(&AmqpTlsOptions::keyfile)},
      {"verify", [](AmqpOptions& o, auto& k, auto& v,
                    auto& r) { o.tls_options.verify = r.boolean(k, v); }},
      {"reconnect_min_ms", millis_option(&AmqpOptions::reconnect_min)},
      {"reconnect_max_ms", millis_option(&AmqpOptions::reconnect_max)},
  };
  return table;
}

std::string known_options() {
  std::string names;
  for (const auto& [name, setter] : setters()) {
    names += names.empty() ? name : ", " + name;
  }
  return names;
}

void check_consistency(const AmqpOptions& options, const OptionReader& reader) {
  const AmqpTlsOptions& tls = options.tls_options;
  const bool has_tls_files =
      !tls.cacertfile.empty() || !tls.certfile.empty() || !tls.keyfile.empty();
  if (!options.tls && (has_tls_files || !tls.verify)) {
    reader.fail(
        "TLS options (cacertfile, certfile, keyfile, verify) need "
        "an amqps:// URI");
  }
  if (tls.certfile.empty() != tls.keyfile.empty()) {
    reader.fail(
        "certfile and keyfile go together (the client certificate "
        "and its key)");
  }
  if (options.reconnect_min > options.reconnect_max) {
    reader.fail("reconnect_min_ms is larger than reconnect_max_ms");
  }
  if (options.user.empty()) reader.fail("the user name is empty");
}

// Percent-encodes what may not stand in a URI path segment.
std::string path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~' ||
        c == ':') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

}  // namespace

std::string AmqpHost::to_string() const {
  const bool v6 = name.find(':') != std::string::npos;
  return (v6 ? "[" + name + "]" : name) + ":" + std::to_string(port);
}

AmqpOptions parse_amqp_uri(std::string_view text) {
  const Uri uri = parse_uri(text);
  AmqpOptions options;
  options.masked_uri = mask_password(text);
  const OptionReader reader(options.masked_uri);
  if (uri.scheme != "amqp" && uri.scheme != "amqps") {
    reader.fail("the scheme must be amqp:// or amqps://");
  }
  options.tls = uri.scheme == "amqps";
  options.hosts =
      parse_hosts(uri, options.tls ? kAmqpsPort : kAmqpPort, reader);
  if (!uri.user.empty()) options.user = uri.user;
  if (!uri.user.empty() || !uri.password.empty()) {
    options.password = uri.password;
  }
  options.vhost = vhost_of(uri.path);
  for (const auto& [key, value] : uri.query) {
    const auto setter = setters().find(key);
    if (setter == setters().end()) {
      reader.fail("unknown option '" + key + "' (known: " + known_options() +
                  ")");
    }
    setter->second(options, key, value, reader);
  }
  check_consistency(options, reader);
  return options;
}

// MassTransit's RabbitMqEndpointAddress: the default port and the default
// vhost are left out.
std::string endpoint_address(const AmqpOptions& options,
                             std::string_view name) {
  const AmqpHost& host = options.hosts.front();
  std::string out = options.tls ? "rabbitmqs://" : "rabbitmq://";
  out += host.name.find(':') != std::string::npos ? "[" + host.name + "]"
                                                  : host.name;
  if (host.port != (options.tls ? kAmqpsPort : kAmqpPort)) {
    out += ":" + std::to_string(host.port);
  }
  out += '/';
  if (options.vhost != "/") out += path_segment(options.vhost) + "/";
  return out + path_segment(name);
}

}  // namespace isoqube::detail
