#include "isoqube/store.h"

#include <string>

#include "common/uri.h"
#include "isoqube/errors.h"
#include "store/memory_store.h"
#include "store/mongo_store.h"
#include "store/sqlite_store.h"

namespace isoqube {
namespace {

constexpr char kSupportedSchemes[] =
    "memory://, sqlite:///absolute/path.db, sqlite://relative/path.db, "
    "sqlite:///:memory:, mongodb://host[:port]/Database[?options] or "
    "mongodb+srv://…";

std::unique_ptr<Store> open_memory_store(const detail::Uri& uri) {
  if (!uri.host.empty() || !uri.path.empty() || !uri.query.empty() ||
      !uri.user.empty() || uri.port != 0) {
    throw ConfigurationError("store URI '" + uri.masked() +
                             "': memory:// takes no host, path or options");
  }
  return std::make_unique<detail::MemoryStore>();
}

}  // namespace

std::unique_ptr<Store> open_store(std::string_view text) {
  const detail::Uri uri = detail::parse_uri(text);
  if (uri.scheme == "memory") return open_memory_store(uri);
  if (uri.scheme == "sqlite") {
    return std::make_unique<detail::SqliteStore>(
        detail::sqlite_store_options(uri));
  }
  if (uri.scheme == "mongodb" || uri.scheme == "mongodb+srv") {
    return std::make_unique<detail::MongoStore>(
        detail::mongo_store_options(text));
  }
  throw ConfigurationError("unsupported store URI '" + uri.masked() +
                           "': the scheme must be one of " + kSupportedSchemes);
}

}  // namespace isoqube
