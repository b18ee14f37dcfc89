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

// The deepest nesting of arrays and objects a payload, an output or any
// other JSON value handed to Isoqube may have (a scalar is level 0, `[1]`
// level 1). Deeper values are refused where they enter, with an error that
// says so: copying, storing and sending JSON recurse once per level, and a
// hostile value must not exhaust a thread's stack. 64 is the default
// MaxDepth of System.Text.Json, MassTransit's serializer, and keeps a stored
// run within MongoDB's limit of 100 levels per document.
inline constexpr int kMaxJsonDepth = 64;

}  // namespace isoqube
