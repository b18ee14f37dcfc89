// How broadcasts travel: the link thread sends every broadcast of a channel
// that is waiting when it gets to them as one AMQP message, whose body is a
// JSON array of the broadcast messages in order (a single broadcast is an
// array of one), content type application/json, delivery mode transient.
// Listeners split the array and call back once per element. Internal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "isoqube/json.h"

namespace isoqube::detail {

inline constexpr std::string_view kBroadcastContentType = "application/json";

// At most this many broadcasts share one message, so that one listener
// callback burst stays short.
inline constexpr std::size_t kMaxBroadcastBatch = 256;

std::string encode_broadcast_batch(const std::vector<Json>& messages);

// Throws MessageError when the body is not a JSON array.
std::vector<Json> decode_broadcast_batch(std::string_view body);

}  // namespace isoqube::detail
