// `<endpoint>_error` on RabbitMQ: rejected messages and bodies that cannot
// be decoded end there with MassTransit's fault headers, and nothing else
// is disturbed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "amqp_broker.h"
#include "amqp_raw_client.h"
#include "isoqube/errors.h"
#include "isoqube/time.h"
#include "isoqube/transport.h"
#include "support/test_data.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::test_envelope;
using testing::unique_name;

constexpr milliseconds kWait{10000};

class AmqpErrorQueueTest : public testing::AmqpBrokerTest {
 protected:
  void SetUp() override {
    AmqpBrokerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    transport_ = open_transport(uri_);
    topic_ = unique_name("topic");
    endpoint_ = unique_name("endpoint");
    inbox_ = transport_->subscribe({{endpoint_, {topic_}}}, 10);
  }

  std::unique_ptr<Transport> transport_;
  std::string topic_, endpoint_;
  std::unique_ptr<Inbox> inbox_;
};

TEST_F(AmqpErrorQueueTest, RejectedMessageLandsInTheErrorQueueWithItsFault) {
  const Envelope sent = test_envelope();
  transport_->publish(topic_, sent);
  auto delivery = inbox_->receive(kWait);
  ASSERT_TRUE(delivery);
  Fault fault;
  fault.message = "consumer failed: disk full";
  fault.exception_type = "isoqube.ConsumerError";
  fault.reason = "fault";
  fault.retry_count = 3;

  delivery->reject(fault);

  const auto errors = transport_->error_messages(endpoint_);
  ASSERT_EQ(errors.size(), 1u);
  ASSERT_TRUE(errors[0].envelope);
  EXPECT_EQ(errors[0].envelope->message_id, sent.message_id);
  EXPECT_EQ(errors[0].envelope->message, sent.message);
  EXPECT_EQ(errors[0].fault.message, fault.message);
  EXPECT_EQ(errors[0].fault.exception_type, fault.exception_type);
  EXPECT_EQ(errors[0].fault.reason, "fault");
  EXPECT_EQ(errors[0].fault.retry_count, 3);
  EXPECT_EQ(transport_->stats().rejected, 1u);
}

TEST_F(AmqpErrorQueueTest, ErrorQueueCarriesMassTransitFaultHeaders) {
  testing::RawClient broker(uri_);
  transport_->publish(topic_, test_envelope());
  auto delivery = inbox_->receive(kWait);
  ASSERT_TRUE(delivery);
  delivery->reject(testing::test_fault("boom", 2));

  EXPECT_EQ(broker.ready(endpoint_ + "_error"), 1u);
  const auto errors = transport_->error_messages(endpoint_);
  ASSERT_EQ(errors.size(), 1u);
  // The raw body is kept as it came; the headers are read by the pika
  // interop tests, which see them the way MassTransit tools would.
  EXPECT_THAT(errors[0].body, HasSubstr("\"messageType\""));
}

TEST_F(AmqpErrorQueueTest, ReadingTheErrorQueueLeavesItsMessagesThere) {
  testing::RawClient broker(uri_);
  for (int i = 0; i < 3; ++i) {
    transport_->publish(topic_, test_envelope("m" + std::to_string(i)));
    auto d = inbox_->receive(kWait);
    ASSERT_TRUE(d);
    d->reject(testing::test_fault("bad " + std::to_string(i)));
  }

  const auto first = transport_->error_messages(endpoint_);
  const auto second = transport_->error_messages(endpoint_);

  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(first[i].envelope->message_id, "m" + std::to_string(i));
    EXPECT_EQ(second[i].envelope->message_id, "m" + std::to_string(i));
  }
  EXPECT_EQ(broker.ready(endpoint_ + "_error"), 3u);
}

