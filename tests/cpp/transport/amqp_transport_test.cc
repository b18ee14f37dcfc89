// Publishing and consuming through RabbitMQ: routing, competing consumers,
// prefetch, acknowledgements.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "amqp_broker.h"
#include "amqp_raw_client.h"
#include "isoqube/errors.h"
#include "isoqube/transport.h"
#include "support/wait.h"

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

TEST_F(AmqpTransportTest, EveryEndpointBoundToATopicGetsItsOwnCopy) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  auto a = transport->subscribe({{unique_name("a"), {topic}}}, 10);
  auto b = transport->subscribe({{unique_name("b"), {topic}}}, 10);
  const Envelope sent = test_envelope();

  transport->publish(topic, sent);

  auto da = a->receive(kWait);
  auto db = b->receive(kWait);
  ASSERT_TRUE(da && db);
  EXPECT_EQ(da->envelope->message_id, sent.message_id);
  EXPECT_EQ(db->envelope->message_id, sent.message_id);
  EXPECT_NE(da->endpoint, db->endpoint);
  da->ack();
  db->ack();
}

TEST_F(AmqpTransportTest, OneInboxReceivesFromAllItsEndpoints) {
  auto transport = open_transport(uri_);
  const std::string t1 = unique_name("t1"), t2 = unique_name("t2");
  const std::string e1 = unique_name("e1"), e2 = unique_name("e2");
  auto inbox = transport->subscribe({{e1, {t1}}, {e2, {t2}}}, 10);

  transport->publish(t1, test_envelope("m1"));
  transport->publish(t2, test_envelope("m2"));

  std::set<std::string> endpoints;
  for (int i = 0; i < 2; ++i) {
    auto d = inbox->receive(kWait);
    ASSERT_TRUE(d);
    endpoints.insert(d->endpoint);
    d->ack();
  }
  EXPECT_EQ(endpoints, (std::set<std::string>{e1, e2}));
}

TEST_F(AmqpTransportTest, CompetingSubscribersShareAnEndpointsMessages) {
  auto first_transport = open_transport(uri_);
  auto second_transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("shared");
  auto first = first_transport->subscribe({{endpoint, {topic}}}, 100);
  auto second = second_transport->subscribe({{endpoint, {topic}}}, 100);
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    first_transport->publish(topic, test_envelope("m" + std::to_string(i)));
  }

  std::multiset<std::string> seen;
  int from_first = 0, from_second = 0;
  ASSERT_TRUE(testing::wait_until([&] {
    for (auto [inbox, count] : {std::pair{first.get(), &from_first},
                                std::pair{second.get(), &from_second}}) {
      while (auto d = inbox->receive(milliseconds(0))) {
        seen.insert(d->envelope->message_id);
        ++*count;
        d->ack();
      }
    }
    return seen.size() >= kCount;
  }));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
            static_cast<std::size_t>(kCount));
  // RabbitMQ hands messages round-robin to consumers with room.
  EXPECT_GT(from_first, 0);
  EXPECT_GT(from_second, 0);
}

TEST_F(AmqpTransportTest, PrefetchLimitsUnacknowledgedDeliveries) {
  auto transport = open_transport(uri_);
  testing::RawClient broker(uri_);
  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {topic}}}, 2);
  for (int i = 0; i < 3; ++i) transport->publish(topic, test_envelope());

  auto d1 = inbox->receive(kWait);
  auto d2 = inbox->receive(kWait);
  ASSERT_TRUE(d1 && d2);
  // The broker holds the third back until one of the two is acknowledged.
  ASSERT_TRUE(testing::wait_until([&] { return broker.ready(endpoint) == 1; }));
  EXPECT_FALSE(inbox->receive(milliseconds(200)))
      << "a third delivery exceeded the prefetch of 2";
  EXPECT_EQ(broker.ready(endpoint), 1u);

  d1->ack();
  auto d3 = inbox->receive(kWait);
  ASSERT_TRUE(d3);
  d2->ack();
  d3->ack();
}

TEST_F(AmqpTransportTest, RequeuedMessageComesBackMarkedRedelivered) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  auto inbox = transport->subscribe({{unique_name("endpoint"), {topic}}}, 10);
  const Envelope sent = test_envelope();
  transport->publish(topic, sent);

  auto first = inbox->receive(kWait);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->redelivered);
  first->requeue();

  auto again = inbox->receive(kWait);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->redelivered);
  EXPECT_EQ(again->envelope->message_id, sent.message_id);
  again->ack();
}

