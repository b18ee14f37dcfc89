#include "transport/amqp_broadcast.h"

#include "isoqube/errors.h"

namespace isoqube::detail {

std::string encode_broadcast_batch(const std::vector<Json>& messages) {
  return Json(messages).dump();
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
  return batch.get<std::vector<Json>>();
}

}  // namespace isoqube::detail
