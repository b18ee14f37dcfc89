// Delayed sends on RabbitMQ without plugins: per-delay TTL queues that
// dead-letter back to the endpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "amqp_broker.h"
#include "amqp_raw_client.h"
#include "isoqube/transport.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;
using testing::test_envelope;
using testing::unique_name;

constexpr milliseconds kWait{15000};

class AmqpDelayedTest : public testing::AmqpBrokerTest {};

std::vector<std::string> receive_ids(Inbox& inbox, int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    auto d = inbox.receive(kWait);
    if (!d) break;
    ids.push_back(d->envelope->message_id);
    d->ack();
  }
  return ids;
}

TEST_F(AmqpDelayedTest, DelayedMessagesArriveAfterUndelayedOnesInDelayOrder) {
  auto transport = open_transport(uri_);
  const std::string endpoint = unique_name("endpoint");
  const std::string topic = unique_name("topic");
  auto inbox = transport->subscribe({{endpoint, {topic}}}, 10);

  transport->send_delayed(endpoint, test_envelope("late"), milliseconds(1500));
  transport->send_delayed(endpoint, test_envelope("soon"), milliseconds(300));
  transport->publish(topic, test_envelope("now"));

  EXPECT_EQ(receive_ids(*inbox, 3),
            (std::vector<std::string>{"now", "soon", "late"}));
}

TEST_F(AmqpDelayedTest, DelayedMessageWaitsInItsOwnDelayQueue) {
  auto transport = open_transport(uri_);
  testing::RawClient broker(uri_);
  const std::string endpoint = unique_name("endpoint");

  transport->send_delayed(endpoint, test_envelope("held"),
                          milliseconds(120000));

  EXPECT_EQ(broker.ready(endpoint + "_delay_120000"), 1u);
  EXPECT_EQ(broker.ready(endpoint), 0u);
}

TEST_F(AmqpDelayedTest, DelayedSendReachesAnEndpointNobodyConsumesYet) {
  auto transport = open_transport(uri_);
  const std::string endpoint = unique_name("endpoint");

  transport->send_delayed(endpoint, test_envelope("waiting"),
                          milliseconds(100));
  auto inbox = transport->subscribe({{endpoint, {}}}, 10);

  EXPECT_EQ(receive_ids(*inbox, 1), (std::vector<std::string>{"waiting"}));
}

TEST_F(AmqpDelayedTest, QuorumDelayQueuesDeadLetterToo) {
  auto transport =
      open_transport(testing::with_options(uri_, "queue_type=quorum"));
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {}}}, 10);

  transport->send_delayed(endpoint, test_envelope("q"), milliseconds(200));

  EXPECT_EQ(receive_ids(*inbox, 1), (std::vector<std::string>{"q"}));
}

TEST_F(AmqpDelayedTest, ZeroDelayGoesStraightToTheEndpoint) {
  auto transport = open_transport(uri_);
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {}}}, 10);

  transport->send_delayed(endpoint, test_envelope("direct"), milliseconds(0));

  EXPECT_EQ(receive_ids(*inbox, 1), (std::vector<std::string>{"direct"}));
}

}  // namespace
}  // namespace isoqube
