#include "transport/amqp_broadcast.h"

#include "isoqube/errors.h"

namespace isoqube::detail {

// Written element by element: building a JSON array first would copy
// every message.
std::string encode_broadcast_batch(const std::vector<Json>& messages,
                                   std::size_t begin, std::size_t end) {
  std::string body = "[";
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) body += ',';
    // Best-effort text: a string that is not UTF-8 (an error message of
    // any bytes) must not cost the batch, nor the connection it would
    // have been sent on.
    body += messages[i].dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  body += ']';
  return body;
}

std::vector<Json> decode_broadcast_batch(std::string_view body) {
  Json batch;
  try {
    batch = Json::parse(body.begin(), body.end());
  } catch (const Json::parse_error& e) {
    throw MessageError(std::string("broadcast is not valid JSON: ") + e.what());
  }
  if (!batch.is_array()) {
    throw MessageError(std::string("broadcast must be a JSON array, got ") +
                       batch.type_name());
  }
  std::vector<Json> messages;
  messages.reserve(batch.size());
  for (Json& message : batch) messages.push_back(std::move(message));
  return messages;
}

}  // namespace isoqube::detail
