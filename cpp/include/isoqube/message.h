// The message envelope and its JSON codec.
//
// The envelope follows MassTransit's JSON envelope
// (application/vnd.masstransit+json, camelCase fields) so that Isoqube
// services and MassTransit services can read each other's messages. The run
// id travels as the correlation id.
//
// A step message carries in `message`: correlationId (run id), ingestionId,
// timestamp, step (name), stepIndex, attempt and payload. A message published
// outside any run carries the same fields with a null correlationId and
// stepIndex -1. Both are what the seed's contracts (TopicBase: timestamp,
// correlationId, ingestionId) read, with Isoqube's fields beside them
// (cpp/src/message/step_message.h writes them and reads a consumer's input).
//
// A message without `stepIndex` is a contract of another system (a
// MassTransit or seed service): its `message` object is the consumer's
// payload, and its correlation id (message.correlationId, else the
// envelope's) may name a run whose step of that topic it advances (see
// StepRef).
//
// Every message Isoqube sends fills the envelope as MassTransit does:
// messageId; conversationId (the run id for step messages, else the
// conversation of the message being handled, else a new one); initiatorId
// (the message being handled when this one was sent, null otherwise);
// sourceAddress (the endpoint that handled that message, else this
// process's bus address); destinationAddress (the topic's exchange or the
// endpoint's queue); sentTime; and the host block (message/host_info.h).
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
  std::string correlation_id;   // run id; empty outside runs (null in JSON)
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

// Where a message points: run, step and attempt (1-based).
struct StepRef {
  std::string run_id;  // empty outside runs
  int step = -1;       // index into Run::steps; -1 when it names none
  int attempt = 0;
  // False for a contract of another system (no stepIndex): it names no
  // step, and its run, when `run_id` is one, is advanced at the step of
  // the consumer's topic that waits for a message.
  bool names_step = true;
};

// Reads where an envelope's message points. Isoqube's step fields must be
// well-formed when `stepIndex` is there (correlationId a string, or null
// outside runs; stepIndex and attempt integers); throws MessageError naming
// the field when they are not.
StepRef step_ref(const Envelope& envelope);

// The message being handled when another one is sent: it gives the new
// message its initiatorId, conversationId and sourceAddress.
struct MessageCause {
  std::string message_id;
  std::string conversation_id;
  std::string endpoint;  // where it was delivered
};

// JSON text of the envelope, MassTransit field names.
std::string encode(const Envelope& envelope);

// Parses JSON text into an envelope. Throws MessageError naming what is
// wrong: not JSON, not an object, missing messageType, a field of the wrong
// type, or more than kMaxMessageBytes.
Envelope decode(std::string_view text);

}  // namespace isoqube
