// sqlite_store_options(): the "sqlite://" URI forms and their options.
#include <cctype>
#include <chrono>
#include <string>

#include "isoqube/errors.h"
#include "store/sqlite_store.h"

namespace isoqube::detail {
namespace {

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

void read_query_options(const Uri& uri, SqliteStoreOptions& options) {
  for (const auto& [key, value] : uri.query) {
    if (key == "synchronous" &&
        (lower(value) == "normal" || lower(value) == "full")) {
      options.synchronous_full = lower(value) == "full";
    } else if (key == "synchronous") {
      throw ConfigurationError("store URI '" + uri.masked() +
                               "': synchronous must be 'normal' or 'full', "
                               "not '" +
                               value + "'");
    } else if (key == "busy_timeout_ms") {
      options.busy_timeout = milliseconds_option(uri, key, value);
    } else {
      throw ConfigurationError("store URI '" + uri.masked() +
                               "': unknown option '" + key +
                               "' (known: synchronous, busy_timeout_ms)");
    }
  }
}

}  // namespace

SqliteStoreOptions sqlite_store_options(const Uri& uri) {
  if (!uri.user.empty() || !uri.password.empty() || uri.port != 0) {
    throw ConfigurationError(
        "store URI '" + uri.masked() +
        "': a SQLite store is a file and takes no user, password or port; "
        "write sqlite:///absolute/path.db or sqlite://relative/path.db");
  }
  SqliteStoreOptions options;
  // "sqlite:///x" leaves the host empty and the path absolute; in
  // "sqlite://x/y" the first part of a relative path reads as the host.
  options.path = uri.host.empty() ? uri.path : uri.host + uri.path;
  if (options.path == "/:memory:") options.path = kSqliteMemoryPath;
  if (options.path.empty() || options.path.back() == '/') {
    throw ConfigurationError(
        "store URI '" + uri.masked() +
        "' names no database file; write sqlite:///absolute/path.db, "
        "sqlite://relative/path.db or sqlite:///:memory:");
  }
  read_query_options(uri, options);
  return options;
}

}  // namespace isoqube::detail
