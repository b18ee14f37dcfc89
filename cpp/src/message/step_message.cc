#include "message/step_message.h"

#include <utility>

namespace isoqube::detail {

Json step_message_body(StepMessage message, TimePoint sent) {
  return {{"correlationId", message.run_id.empty()
                                ? Json(nullptr)
                                : Json(std::move(message.run_id))},
          {"ingestionId", std::move(message.ingestion_id)},
          {"timestamp", format_time(sent)},
          {"step", std::move(message.step)},
          {"stepIndex", message.step_index},
          {"attempt", message.attempt},
          {"payload", std::move(message.payload)}};
}

MessageInput message_input(const Envelope& envelope, bool contract) {
  const Json& m = envelope.message;
  MessageInput input;
  const auto ingestion = m.find("ingestionId");
  if (ingestion != m.end() && ingestion->is_string()) {
    input.ingestion_id = ingestion->get<std::string>();
  }
  if (contract) {
    input.payload = m;
  } else {
    const auto payload = m.find("payload");
    if (payload != m.end() && payload->is_object()) input.payload = *payload;
  }
  return input;
}

}  // namespace isoqube::detail
