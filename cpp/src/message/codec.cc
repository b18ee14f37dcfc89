#include <cctype>
#include <limits>
#include <string>
#include <utility>

#include "common/utf8.h"
#include "isoqube/errors.h"
#include "isoqube/message.h"
#include "message/plain_json.h"

namespace isoqube {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Field lookup that ignores case, as MassTransit's System.Text.Json reader
// does (PropertyNameCaseInsensitive), so "MessageId" from an older writer
// reads like "messageId". Exact names, as Isoqube and MassTransit write
// them, are found without a scan. Over a `const Json` it only reads; over
// a Json, what it finds may be moved out.
template <typename J>
class Fields {
 public:
  explicit Fields(J& object) : object_(object) {}

  // Null when absent.
  J* find(std::string_view name) const {
    const auto exact = object_.find(name);
    if (exact != object_.end()) return &*exact;
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (equal_ignoring_case(it.key(), name)) return &*it;
    }
    return nullptr;
  }

 private:
  J& object_;
};

using EnvelopeFields = Fields<Json>;

[[noreturn]] void wrong_type(std::string_view field, const char* expected,
                             const Json& value) {
  throw MessageError("envelope field '" + std::string(field) + "' must be " +
                     expected + ", got " + value.type_name());
}

// Ids and addresses: a string, or null/absent for "none".
std::string optional_string(const EnvelopeFields& fields,
                            std::string_view name) {
  const Json* value = fields.find(name);
  if (value == nullptr || value->is_null()) return {};
  if (!value->is_string()) wrong_type(name, "a string or null", *value);
  return value->get<std::string>();
}

// Moved out of the parsed envelope.
Json optional_object(const EnvelopeFields& fields, std::string_view name) {
  Json* value = fields.find(name);
  if (value == nullptr || value->is_null()) return Json::object();
  if (!value->is_object()) wrong_type(name, "an object or null", *value);
  return std::move(*value);
}

std::vector<std::string> message_types(const EnvelopeFields& fields) {
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

TimePoint sent_time(const EnvelopeFields& fields) {
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

int int_field(const Fields<const Json>& fields, std::string_view name,
              int minimum) {
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

// Written field by field, in the order of nlohmann's (sorted) objects: the
// text a Json of the envelope dumps, without first copying message, headers
// and host into one.
std::string encode(const Envelope& envelope) {
  std::string out;
  out.reserve(512);
  // Empty ids and addresses are written as null: MassTransit parses ids as
  // Guids and addresses as URIs, and "" is neither.
  const auto field = [&out](std::string_view key) {
    out += out.empty() ? '{' : ',';
    detail::append_json_string(out, key);
    out += ':';
  };
  const auto id = [&](std::string_view key, const std::string& value) {
    field(key);
    if (value.empty()) {
      out += "null";
    } else {
      detail::append_json_string(out, value);
    }
  };
  const auto object = [&](std::string_view key, const Json& value) {
    field(key);
    out += value.dump();
  };
  try {
    id("conversationId", envelope.conversation_id);
    id("correlationId", envelope.correlation_id);
    id("destinationAddress", envelope.destination_address);
    object("headers", envelope.headers);
    object("host", envelope.host);
    id("initiatorId", envelope.initiator_id);
    object("message", envelope.message);
    id("messageId", envelope.message_id);
    field("messageType");
    out += '[';
    for (std::size_t i = 0; i < envelope.message_type.size(); ++i) {
      if (i > 0) out += ',';
      detail::append_json_string(out, envelope.message_type[i]);
    }
    out += ']';
    field("sentTime");
    detail::append_json_string(out, format_time(envelope.sent_time));
    id("sourceAddress", envelope.source_address);
    out += '}';
  } catch (const Json::type_error& e) {
    throw MessageError(std::string("cannot encode envelope: ") + e.what());
  }
  return out;
}

Envelope decode(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    throw MessageError("message of " + std::to_string(text.size()) +
                       " bytes exceeds the limit of " +
                       std::to_string(kMaxMessageBytes) + " bytes");
  }
  // MassTransit's reader allows comments, so ours does too.
  Json j = detail::read_json_text(text, "envelope", /*comments=*/true);
  if (!j.is_object()) {
    throw MessageError(std::string("envelope must be a JSON object, got ") +
                       j.type_name());
  }
  const EnvelopeFields fields(j);
  Envelope envelope;
  envelope.message_id = optional_string(fields, "messageId");
  envelope.correlation_id = optional_string(fields, "correlationId");
  envelope.conversation_id = optional_string(fields, "conversationId");
  envelope.initiator_id = optional_string(fields, "initiatorId");
  envelope.source_address = optional_string(fields, "sourceAddress");
  envelope.destination_address = optional_string(fields, "destinationAddress");
  envelope.message_type = message_types(fields);
  Json* message = fields.find("message");
  if (message == nullptr) throw MessageError("envelope has no 'message'");
  if (!message->is_object()) wrong_type("message", "an object", *message);
  envelope.message = std::move(*message);
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
  const Fields<const Json> fields(envelope.message);
  const Json* run_id = fields.find("correlationId");
  StepRef ref;
  if (fields.find("stepIndex") == nullptr) {
    // A contract: a .NET Guid or string correlation id, else the envelope's.
    ref.names_step = false;
    ref.run_id = run_id != nullptr && run_id->is_string()
                     ? run_id->get<std::string>()
                     : envelope.correlation_id;
    return ref;
  }
  if (run_id == nullptr) {
    throw MessageError("step message has no 'correlationId'");
  }
  if (!run_id->is_string() && !run_id->is_null()) {
    throw MessageError(
        "step message field 'correlationId' must be a string or null, got " +
        std::string(run_id->type_name()));
  }
  if (run_id->is_string()) ref.run_id = run_id->get<std::string>();
  ref.step = int_field(fields, "stepIndex", -1);
  ref.attempt = int_field(fields, "attempt", 0);
  if (ref.step >= 0 && ref.run_id.empty()) {
    throw MessageError("step message names step " + std::to_string(ref.step) +
                       " but no run: its 'correlationId' is empty");
  }
  return ref;
}

}  // namespace isoqube
