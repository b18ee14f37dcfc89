// Publishing and consuming through RabbitMQ: routing, competing consumers,
// prefetch, acknowledgements.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "amqp_broker.h"
#include "isoqube/errors.h"
#include "isoqube/transport.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;
using testing::test_envelope;
using testing::unique_name;

constexpr milliseconds kWait{10000};

class AmqpTransportTest : public testing::AmqpBrokerTest {};

TEST_F(AmqpTransportTest, PublishedMessageIsConsumedWithItsEnvelope) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {topic}}}, 10);
  Envelope sent = test_envelope();
  sent.correlation_id = new_uuid();
  sent.message = {{"greeting", "hello"}, {"n", 42}};

  transport->publish(topic, sent);

  auto delivery = inbox->receive(kWait);
  ASSERT_TRUE(delivery);
  EXPECT_EQ(delivery->endpoint, endpoint);
  EXPECT_FALSE(delivery->redelivered);
  EXPECT_EQ(delivery->envelope->message_id, sent.message_id);
  EXPECT_EQ(delivery->envelope->correlation_id, sent.correlation_id);
  EXPECT_EQ(delivery->envelope->message_type, sent.message_type);
  EXPECT_EQ(delivery->envelope->message, sent.message);
  delivery->ack();
  EXPECT_EQ(transport->stats().published, 1u);
  EXPECT_EQ(transport->stats().delivered, 1u);
  EXPECT_EQ(transport->stats().acked, 1u);
}

}  // namespace
}  // namespace isoqube
