#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "isoqube/errors.h"
#include "isoqube/message.h"
#include "support/test_data.h"

namespace isoqube {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The literal example envelope of MassTransit's serialization docs.
std::string masstransit_example() {
  return testing::read_test_data("masstransit/literal_example.json");
}

std::string decode_error(const std::string& text) {
  try {
    decode(text);
  } catch (const MessageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "decode accepted: " << text.substr(0, 200);
  return "";
}

// A minimal valid envelope with one field replaced (or added).
std::string envelope_with(const std::string& field, const Json& value) {
  Json j = {{"messageType", {"urn:message:Isoqube.Topics:Build"}},
            {"message", Json::object()}};
  j[field] = value;
  return j.dump();
}

Envelope full_envelope() {
  Envelope e;
  e.message_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  e.correlation_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  e.conversation_id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
  e.initiator_id = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
  e.source_address = "rabbitmq://localhost/isoqube/source";
  e.destination_address = "rabbitmq://localhost/isoqube/linux-build";
  e.message_type = {"urn:message:Isoqube.Topics:LinuxBuild",
                    "urn:message:Isoqube.Topics:Build"};
  e.message = {{"correlationId", e.correlation_id},
               {"stepIndex", 2},
               {"attempt", 1},
               {"payload", {{"image", "ubuntu"}, {"cores", 4}}}};
  e.sent_time = from_micros(1795829132123456);
  e.headers = {{"MT-Activity-Id", "abc"}};
  e.host = {{"machineName", "builder-1"}, {"processId", 4242}};
  return e;
}

TEST(CodecTest, EncodeThenDecodeGivesTheSameEnvelope) {
  const Envelope original = full_envelope();
  const Envelope decoded = decode(encode(original));
  EXPECT_EQ(decoded.message_id, original.message_id);
  EXPECT_EQ(decoded.correlation_id, original.correlation_id);
  EXPECT_EQ(decoded.conversation_id, original.conversation_id);
  EXPECT_EQ(decoded.initiator_id, original.initiator_id);
  EXPECT_EQ(decoded.source_address, original.source_address);
  EXPECT_EQ(decoded.destination_address, original.destination_address);
  EXPECT_EQ(decoded.message_type, original.message_type);
  EXPECT_EQ(decoded.message, original.message);
  EXPECT_EQ(decoded.sent_time, original.sent_time);
  EXPECT_EQ(decoded.headers, original.headers);
  EXPECT_EQ(decoded.host, original.host);
}

TEST(CodecTest, EncodeWritesMassTransitCamelCaseFields) {
  const Json j = Json::parse(encode(full_envelope()));
  for (const char* field :
       {"messageId", "correlationId", "conversationId", "initiatorId",
        "sourceAddress", "destinationAddress", "messageType", "message",
        "sentTime", "headers", "host"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_TRUE(j["messageType"].is_array());
  EXPECT_EQ(j["sentTime"], "2026-11-28T01:25:32.123456Z");
}

// encode() writes its text directly; it is what the envelope built as one
// Json dumps, escapes included.
TEST(CodecTest, EncodeWritesWhatTheEnvelopeAsJsonDumps) {
  Envelope e = full_envelope();
  e.source_address = "rabbitmq://host/\"quoted\"\\ \t\x01 caf\xC3\xA9";
  e.initiator_id.clear();
  e.message_type.push_back("urn:message:Odd:\n");
  const Json expected = {
      {"messageId", e.message_id},
      {"correlationId", e.correlation_id},
      {"conversationId", e.conversation_id},
      {"initiatorId", nullptr},
      {"sourceAddress", e.source_address},
      {"destinationAddress", e.destination_address},
      {"messageType", e.message_type},
      {"message", e.message},
      {"sentTime", "2026-11-28T01:25:32.123456Z"},
      {"headers", e.headers},
      {"host", e.host},
  };
  EXPECT_EQ(encode(e), expected.dump());
}

TEST(CodecTest, EncodeWritesEmptyIdsAndAddressesAsNull) {
  Envelope e;
  e.message_type = {"urn:message:Isoqube.Topics:Build"};
  const Json j = Json::parse(encode(e));
  for (const char* field :
       {"messageId", "correlationId", "conversationId", "initiatorId",
        "sourceAddress", "destinationAddress"}) {
    EXPECT_TRUE(j[field].is_null()) << field;
  }
}

TEST(CodecTest, EncodeRejectsTextThatIsNotUtf8) {
  Envelope e;
  e.message_type = {"urn:message:Isoqube.Topics:Build"};
  e.message = {{"bad", std::string("\xff\xfe")}};
  EXPECT_THROW(encode(e), MessageError);
}

TEST(CodecTest, DecodesTheMassTransitDocumentationExample) {
  const Envelope e = decode(masstransit_example());
  EXPECT_EQ(e.message_id, "181c0000-6393-3630-36a4-08daf4e7c6da");
  EXPECT_EQ(e.correlation_id, "");
  EXPECT_EQ(e.conversation_id, "");
  EXPECT_EQ(e.initiator_id, "");
  EXPECT_EQ(e.source_address, "rabbitmq://localhost/source");
  EXPECT_EQ(e.destination_address, "rabbitmq://localhost/destination");
  EXPECT_THAT(e.message_type,
              ElementsAre("urn:message:Company.Project:SubmitOrder"));
  EXPECT_EQ(e.message["orderId"], "181c0000-6393-3630-36a4-08daf4e7c6da");
  EXPECT_EQ(format_time(e.sent_time), "2023-01-12T21:55:53.715882Z");
  EXPECT_EQ(e.headers["Application-Header"], "SomeValue");
  EXPECT_EQ(e.host["processId"], 427);
  EXPECT_EQ(e.host["massTransitVersion"], "8.0.10.0");
}

TEST(CodecTest, DecodeAcceptsAnEnvelopeWithOnlyMessageTypeAndMessage) {
  const Envelope e =
      decode(R"({"messageType": ["urn:message:A:B"], "message": {"x": 1}})");
  EXPECT_EQ(e.message_id, "");
  EXPECT_EQ(e.sent_time, TimePoint{});
  EXPECT_EQ(e.headers, Json::object());
  EXPECT_EQ(e.host, Json::object());
  EXPECT_EQ(e.message["x"], 1);
}

TEST(CodecTest, DecodeAcceptsNullHeadersHostAndSentTime) {
  const Envelope e = decode(R"({"messageType": ["urn:message:A:B"],
      "message": {}, "headers": null, "host": null, "sentTime": null})");
  EXPECT_EQ(e.headers, Json::object());
  EXPECT_EQ(e.host, Json::object());
  EXPECT_EQ(e.sent_time, TimePoint{});
}

TEST(CodecTest, DecodeReadsFieldNamesIgnoringCaseAsMassTransitDoes) {
  const Envelope e = decode(R"({"MessageId": "m-1", "MessageType":
      ["urn:message:A:B"], "Message": {"k": "v"}})");
  EXPECT_EQ(e.message_id, "m-1");
  EXPECT_THAT(e.message_type, ElementsAre("urn:message:A:B"));
  EXPECT_EQ(e.message["k"], "v");
}

TEST(CodecTest, DecodeReadsDotNetSevenDigitSentTime) {
  const Envelope e =
      decode(envelope_with("sentTime", "2023-01-12T21:55:53.7158821Z"));
  EXPECT_EQ(format_time(e.sent_time), "2023-01-12T21:55:53.715882Z");
}

TEST(CodecTest, DecodeAllowsCommentsAsMassTransitsReaderDoes) {
  const Envelope e = decode(R"({
      // written by hand
      "messageType": ["urn:message:A:B"], "message": {}})");
  EXPECT_THAT(e.message_type, ElementsAre("urn:message:A:B"));
}

TEST(CodecTest, DecodeAcceptsAMessageOfExactlyTheLimit) {
  std::string text = envelope_with("messageId", "m");
  text.append(kMaxMessageBytes - text.size(), ' ');
  ASSERT_EQ(text.size(), kMaxMessageBytes);
  EXPECT_EQ(decode(text).message_id, "m");
}

TEST(CodecDecodeErrorTest, MessageOverTheSizeLimit) {
  std::string text = envelope_with("messageId", "m");
  text.append(kMaxMessageBytes + 1 - text.size(), ' ');
  EXPECT_THAT(decode_error(text),
              AllOf(HasSubstr(std::to_string(kMaxMessageBytes + 1) + " bytes"),
                    HasSubstr("limit of " + std::to_string(kMaxMessageBytes))));
}

TEST(CodecDecodeErrorTest, TextThatIsNotJsonIncludesTheParseError) {
  EXPECT_THAT(decode_error("{not json"),
              AllOf(HasSubstr("not valid JSON"), HasSubstr("parse error")));
}

// nlohmann throws out_of_range, not parse_error, for a number past a
// double's range: it must still be a MessageError (the error queue), not an
// exception that ends the worker's thread.
TEST(CodecDecodeErrorTest, NumberOutOfRange) {
  EXPECT_THAT(decode_error(R"({"message": {"size": 1e400}})"),
              AllOf(HasSubstr("not valid JSON"), HasSubstr("1e400")));
}

TEST(CodecDecodeErrorTest, EmptyText) {
  EXPECT_THAT(decode_error(""), HasSubstr("not valid JSON"));
}

TEST(CodecDecodeErrorTest, TruncatedJson) {
  const std::string text = encode(full_envelope());
  EXPECT_THAT(decode_error(text.substr(0, text.size() / 2)),
              HasSubstr("not valid JSON"));
}

TEST(CodecDecodeErrorTest, JsonThatIsNotAnObject) {
  EXPECT_THAT(decode_error("[1, 2]"),
              HasSubstr("must be a JSON object, got array"));
}

TEST(CodecDecodeErrorTest, MissingMessageType) {
  EXPECT_THAT(decode_error(R"({"message": {}})"),
              HasSubstr("no 'messageType'"));
}

TEST(CodecDecodeErrorTest, NullMessageType) {
  EXPECT_THAT(decode_error(envelope_with("messageType", nullptr)),
              HasSubstr("no 'messageType'"));
}

TEST(CodecDecodeErrorTest, MessageTypeThatIsNotAnArray) {
  EXPECT_THAT(decode_error(envelope_with("messageType", "urn:message:A:B")),
              HasSubstr("'messageType' must be an array, got string"));
}

TEST(CodecDecodeErrorTest, MessageTypeWithANonStringEntry) {
  EXPECT_THAT(
      decode_error(envelope_with("messageType", {"urn:message:A:B", 7})),
      HasSubstr("'messageType' must be an array of strings, got number"));
}

TEST(CodecDecodeErrorTest, EmptyMessageType) {
  EXPECT_THAT(decode_error(envelope_with("messageType", Json::array())),
              HasSubstr("'messageType' names no message type"));
}

TEST(CodecDecodeErrorTest, MissingMessage) {
  EXPECT_THAT(decode_error(R"({"messageType": ["urn:message:A:B"]})"),
              HasSubstr("no 'message'"));
}

TEST(CodecDecodeErrorTest, MessageThatIsNotAnObject) {
  EXPECT_THAT(decode_error(envelope_with("message", Json::array({1}))),
              HasSubstr("'message' must be an object, got array"));
}

TEST(CodecDecodeErrorTest, NullMessage) {
  EXPECT_THAT(decode_error(envelope_with("message", nullptr)),
              HasSubstr("'message' must be an object, got null"));
}

TEST(CodecDecodeErrorTest, IdOfTheWrongType) {
  EXPECT_THAT(decode_error(envelope_with("messageId", 42)),
              HasSubstr("'messageId' must be a string or null, got number"));
}

TEST(CodecDecodeErrorTest, CorrelationIdOfTheWrongType) {
  EXPECT_THAT(decode_error(envelope_with("correlationId", Json::object())),
              HasSubstr("'correlationId' must be a string or null, got "
                        "object"));
}

TEST(CodecDecodeErrorTest, AddressOfTheWrongType) {
  EXPECT_THAT(decode_error(envelope_with("sourceAddress", true)),
              HasSubstr("'sourceAddress' must be a string or null, got "
                        "boolean"));
}

TEST(CodecDecodeErrorTest, SentTimeThatIsNotATime) {
  EXPECT_THAT(decode_error(envelope_with("sentTime", "yesterday")),
              AllOf(HasSubstr("'sentTime' is not an ISO-8601 UTC time"),
                    HasSubstr("'yesterday'")));
}

TEST(CodecDecodeErrorTest, SentTimeOfTheWrongType) {
  EXPECT_THAT(decode_error(envelope_with("sentTime", 1700000000)),
              HasSubstr("'sentTime' must be an ISO-8601 string, got number"));
}

TEST(CodecDecodeErrorTest, HeadersThatAreNotAnObject) {
  EXPECT_THAT(decode_error(envelope_with("headers", Json::array())),
              HasSubstr("'headers' must be an object or null, got array"));
}

TEST(CodecDecodeErrorTest, HostThatIsNotAnObject) {
  EXPECT_THAT(decode_error(envelope_with("host", "MyComputer")),
              HasSubstr("'host' must be an object or null, got string"));
}

// A payload nested `levels` deep: {"n": {"n": ... 1}}.
Json nested_payload(int levels) {
  Json value = 1;
  for (int i = 0; i < levels; ++i) value = Json{{"n", std::move(value)}};
  return value;
}

TEST(CodecDecodeErrorTest,
     AnEnvelopeNestedThirtyThousandLevelsIsRefusedBeforeParsing) {
  // 150 KB, far under the size limit: what made every worker of a queue
  // overflow its stack on the same redelivered message.
  std::string text =
      R"({"messageType":["urn:message:A:B"],"message":{"payload":)";
  text += std::string(30000, '[') + std::string(30000, ']') + "}}";
  try {
    decode(text);
    FAIL() << "decoded";
  } catch (const MessageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nests arrays and objects deeper than 72 "
                                    "levels (at byte "));
  }
}

TEST(CodecTest, AnEnvelopeWhosePayloadNestsAsDeepAsAllowedRoundTrips) {
  Envelope e;
  e.message_type = {"urn:message:A:B"};
  e.message = {{"payload", nested_payload(kMaxJsonDepth)}};
  EXPECT_EQ(decode(encode(e)).message, e.message);
}

}  // namespace
}  // namespace isoqube