TEST_F(AmqpTransportTest, UnacknowledgedMessagesReturnWhenTheInboxCloses) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {topic}}}, 10);
  transport->publish(topic, test_envelope("kept"));
  auto taken = inbox->receive(kWait);
  ASSERT_TRUE(taken);

  inbox.reset();  // taken is neither acked nor rejected
  taken->ack();   // too late: its channel is gone; ignored

  auto next = transport->subscribe({{endpoint, {topic}}}, 10);
  auto again = next->receive(kWait);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->envelope->message_id, "kept");
  EXPECT_TRUE(again->redelivered);
  again->ack();
}

TEST_F(AmqpTransportTest, ALateAckNeverSettlesAnotherInboxsDelivery) {
  auto transport = open_transport(uri_);
  testing::RawClient broker(uri_);
  const std::string topic = unique_name("topic");
  const std::string first_endpoint = unique_name("first");
  const std::string second_endpoint = unique_name("second");
  auto first = transport->subscribe({{first_endpoint, {topic}}}, 10);
  transport->publish(topic, test_envelope("one"));
  auto late = first->receive(kWait);
  ASSERT_TRUE(late);
  first.reset();  // its channel closes; the next inbox may get its number
  auto second = transport->subscribe({{second_endpoint, {topic}}}, 10);
  transport->publish(topic, test_envelope("two"));
  std::optional<Delivery> current;
  while (!current || current->endpoint != second_endpoint) {
    current = second->receive(kWait);
    ASSERT_TRUE(current);
  }

  late->ack();  // same channel number, same delivery tag: must not count
  second.reset();

  // The broker requeues what a closed channel left unacknowledged a moment
  // after the close: wait for it, rather than read the count too early.
  EXPECT_TRUE(testing::wait_until([&] {
    return broker.ready(second_endpoint) == 1u;
  })) << "the late ack settled the second inbox's delivery";
}

TEST_F(AmqpTransportTest, WhatOutlivesTheTransportFailsQuietly) {
  testing::RawClient broker(uri_);
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {topic}}}, 10);
  auto listening = transport->listen(
      unique_name("events"), BroadcastsFrom::kAnyone, [](const Json&) {});
  transport->publish(topic, test_envelope("kept"));
  auto delivery = inbox->receive(kWait);
  ASSERT_TRUE(delivery);

  transport.reset();
  delivery->ack();
  EXPECT_FALSE(inbox->receive(milliseconds(0)));
  inbox.reset();
  listening.reset();

  // The connection closed without the ack: the broker has it back.
  EXPECT_EQ(broker.ready(endpoint), 1u);
}

TEST_F(AmqpTransportTest, AcknowledgedMessageIsGoneForGood) {
  auto transport = open_transport(uri_);
  testing::RawClient broker(uri_);
  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("endpoint");
  auto inbox = transport->subscribe({{endpoint, {topic}}}, 10);
  transport->publish(topic, test_envelope());
  auto d = inbox->receive(kWait);
  ASSERT_TRUE(d);

  d->ack();
  inbox.reset();

  EXPECT_EQ(broker.ready(endpoint), 0u);
}

TEST_F(AmqpTransportTest, PublishToATopicNoEndpointIsBoundToFails) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("unbound");
  try {
    transport->publish(topic, test_envelope());
    FAIL() << "an unroutable publish succeeded";
  } catch (const TransportError& e) {
    EXPECT_THAT(std::string(e.what()),
                ::testing::HasSubstr("exchange '" + topic +
                                     "' routed the message to no queue"));
  }
  EXPECT_EQ(transport->stats().published, 0u);
}

// What a worker acks by: the callback, once, after the broker confirmed.
class Outcomes {
 public:
  Transport::Confirmed callback() {
    return [this](std::exception_ptr error) {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_.push_back(error);
    };
  }
  std::vector<std::exception_ptr> errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::exception_ptr> errors_;
};

TEST_F(AmqpTransportTest, AsyncPublishesCallBackOnceEachWhenConfirmed) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  auto inbox = transport->subscribe({{unique_name("endpoint"), {topic}}}, 100);
  Outcomes outcomes;

  for (int i = 0; i < 50; ++i) {
    transport->publish_async(topic, test_envelope(), outcomes.callback());
  }

  ASSERT_TRUE(
      testing::wait_until([&] { return outcomes.errors().size() == 50; }));
  for (const std::exception_ptr& error : outcomes.errors()) {
    EXPECT_FALSE(error);
  }
  EXPECT_EQ(transport->stats().published, 50u);
  for (int i = 0; i < 50; ++i) {
    auto delivery = inbox->receive(kWait);
    ASSERT_TRUE(delivery) << "message " << i << " of 50 did not arrive";
    delivery->ack();
  }
}

