#include "common/uri.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <limits>
#include <string>

#include "isoqube/errors.h"

namespace isoqube::detail {
namespace {

[[noreturn]] void fail(std::string_view text, const std::string& problem) {
  throw ConfigurationError("invalid URI '" + mask_password(text) +
                           "': " + problem);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view part, std::string_view text,
                           const char* component) {
  std::string out;
  out.reserve(part.size());
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    const int high = i + 1 < part.size() ? hex_value(part[i + 1]) : -1;
    const int low = i + 2 < part.size() ? hex_value(part[i + 2]) : -1;
    if (high < 0 || low < 0) {
      fail(text, std::string("bad percent-encoding in the ") + component +
                     " (a '%' must be followed by two hex digits)");
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string parse_scheme(std::string_view text, size_t separator) {
  if (separator == std::string_view::npos || separator == 0) {
    fail(text, "expected 'scheme://...', e.g. 'amqp://host' or 'memory://'");
  }
  std::string scheme;
  for (size_t i = 0; i < separator; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool ok =
        std::isalpha(c) ||
        (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) {
      fail(text, "bad scheme '" + std::string(text.substr(0, separator)) +
                     "' (letters, digits, '+', '-', '.', starting with a "
                     "letter)");
    }
    scheme += static_cast<char>(std::tolower(c));
  }
  return scheme;
}

int parse_port(std::string_view digits, std::string_view text) {
  if (digits.empty()) fail(text, "empty port after ':'");
  long value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || value > 65535) {
      fail(text, "bad port '" + std::string(digits) + "'");
    }
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) {
    fail(text, "port " + std::string(digits) + " is out of range 1-65535");
  }
  return static_cast<int>(value);
}

// host, [v6-address], host:port, [v6-address]:port, or a comma-separated
// host list as MongoDB replica-set URIs use ("h1:27017,h2:27017"), which is
// kept whole in `host` with port 0 for the driver to interpret.
void parse_host_port(std::string_view hostport, std::string_view text,
                     Uri& uri) {
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) fail(text, "unclosed '[' in host");
    host = hostport.substr(1, close - 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail(text, "unexpected text after ']'");
      port = after.substr(1);
      has_port = true;
    }
  } else if (hostport.find(',') == std::string_view::npos) {
    const size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
      has_port = true;
    }
  }
  uri.host = percent_decode(host, text, "host");
  if (has_port) uri.port = parse_port(port, text);
}

void parse_query(std::string_view query, std::string_view text, Uri& uri) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t equals = pair.find('=');
      const std::string key =
          percent_decode(pair.substr(0, equals), text, "query");
      if (key.empty()) fail(text, "query parameter without a name");
      uri.query[key] =
          equals == std::string_view::npos
              ? std::string()
              : percent_decode(pair.substr(equals + 1), text, "query");
    }
    start = end + 1;
  }
}

}  // namespace

Uri parse_uri(std::string_view text) {
  const size_t separator = text.find("://");
  Uri uri;
  uri.scheme = parse_scheme(text, separator);
  std::string_view rest = text.substr(separator + 3);
  if (rest.find('#') != std::string_view::npos) {
    fail(text, "fragments ('#') are not supported; write '#' as %23");
  }
  const size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    parse_query(rest.substr(question + 1), text, uri);
    rest = rest.substr(0, question);
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    uri.path = percent_decode(rest.substr(slash), text, "path");
  }
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    uri.user = percent_decode(userinfo.substr(0, colon), text, "user name");
    if (colon != std::string_view::npos) {
      uri.password =
          percent_decode(userinfo.substr(colon + 1), text, "password");
    }
    authority = authority.substr(at + 1);
  }
  parse_host_port(authority, text, uri);
  return uri;
}

std::string Uri::masked() const {
  std::string out = scheme + "://";
  if (!user.empty() || !password.empty()) {
    out += user;
    if (!password.empty()) out += ":***";
    out += '@';
  }
  const bool v6 = host.find(':') != std::string::npos &&
                  host.find(',') == std::string::npos;
  out += v6 ? "[" + host + "]" : host;
  if (port != 0) out += ":" + std::to_string(port);
  out += path;
  char separator = '?';
  for (const auto& [key, value] : query) {
    out += separator + key + "=" + value;
    separator = '&';
  }
  return out;
}

// Works on raw text, so it can mask URIs that do not parse. It errs towards
// masking: everything between the first ':' after "://" and the last '@'
// before any query is treated as a password, so a password containing an
// unencoded '/' or '@' is still hidden.
std::chrono::milliseconds milliseconds_option(const Uri& uri,
                                              std::string_view option,
                                              const std::string& value) {
  std::size_t used = 0;
  long long ms = -1;
  try {
    ms = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || ms < 0 || ms > std::numeric_limits<int>::max()) {
    throw ConfigurationError(
        "URI '" + uri.masked() + "': " + std::string(option) +
        " must be a whole number of milliseconds, not '" + value + "'");
  }
  return std::chrono::milliseconds(ms);
}

std::string mask_password(std::string_view uri) {
  const size_t separator = uri.find("://");
  if (separator == std::string_view::npos) return std::string(uri);
  const size_t start = separator + 3;
  const size_t end = std::min(uri.find('?', start), uri.size());
  const std::string_view authority = uri.substr(start, end - start);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(uri);
  const size_t colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(uri);
  return std::string(uri.substr(0, start + colon + 1)) + "***" +
         std::string(uri.substr(start + at));
}

}  // namespace isoqube::detail