// A message a MassTransit service moved to its error queue, headers and
// body as MassTransit writes them (tests/data/masstransit/README.md), reads
// back whole: the envelope and every fault field.
TEST_F(AmqpErrorQueueTest, AFaultMassTransitWroteReadsBack) {
  const Json file = Json::parse(
      testing::read_test_data("masstransit/fault_submit_order.json"));
  const Json& headers = file["properties"]["headers"];
  detail::AmqpProperties properties;
  properties.content_type = file["properties"]["contentType"];
  properties.message_id = file["properties"]["messageId"];
  properties.headers = headers;
  const std::string body = file["body"].dump();
  testing::RawClient masstransit(uri_);
  const std::string queue = endpoint_ + "_error";
  masstransit.declare_masstransit_queue(queue);

  masstransit.publish(queue, properties, body);

  const auto errors = transport_->error_messages(endpoint_);
  ASSERT_EQ(errors.size(), 1u);
  const ErrorMessage& error = errors[0];
  EXPECT_EQ(error.body, body);
  ASSERT_TRUE(error.envelope);
  EXPECT_EQ(error.envelope->message_id, file["body"]["messageId"]);
  EXPECT_EQ(
      error.envelope->message_type,
      (std::vector<std::string>{"urn:message:Company.Project:SubmitOrder"}));
  EXPECT_EQ(error.envelope->message, file["body"]["message"]);
  const Fault& fault = error.fault;
  EXPECT_EQ(fault.reason, headers["MT-Reason"]);
  EXPECT_EQ(fault.exception_type, headers["MT-Fault-ExceptionType"]);
  EXPECT_EQ(fault.message, headers["MT-Fault-Message"]);
  EXPECT_EQ(fault.stack_trace, headers["MT-Fault-StackTrace"]);
  EXPECT_EQ(fault.input_address, headers["MT-Fault-InputAddress"]);
  EXPECT_EQ(fault.timestamp, headers["MT-Fault-Timestamp"]);
  EXPECT_TRUE(parse_time(fault.timestamp)) << fault.timestamp;
  EXPECT_EQ(fault.consumer_type, headers["MT-Fault-ConsumerType"]);
  EXPECT_EQ(fault.message_type, headers["MT-Fault-MessageType"]);
  EXPECT_EQ(fault.retry_count, 3);
  // Read, not taken: the message stays for MassTransit's own tools.
  EXPECT_EQ(masstransit.ready(queue), 1u);
}

TEST_F(AmqpErrorQueueTest, AnEndpointWithoutRejectsHasNoErrors) {
  EXPECT_TRUE(transport_->error_messages(endpoint_).empty());
  // The lookup of a missing queue did not disturb the transport.
  transport_->publish(topic_, test_envelope("still"));
  auto d = inbox_->receive(kWait);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, "still");
  d->ack();
}

TEST_F(AmqpErrorQueueTest,
       UndecodableBodiesGoToTheErrorQueueAndNeverReachTheWorker) {
  testing::RawClient raw(uri_);
  raw.publish(topic_, "{ this is not json");
  raw.publish(topic_, R"({"message": {}})");  // no messageType
  raw.publish(topic_, std::string(kMaxMessageBytes + 1, ' '));
  raw.publish(topic_, "<order/>", "application/xml");
  raw.publish(topic_, R"({"orderId": 1})", "application/json");
  transport_->publish(topic_, test_envelope("good"));

  auto delivery = inbox_->receive(kWait);
  ASSERT_TRUE(delivery);
  EXPECT_EQ(delivery->envelope->message_id, "good");
  delivery->ack();

  const auto errors = transport_->error_messages(endpoint_);
  ASSERT_EQ(errors.size(), 5u);
  for (const ErrorMessage& e : errors) {
    EXPECT_FALSE(e.envelope);
    EXPECT_EQ(e.fault.exception_type, "isoqube.MessageError");
  }
  EXPECT_THAT(errors[0].fault.message, HasSubstr("not valid JSON"));
  EXPECT_THAT(errors[1].fault.message, HasSubstr("messageType"));
  EXPECT_THAT(errors[2].fault.message, HasSubstr("exceeds the limit"));
  EXPECT_EQ(errors[2].body.size(), kMaxMessageBytes + 1);
  EXPECT_THAT(errors[3].fault.message,
              HasSubstr("unsupported content type 'application/xml'"));
  EXPECT_THAT(errors[4].fault.message, HasSubstr("MT-MessageType"));
  EXPECT_EQ(transport_->stats().rejected, 5u);
  EXPECT_EQ(transport_->stats().delivered, 1u);
}

TEST_F(AmqpErrorQueueTest, RawJsonWithAMessageTypeHeaderIsWrappedInAnEnvelope) {
  testing::RawClient raw(uri_);
  raw.publish(topic_, R"({"orderId": 7})", "application/json",
              {{"MT-MessageType",
                "urn:message:Shop:OrderPlaced;urn:message:Shop:Event"},
               {"MessageId", "00000000-0000-0000-0000-000000000007"}});

  auto d = inbox_->receive(kWait);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_type,
            (std::vector<std::string>{"urn:message:Shop:OrderPlaced",
                                      "urn:message:Shop:Event"}));
  EXPECT_EQ(d->envelope->message, (Json{{"orderId", 7}}));
  d->ack();
}

}  // namespace
}  // namespace isoqube
