// The plain JSON reader in front of nlohmann's parser (message/plain_json.h),
// differentially: whatever it reads, nlohmann's parser reads too, to the
// same value with the same number types; and read_json_text(), which every
// reader of JSON from the wire calls, throws nothing but MessageError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "isoqube/errors.h"
#include "message/plain_json.h"
#include "support/same_json.h"

using isoqube::Json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto plain = isoqube::detail::read_plain_json(text)) {
    Json reference;
    try {
      reference = Json::parse(text);
    } catch (const Json::exception&) {
      FUZZ_CHECK(false, "the plain reader read text nlohmann refuses");
    }
    FUZZ_CHECK(isoqube::testing::same_json(*plain, reference),
               "the plain reader reads as nlohmann");
  }
  try {
    (void)isoqube::detail::read_json_text(text, "fuzz", size % 2 == 0);
  } catch (const isoqube::MessageError&) {
  }
  return 0;
}
