// Conformance: where a published message goes (transport.h, Transport::
// publish and publish_async), and what happens when it can go nowhere.
#include <gmock/gmock.h>

#include <set>

#include "isoqube/errors.h"
#include "support/wait.h"
#include "transport_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::HasSubstr;

TEST_P(TransportConformanceTest, EveryEndpointBoundToATopicGetsItsOwnCopy) {
  const std::string other = unique_name("other");
  auto a = subscribe(endpoint_, topic_);
  auto b = subscribe(other, topic_);
  Envelope sent = test_envelope();
  sent.correlation_id = new_uuid();
  sent.message = {{"greeting", "hello"}, {"n", 42}};

  transport().publish(topic_, sent);

  auto from_a = a->receive(kDeliveryWait);
  auto from_b = b->receive(kDeliveryWait);
  ASSERT_TRUE(from_a && from_b);
  EXPECT_EQ(from_a->endpoint, endpoint_);
  EXPECT_EQ(from_b->endpoint, other);
  for (const auto* d : {&*from_a, &*from_b}) {
    EXPECT_FALSE(d->redelivered);
    EXPECT_EQ(d->envelope->message_id, sent.message_id);
    EXPECT_EQ(d->envelope->correlation_id, sent.correlation_id);
    EXPECT_EQ(d->envelope->message_type, sent.message_type);
    EXPECT_EQ(d->envelope->message, sent.message);
  }
  from_a->ack();
  from_b->ack();
}

TEST_P(TransportConformanceTest,
       CompetingSubscribersOfAnEndpointGetEachMessageOnce) {
  auto first = subscribe(endpoint_, topic_, 100);
  auto second = subscribe(endpoint_, topic_, 100);
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    transport().publish(topic_, test_envelope("m" + std::to_string(i)));
  }

  std::multiset<std::string> seen;
  ASSERT_TRUE(wait_until([&] {
    for (Inbox* inbox : {first.get(), second.get()}) {
      while (auto d = inbox->receive(std::chrono::milliseconds(0))) {
        seen.insert(d->envelope->message_id);
        d->ack();
      }
    }
    return seen.size() >= kCount;
  }));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
            static_cast<std::size_t>(kCount));
  EXPECT_FALSE(first->receive(kNothingWait));
  EXPECT_FALSE(second->receive(std::chrono::milliseconds(0)));
}

TEST_P(TransportConformanceTest, OneInboxReceivesFromAllItsEndpoints) {
  const std::string other_topic = unique_name("topic");
  const std::string other_endpoint = unique_name("endpoint");
  auto inbox = transport().subscribe(
      {{endpoint_, {topic_}}, {other_endpoint, {other_topic}}}, 10);

  transport().publish(topic_, test_envelope("one"));
  transport().publish(other_topic, test_envelope("two"));

  std::set<std::string> endpoints;
  for (int i = 0; i < 2; ++i) {
    auto d = inbox->receive(kDeliveryWait);
    ASSERT_TRUE(d);
    endpoints.insert(d->endpoint);
    d->ack();
  }
  EXPECT_EQ(endpoints, (std::set<std::string>{endpoint_, other_endpoint}));
}

// RabbitMQ publishes mandatory and hears basic.return: the message is not
// silently dropped. Before, memory:// kept it, and a run whose topic
// nothing consumed waited, queued and silent, for ever.
TEST_P(TransportConformanceTest,
       PublishToATopicNoEndpointIsBoundToFailsAndKeepsNothing) {
  try {
    transport().publish(topic_, test_envelope("lost"));
    FAIL() << "a publish that reached no endpoint succeeded";
  } catch (const TransportError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("'" + topic_ + "'"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("nothing is subscribed"));
  }
  EXPECT_EQ(transport().stats().published, 0u);

  // An endpoint bound afterwards does not get it either.
  auto inbox = subscribe(endpoint_, topic_);
  EXPECT_FALSE(inbox->receive(kNothingWait));
}

TEST_P(TransportConformanceTest,
       AsyncPublishToATopicNoEndpointIsBoundToReportsTheError) {
  Confirmations confirmations;
  std::exception_ptr error;
  try {
    transport().publish_async(topic_, test_envelope(),
                              confirmations.callback());
    ASSERT_TRUE(wait_until([&] { return confirmations.errors().size() == 1; }));
    error = confirmations.errors()[0];
  } catch (const TransportError&) {
    // Thrown instead: then `confirmed` is never called (transport.h).
    error = std::current_exception();
    EXPECT_TRUE(confirmations.errors().empty());
  }
  ASSERT_TRUE(error) << "an unroutable publish was confirmed";
  try {
    std::rethrow_exception(error);
  } catch (const TransportError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("nothing is subscribed"));
  } catch (...) {
    FAIL() << "not a TransportError";
  }
}

TEST_P(TransportConformanceTest, AsyncPublishesAreConfirmedOnceEach) {
  auto inbox = subscribe(endpoint_, topic_, 100);
  Confirmations confirmations;
  constexpr std::size_t kCount = 20;

  for (std::size_t i = 0; i < kCount; ++i) {
    transport().publish_async(topic_, test_envelope(),
                              confirmations.callback());
  }

  ASSERT_TRUE(
      wait_until([&] { return confirmations.errors().size() == kCount; }));
  for (const std::exception_ptr& error : confirmations.errors()) {
    EXPECT_FALSE(error);
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    auto d = inbox->receive(kDeliveryWait);
    ASSERT_TRUE(d) << "message " << i << " did not arrive";
    d->ack();
  }
  EXPECT_EQ(transport().stats().published, kCount);
}

// An endpoint is durable: its binding outlives the inboxes that consume it,
// and what is published meanwhile waits there for the next one.
TEST_P(TransportConformanceTest, AnEndpointNobodyConsumesNowKeepsItsMessages) {
  subscribe(endpoint_, topic_).reset();

  transport().publish(topic_, test_envelope("kept"));

  auto inbox = subscribe(endpoint_, topic_);
  auto d = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, "kept");
  d->ack();
}

TEST_P(TransportConformanceTest, TheTransportSaysWhetherOtherProcessesShareIt) {
  EXPECT_EQ(transport().distributed(), GetParam().distributed);
}

}  // namespace
}  // namespace isoqube::testing
