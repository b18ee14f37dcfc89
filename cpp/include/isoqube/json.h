// The JSON value type of payloads, outputs and envelopes.
//
// nlohmann/json (Debian's nlohmann-json3-dev) was chosen because it is
// header-only, has value semantics that make payloads easy to build in
// consumer code, and is what C++ users of JSON most often already know.
// Its speed is adequate: the in-process transport passes envelopes without
// encoding them, so JSON text is produced only at process boundaries.
#pragma once

#include <nlohmann/json.hpp>

namespace isoqube {

using Json = nlohmann::json;

}  // namespace isoqube
