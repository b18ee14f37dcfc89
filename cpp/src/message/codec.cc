#include <cctype>
#include <limits>
#include <map>
#include <string>

#include "isoqube/errors.h"
#include "isoqube/message.h"

namespace isoqube {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Field lookup that ignores case, as MassTransit's System.Text.Json reader
// does (PropertyNameCaseInsensitive), so "MessageId" from an older writer
// reads like "messageId".
class Fields {
 public:
  explicit Fields(const Json& object) {
    for (const auto& [key, value] : object.items()) {
      by_name_[lower(key)] = &value;
    }
  }

  // Null when absent.
  const Json* find(std::string_view name) const {
    const auto it = by_name_.find(lower(name));
    return it == by_name_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, const Json*> by_name_;
};

[[noreturn]] void wrong_type(std::string_view field, const char* expected,
                             const Json& value) {
  throw MessageError("envelope field '" + std::string(field) + "' must be " +
                     expected + ", got " + value.type_name());
}

// Ids and addresses: a string, or null/absent for "none".
std::string optional_string(const Fields& fields, std::string_view name) {
  const Json* value = fields.find(name);
  if (value == nullptr || value->is_null()) return {};
  if (!value->is_string()) wrong_type(name, "a string or null", *value);
  return value->get<std::string>();
}

Json optional_object(const Fields& fields, std::string_view name) {
  const Json* value = fields.find(name);
  if (value == nullptr || value->is_null()) return Json::object();
  if (!value->is_object()) wrong_type(name, "an object or null", *value);
  return *value;
}

std::vector<std::string> message_types(const Fields& fields) {
  const Json* value = fields.find("messageType");
  if (value == nullptr || value->is_null()) {
    throw MessageError(
        "envelope has no 'messageType' (an array of message type URNs)");
  }
  if (!value->is_array()) wrong_type("messageType", "an array", *value);
  if (value->empty()) {
    throw MessageError("envelope field 'messageType' names no message type");
  }
  std::vector<std::string> types;
  for (const Json& type : *value) {
    if (!type.is_string()) {
      wrong_type("messageType", "an array of strings", type);
    }
    types.push_back(type.get<std::string>());
  }
  return types;
}

TimePoint sent_time(const Fields& fields) {
  const Json* value = fields.find("sentTime");
  if (value == nullptr || value->is_null()) return TimePoint{};
  if (!value->is_string()) wrong_type("sentTime", "an ISO-8601 string", *value);
  const auto text = value->get<std::string>();
  const auto parsed = parse_time(text);
  if (!parsed) {
    throw MessageError(
        "envelope field 'sentTime' is not an ISO-8601 UTC time: '" + text +
        "'");
  }
  return *parsed;
}

Json parse_json(std::string_view text) {
  try {
    // MassTransit's reader allows comments, so ours does too.
    return Json::parse(text.begin(), text.end(), nullptr, true,
                       /*ignore_comments=*/true);
  } catch (const Json::parse_error& e) {
    throw MessageError(std::string("envelope is not valid JSON: ") + e.what());
  }
}

Json id_or_null(const std::string& id) {
  return id.empty() ? Json(nullptr) : Json(id);
}

int int_field(const Fields& fields, std::string_view name, int minimum) {
  const Json* value = fields.find(name);
  if (value == nullptr) {
    throw MessageError("step message has no '" + std::string(name) + "'");
  }
  if (!value->is_number_integer()) {
    throw MessageError("step message field '" + std::string(name) +
                       "' must be an integer, got " + value->type_name());
  }
  // Parsed non-negative integers are stored unsigned, built ones signed.
  constexpr auto kMax = std::numeric_limits<int>::max();
  const bool in_range =
      value->is_number_unsigned()
          ? value->get<uint64_t>() <= static_cast<uint64_t>(kMax)
          : value->get<int64_t>() >= minimum && value->get<int64_t>() <= kMax;
  if (!in_range) {
    throw MessageError("step message field '" + std::string(name) +
                       "' is out of range: " + value->dump());
  }
  return static_cast<int>(value->get<int64_t>());
}

}  // namespace

std::string encode(const Envelope& envelope) {
  // Empty ids and addresses are written as null: MassTransit parses ids as
  // Guids and addresses as URIs, and "" is neither.
  Json j = {
      {"messageId", id_or_null(envelope.message_id)},
      {"correlationId", id_or_null(envelope.correlation_id)},
      {"conversationId", id_or_null(envelope.conversation_id)},
      {"initiatorId", id_or_null(envelope.initiator_id)},
      {"sourceAddress", id_or_null(envelope.source_address)},
      {"destinationAddress", id_or_null(envelope.destination_address)},
      {"messageType", envelope.message_type},
      {"message", envelope.message},
      {"sentTime", format_time(envelope.sent_time)},
      {"headers", envelope.headers},
      {"host", envelope.host},
  };
  try {
    return j.dump();
  } catch (const Json::type_error& e) {
    throw MessageError(std::string("cannot encode envelope: ") + e.what());
  }
}

Envelope decode(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    throw MessageError("message of " + std::to_string(text.size()) +
                       " bytes exceeds the limit of " +
                       std::to_string(kMaxMessageBytes) + " bytes");
  }
  const Json j = parse_json(text);
  if (!j.is_object()) {
    throw MessageError(std::string("envelope must be a JSON object, got ") +
                       j.type_name());
  }
  const Fields fields(j);
  Envelope envelope;
  envelope.message_id = optional_string(fields, "messageId");
  envelope.correlation_id = optional_string(fields, "correlationId");
  envelope.conversation_id = optional_string(fields, "conversationId");
  envelope.initiator_id = optional_string(fields, "initiatorId");
  envelope.source_address = optional_string(fields, "sourceAddress");
  envelope.destination_address = optional_string(fields, "destinationAddress");
  envelope.message_type = message_types(fields);
  const Json* message = fields.find("message");
  if (message == nullptr) throw MessageError("envelope has no 'message'");
  if (!message->is_object()) wrong_type("message", "an object", *message);
  envelope.message = *message;
  envelope.sent_time = sent_time(fields);
  envelope.headers = optional_object(fields, "headers");
  envelope.host = optional_object(fields, "host");
  return envelope;
}

StepRef step_ref(const Envelope& envelope) {
  if (!envelope.message.is_object()) {
    throw MessageError(std::string("step message must be an object, got ") +
                       envelope.message.type_name());
  }
  const Fields fields(envelope.message);
  const Json* run_id = fields.find("correlationId");
  if (run_id == nullptr) {
    throw MessageError("step message has no 'correlationId'");
  }
  if (!run_id->is_string()) {
    throw MessageError(
        "step message field 'correlationId' must be a string, got " +
        std::string(run_id->type_name()));
  }
  StepRef ref;
  ref.run_id = run_id->get<std::string>();
  ref.step = int_field(fields, "stepIndex", -1);
  ref.attempt = int_field(fields, "attempt", 0);
  return ref;
}

}  // namespace isoqube
