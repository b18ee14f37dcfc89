#include "transport/amqp_envelope.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/utf8.h"
#include "isoqube/errors.h"
#include "isoqube/time.h"
#include "message/host_info.h"
#include "message/plain_json.h"

namespace isoqube::detail {
namespace {

constexpr std::string_view kContentTypeHeader = "Content-Type";
constexpr std::string_view kRawJsonContentType = "application/json";
// Fault messages may quote whole payloads; headers must fit in one frame.
constexpr std::size_t kMaxFaultMessage = 8192;

// "Application/JSON; charset=utf-8" -> "application/json".
std::string media_type(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](unsigned char c) { return std::isspace(c); }),
            out.end());
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string header_string(const Json& headers, std::string_view name) {
  const auto it = headers.find(std::string(name));
  if (it == headers.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string content_type_of(const AmqpProperties& properties) {
  if (!properties.content_type.empty()) return properties.content_type;
  return header_string(properties.headers, kContentTypeHeader);
}

std::vector<std::string> split_types(const std::string& types) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < types.size()) {
    std::size_t end = types.find(';', start);
    if (end == std::string::npos) end = types.size();
    if (end > start) out.push_back(types.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Envelope wrap_raw_json(const AmqpProperties& properties,
                       std::string_view body) {
  const Json& headers = properties.headers;
  Envelope envelope;
  envelope.message_type = split_types(header_string(headers, "MT-MessageType"));
  if (envelope.message_type.empty()) {
    throw MessageError(
        "raw JSON message (content type application/json) without an "
        "MT-MessageType header: its message type is unknown");
  }
  envelope.message =
      read_json_text(body, "raw JSON message", /*comments=*/false);
  if (!envelope.message.is_object()) {
    throw MessageError(std::string("raw JSON message must be an object, got ") +
                       envelope.message.type_name());
  }
  envelope.message_id = properties.message_id.empty()
                            ? header_string(headers, "MessageId")
                            : properties.message_id;
  envelope.correlation_id = properties.correlation_id.empty()
                                ? header_string(headers, "CorrelationId")
                                : properties.correlation_id;
  envelope.conversation_id = header_string(headers, "ConversationId");
  envelope.initiator_id = header_string(headers, "MT-InitiatorId");
  envelope.source_address = header_string(headers, "MT-Source-Address");
  envelope.headers = headers;
  return envelope;
}

}  // namespace

AmqpProperties envelope_properties(const Envelope& envelope) {
  AmqpProperties properties;
  properties.content_type = std::string(kEnvelopeContentType);
  properties.message_id = envelope.message_id;
  properties.correlation_id = envelope.correlation_id;
  properties.persistent = true;
  properties.headers = {
      {std::string(kContentTypeHeader), std::string(kEnvelopeContentType)}};
  return properties;
}

Envelope read_envelope(const AmqpProperties& properties,
                       std::string_view body) {
  if (body.size() > kMaxMessageBytes) {
    throw MessageError("message of " + std::to_string(body.size()) +
                       " bytes exceeds the limit of " +
                       std::to_string(kMaxMessageBytes) + " bytes");
  }
  const std::string content_type = content_type_of(properties);
  const std::string media = media_type(content_type);
  if (media.empty() || media == kEnvelopeContentType) return decode(body);
  if (media == kRawJsonContentType) return wrap_raw_json(properties, body);
  throw MessageError("unsupported content type '" + content_type +
                     "' (Isoqube reads " + std::string(kEnvelopeContentType) +
                     " envelopes and application/json raw messages)");
}

Json fault_headers(const Fault& fault) {
  const HostInfo& host = host_info();
  // MassTransit reads headers as UTF-8 strings, and a fault may quote the
  // bad input it is about (nlohmann quotes the bytes it stopped at).
  std::string message = escape_invalid_utf8(fault.message);
  if (message.size() > kMaxFaultMessage) {
    std::size_t cut = kMaxFaultMessage;
    // Not inside a UTF-8 sequence: continuation bytes are 10xxxxxx.
    while (cut > 0 &&
           (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    message.resize(cut);
    message += "...";
  }
  Json headers = {
      {"MT-Reason", fault.reason},
      {"MT-Fault-ExceptionType", escape_invalid_utf8(fault.exception_type)},
      {"MT-Fault-Message", message},
      {"MT-Fault-Timestamp",
       fault.timestamp.empty() ? format_time(now()) : fault.timestamp},
      {"MT-Fault-RetryCount", fault.retry_count},
      {"MT-Host-MachineName", host.machine_name},
      {"MT-Host-ProcessName", host.process_name},
      {"MT-Host-ProcessId", static_cast<int64_t>(host.process_id)},
  };
  auto optional = [&](const char* name, const std::string& value) {
    if (!value.empty()) headers[name] = escape_invalid_utf8(value);
  };
  // Written even when empty, as MassTransit does.
  headers["MT-Fault-StackTrace"] = escape_invalid_utf8(fault.stack_trace);
  optional("MT-Fault-InputAddress", fault.input_address);
  optional("MT-Fault-ConsumerType", fault.consumer_type);
  optional("MT-Fault-MessageType", fault.message_type);
  return headers;
}

Fault read_fault(const Json& headers) {
  Fault fault;
  auto text = [&](const char* name, std::string& into) {
    if (std::string value = header_string(headers, name); !value.empty()) {
      into = std::move(value);
    }
  };
  text("MT-Reason", fault.reason);
  text("MT-Fault-ExceptionType", fault.exception_type);
  text("MT-Fault-Message", fault.message);
  text("MT-Fault-StackTrace", fault.stack_trace);
  text("MT-Fault-InputAddress", fault.input_address);
  text("MT-Fault-Timestamp", fault.timestamp);
  text("MT-Fault-ConsumerType", fault.consumer_type);
  text("MT-Fault-MessageType", fault.message_type);
  const auto retries = headers.find("MT-Fault-RetryCount");
  if (retries != headers.end() && retries->is_number_integer()) {
    fault.retry_count = retries->get<int>();
  } else if (retries != headers.end() && retries->is_string()) {
    fault.retry_count = std::atoi(retries->get<std::string>().c_str());
  }
  return fault;
}

}  // namespace isoqube::detail
