// URI parsing shared by open_store() and open_transport(). Internal.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace isoqube::detail {

// scheme://[user[:password]@]host[:port][/path][?k=v&k2=v2]
// "sqlite:///abs/path.db" gives an empty host and path "/abs/path.db";
// "sqlite://relative.db" gives host "relative.db" (callers decide).
// Components are percent-decoded.
struct Uri {
  std::string scheme;  // lower-cased
  std::string user;
  std::string password;
  std::string host;
  int port = 0;  // 0: not given
  std::string path;
  std::map<std::string, std::string> query;

  // The URI with the password replaced by "***", for messages and logs.
  std::string masked() const;
};

// Throws ConfigurationError naming the URI (password masked) and what is
// wrong: no "scheme://", bad port, bad percent-encoding.
Uri parse_uri(std::string_view text);

// A query option given in whole milliseconds (0 to INT_MAX). Throws
// ConfigurationError naming the URI (masked), the option and the value.
std::chrono::milliseconds milliseconds_option(const Uri& uri,
                                              std::string_view option,
                                              const std::string& value);

// The text with any "user:password@" password replaced by "***".
std::string mask_password(std::string_view uri);

}  // namespace isoqube::detail
