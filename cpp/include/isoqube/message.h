// The message envelope and its JSON codec.
//
// The envelope follows MassTransit's JSON envelope
// (application/vnd.masstransit+json, camelCase fields) so that Isoqube
// services and MassTransit services can read each other's messages. The run
// id travels as the correlation id.
//
// A step message carries in `message`: correlationId (run id), ingestionId,
// timestamp, step (name), stepIndex, attempt and payload. A message published
// outside any run carries the same fields with an empty correlationId and
// stepIndex -1.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/json.h"
#include "isoqube/time.h"

namespace isoqube {

inline constexpr std::string_view kEnvelopeContentType =
    "application/vnd.masstransit+json";

// Messages larger than this are rejected by decode() and by publishers.
inline constexpr std::size_t kMaxMessageBytes = 4 * 1024 * 1024;

struct Envelope {
  std::string message_id;       // UUID
  std::string correlation_id;   // run id; empty outside runs
  std::string conversation_id;  // UUID shared by every message of a run
  std::string initiator_id;     // message id of the message that caused this
  std::string source_address;
  std::string destination_address;
  std::vector<std::string> message_type;  // "urn:message:Namespace:Type"
  Json message = Json::object();
  TimePoint sent_time{};
  Json headers = Json::object();
  Json host = Json::object();
};

// Where a step message points: run, step and attempt (1-based).
struct StepRef {
  std::string run_id;
  int step = -1;  // index into Run::steps; -1 outside runs
  int attempt = 0;
};

// Reads the step coordinates out of an envelope's message. Throws
// MessageError when they are missing or of the wrong type.
StepRef step_ref(const Envelope& envelope);

// JSON text of the envelope, MassTransit field names.
std::string encode(const Envelope& envelope);

// Parses JSON text into an envelope. Throws MessageError naming what is
// wrong: not JSON, not an object, missing messageType, a field of the wrong
// type, or more than kMaxMessageBytes.
Envelope decode(std::string_view text);

}  // namespace isoqube
