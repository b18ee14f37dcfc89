#include "transport/amqp_broadcast.h"

#include "isoqube/errors.h"
#include "message/plain_json.h"

namespace isoqube::detail {

std::string encode_broadcast_batch(const std::vector<std::string>& messages,
                                   std::size_t begin, std::size_t end) {
  std::size_t size = 2 + (end - begin);
  for (std::size_t i = begin; i < end; ++i) size += messages[i].size();
  std::string body;
  body.reserve(size);
  body += '[';
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) body += ',';
    body += messages[i];
  }
  body += ']';
  return body;
}

std::vector<Json> decode_broadcast_batch(std::string_view body) {
  Json batch = read_json_text(body, "broadcast", /*comments=*/false);
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
