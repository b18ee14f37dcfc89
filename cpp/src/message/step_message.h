// The body of an Isoqube step message (an Envelope's `message`): the one
// place that writes its fields and reads what a consumer gets from them.
// step_ref() (isoqube/message.h) reads where a message points. Internal:
// the orchestrator builds step messages with it, the worker's step context
// reads them.
#pragma once

#include <string>

#include "isoqube/json.h"
#include "isoqube/message.h"
#include "isoqube/time.h"

namespace isoqube::detail {

struct StepMessage {
  std::string run_id;        // correlationId; empty: outside any run (null)
  std::string ingestion_id;  // ingestionId
  std::string step;          // the step's name; empty outside runs
  int step_index = -1;       // stepIndex; -1 outside runs
  int attempt = 1;
  Json payload = Json::object();
};

// The `message` of an envelope sent at `sent` (its `timestamp`): the fields
// message.h lists, the seed's TopicBase fields among them.
Json step_message_body(StepMessage message, TimePoint sent);

// What a consumer receives from a message: a step message's `payload` and
// `ingestionId`; for a contract of another system (`contract`: no
// stepIndex), its whole `message` as the payload.
struct MessageInput {
  Json payload = Json::object();
  std::string ingestion_id;  // empty when the message has none
};
MessageInput message_input(const Envelope& envelope, bool contract);

}  // namespace isoqube::detail
