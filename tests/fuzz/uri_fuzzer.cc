// Store and transport URIs, as users type them: the generic parser and the
// option readers of each scheme that read a URI without connecting.
// Property: nothing but ConfigurationError comes out, and a URI's masked
// form (what messages and logs show) never holds its password.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/uri.h"
#include "fuzz_check.h"
#include "isoqube/errors.h"
#include "store/sqlite_store.h"
#include "transport/amqp_options.h"

using namespace isoqube;

namespace {

// A password long enough that its text in the masked URI is a leak unless
// the other parts of the URI write it too (a password "guest:***" of user
// "guest" reads like the mask itself): the URI with another password,
// masked, must not hold it.
bool password_stands_alone(const detail::Uri& uri) {
  if (uri.password.size() < 8) return false;
  detail::Uri other = uri;
  other.password = "x";
  return other.masked().find(uri.password) == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)detail::mask_password(text);
  try {
    const detail::Uri uri = detail::parse_uri(text);
    if (password_stands_alone(uri)) {
      FUZZ_CHECK(uri.masked().find(uri.password) == std::string::npos,
                 "the masked URI hides the password");
    }
    if (uri.scheme == "amqp" || uri.scheme == "amqps") {
      (void)detail::parse_amqp_uri(text);
    } else if (uri.scheme == "sqlite") {
      (void)detail::sqlite_store_options(uri);
    }
  } catch (const ConfigurationError&) {
  }
  return 0;
}
