// How broadcasts travel: the link thread gathers the broadcasts of a
// channel for up to kBroadcastLinger (or kMaxBroadcastBatch of them) and
// sends them as one AMQP message, whose body is a JSON array of the
// broadcast messages in order (a single broadcast is an array of one),
// content type application/json, delivery mode transient, app-id the
// publishing link's origin (a UUID), so that a listener of other
// transports' broadcasts drops its own unread. Listeners split the array
// and call back once per element. Internal.
//
// Why linger: a step makes three run events; sent one by one they were
// three broker messages per step beside the step's own, and as many
// deliveries to every listener. Live views do not see a few milliseconds.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/json.h"

namespace isoqube::detail {

inline constexpr std::string_view kBroadcastContentType = "application/json";

// At most this many broadcasts share one message, so that one listener
// callback burst stays short.
inline constexpr std::size_t kMaxBroadcastBatch = 256;

// How long the first broadcast of a batch waits for others.
inline constexpr std::chrono::milliseconds kBroadcastLinger{5};

// The messages [begin, end), each one JSON value as text, as one body.
std::string encode_broadcast_batch(const std::vector<std::string>& messages,
                                   std::size_t begin, std::size_t end);

// Throws MessageError when the body is not a JSON array.
std::vector<Json> decode_broadcast_batch(std::string_view body);

}  // namespace isoqube::detail