TEST_F(AmqpTransportTest,
       AsyncPublishToATopicNoEndpointIsBoundToCallsBackWithTheError) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("unbound");
  Outcomes outcomes;

  transport->publish_async(topic, test_envelope(), outcomes.callback());

  ASSERT_TRUE(
      testing::wait_until([&] { return outcomes.errors().size() == 1; }));
  try {
    std::rethrow_exception(outcomes.errors()[0]);
  } catch (const TransportError& e) {
    EXPECT_THAT(std::string(e.what()),
                ::testing::HasSubstr("routed the message to no queue"));
  } catch (...) {
    FAIL() << "no error, or not a TransportError";
  }
  EXPECT_EQ(transport->stats().published, 0u);
}

TEST_F(AmqpTransportTest, OversizeMessageIsRefusedBeforeSending) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  auto inbox = transport->subscribe({{unique_name("endpoint"), {topic}}}, 10);
  Envelope big = test_envelope();
  big.message = {{"blob", std::string(kMaxMessageBytes, 'x')}};

  EXPECT_THROW(transport->publish(topic, big), MessageError);
}

// A body that fits in one frame (131,072 bytes less 8 of framing) goes out
// in one write of the transport's own framing; a longer one as rabbitmq-c
// frames it. Sizes on both sides of the line, and far past it.
TEST_F(AmqpTransportTest, MessagesAroundTheFrameSizeArriveWhole) {
  testing::Subscribed s(uri_, 50);
  std::vector<std::size_t> sizes;
  for (std::size_t size = 130000; size <= 132000; size += 97) {
    sizes.push_back(size);
  }
  sizes.push_back(1 << 20);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    Envelope sent = test_envelope("m" + std::to_string(i));
    std::string blob(sizes[i], 'a');
    for (std::size_t j = 0; j < blob.size(); j += 1000) {
      blob[j] = static_cast<char>('a' + (i + j / 1000) % 26);
    }
    sent.message = {{"blob", blob}};
    s.transport->publish(s.topic, sent);

    auto d = s.inbox->receive(kWait);
    ASSERT_TRUE(d) << "size " << sizes[i];
    EXPECT_EQ(d->envelope->message_id, sent.message_id);
    EXPECT_EQ(d->envelope->message, sent.message) << "size " << sizes[i];
    d->ack();
  }
}

TEST_F(AmqpTransportTest, ManyThreadsPublishAtOnce) {
  auto transport = open_transport(uri_);
  const std::string topic = unique_name("topic");
  auto inbox = transport->subscribe({{unique_name("endpoint"), {topic}}}, 500);
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        transport->publish(
            topic, test_envelope(std::to_string(t) + "-" + std::to_string(i)));
      }
    });
  }
  for (auto& p : publishers) p.join();

  std::set<std::string> seen;
  while (seen.size() < kThreads * kEach) {
    auto d = inbox->receive(kWait);
    ASSERT_TRUE(d) << "only " << seen.size() << " arrived";
    seen.insert(d->envelope->message_id);
    d->ack();
  }
  EXPECT_EQ(transport->stats().published,
            static_cast<uint64_t>(kThreads * kEach));
}

TEST_F(AmqpTransportTest, QuorumQueuesWork) {
  auto transport =
      open_transport(testing::with_options(uri_, "queue_type=quorum"));
  const std::string topic = unique_name("topic");
  const std::string t2 = unique_name("topic");
  auto inbox = transport->subscribe(
      {{unique_name("quorum"), {topic}}, {unique_name("quorum"), {t2}}}, 2);
  transport->publish(topic, test_envelope("q1"));
  transport->publish(t2, test_envelope("q2"));

  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    auto d = inbox->receive(kWait);
    ASSERT_TRUE(d);
    seen.insert(d->envelope->message_id);
    d->ack();
  }
  EXPECT_EQ(seen, (std::set<std::string>{"q1", "q2"}));
}

TEST_F(AmqpTransportTest, QueueTypeConflictIsAConfigurationError) {
  const std::string endpoint = unique_name("endpoint");
  const std::string topic = unique_name("topic");
  auto classic = open_transport(uri_);
  classic->subscribe({{endpoint, {topic}}}, 1);
  auto quorum =
      open_transport(testing::with_options(uri_, "queue_type=quorum"));

  try {
    quorum->subscribe({{endpoint, {topic}}}, 1);
    FAIL() << "a quorum subscribe to a classic queue succeeded";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("x-queue-type"));
  }
  // The transport goes on working.
  auto inbox = quorum->subscribe({{unique_name("endpoint"), {topic}}}, 1);
  quorum->publish(topic, test_envelope("after"));
  auto d = inbox->receive(kWait);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, "after");
  d->ack();
}

}  // namespace
}  // namespace isoqube
