// Configurations from JSON text, as files, the HTTP API and the Python API
// hand them to the core. Properties: only ConfigurationError (or
// MessageError for text that is not JSON) comes out; a configuration that
// normalizes writes JSON (to_json) that reads back and normalizes to the
// same JSON; its steps have a topological order.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "isoqube/configuration.h"
#include "isoqube/errors.h"
#include "message/plain_json.h"

using namespace isoqube;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Json json;
  try {
    json = detail::read_json_text(text, "configuration", false);
  } catch (const MessageError&) {
    return 0;
  }
  Configuration normalized;
  try {
    normalized = normalize(configuration_from_json(json), nullptr);
  } catch (const ConfigurationError&) {
    return 0;
  }
  const Json written = to_json(normalized);
  Configuration again;
  try {
    again = normalize(configuration_from_json(written), nullptr);
  } catch (const ConfigurationError&) {
    FUZZ_CHECK(false, "what to_json() writes reads back");
  }
  FUZZ_CHECK(to_json(again) == written,
             "a normalized configuration is a fixed point");
  FUZZ_CHECK(topological_order(normalized).size() == normalized.steps.size(),
             "every step has its place in the order");
  return 0;
}
