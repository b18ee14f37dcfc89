// Conformance: what happens to a delivery (transport.h, Delivery and
// Inbox): ack, requeue, reject to the error queue, prefetch, delayed sends,
// and the counters.
#include <thread>

#include "isoqube/errors.h"
#include "isoqube/time.h"
#include "support/wait.h"
#include "transport_conformance.h"

namespace isoqube::testing {
namespace {

using std::chrono::milliseconds;

TEST_P(TransportConformanceTest, RequeuedMessageComesBackMarkedRedelivered) {
  auto inbox = subscribe(endpoint_, topic_);
  const Envelope sent = test_envelope();
  transport().publish(topic_, sent);

  auto first = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->redelivered);
  first->requeue();

  auto again = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->redelivered);
  EXPECT_EQ(again->envelope->message_id, sent.message_id);
  again->ack();
}

TEST_P(TransportConformanceTest, AcknowledgedMessageIsNotDeliveredAgain) {
  auto inbox = subscribe(endpoint_, topic_);
  transport().publish(topic_, test_envelope());
  auto d = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d);

  d->ack();
  inbox.reset();

  auto next = subscribe(endpoint_, topic_);
  EXPECT_FALSE(next->receive(kNothingWait));
}

TEST_P(TransportConformanceTest,
       RejectedMessageGoesToTheErrorQueueWithItsFault) {
  auto inbox = subscribe(endpoint_, topic_);
  const Envelope sent = test_envelope();
  transport().publish(topic_, sent);
  auto d = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d);
  Fault fault;
  fault.message = "consumer failed: disk full";
  fault.exception_type = "isoqube.ConsumerError";
  fault.reason = "fault";
  fault.retry_count = 3;

  d->reject(fault);

  std::vector<ErrorMessage> errors;
  ASSERT_TRUE(wait_until([&] {
    errors = transport().error_messages(endpoint_);
    return !errors.empty();
  }));
  ASSERT_EQ(errors.size(), 1u);
  ASSERT_TRUE(errors[0].envelope);
  EXPECT_EQ(errors[0].envelope->message_id, sent.message_id);
  EXPECT_EQ(errors[0].envelope->message, sent.message);
  EXPECT_EQ(errors[0].fault.message, fault.message);
  EXPECT_EQ(errors[0].fault.exception_type, fault.exception_type);
  EXPECT_EQ(errors[0].fault.reason, fault.reason);
  EXPECT_EQ(errors[0].fault.retry_count, 3);
  // Where and when, as MassTransit's MT-Fault-InputAddress and -Timestamp.
  EXPECT_EQ(errors[0].fault.input_address, transport().address(endpoint_));
  EXPECT_TRUE(parse_time(errors[0].fault.timestamp))
      << errors[0].fault.timestamp;
  EXPECT_EQ(transport().stats().rejected, 1u);
  // Rejected, not delivered again.
  EXPECT_FALSE(inbox->receive(kNothingWait));
}

TEST_P(TransportConformanceTest, ReadingTheErrorQueueLeavesItsMessagesThere) {
  auto inbox = subscribe(endpoint_, topic_);
  transport().publish(topic_, test_envelope());
  auto d = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d);
  d->reject(testing::test_fault("bad"));

  ASSERT_TRUE(wait_until(
      [&] { return transport().error_messages(endpoint_).size() == 1; }));
  EXPECT_EQ(transport().error_messages(endpoint_).size(), 1u);
}

TEST_P(TransportConformanceTest, AnEndpointWithoutRejectsHasNoErrorMessages) {
  auto inbox = subscribe(endpoint_, topic_);

  EXPECT_TRUE(transport().error_messages(endpoint_).empty());
  EXPECT_TRUE(transport().error_messages(unique_name("never")).empty());
}

TEST_P(TransportConformanceTest, PrefetchBoundsUnacknowledgedDeliveries) {
  auto inbox = subscribe(endpoint_, topic_, 2);
  for (int i = 0; i < 3; ++i) transport().publish(topic_, test_envelope());

  auto d1 = inbox->receive(kDeliveryWait);
  auto d2 = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d1 && d2);
  EXPECT_FALSE(inbox->receive(kNothingWait))
      << "a third delivery exceeded the prefetch of 2";

  d1->ack();
  auto d3 = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d3) << "acking one did not make room for the third";
  d2->ack();
  d3->ack();
}

TEST_P(TransportConformanceTest, DelayedSendArrivesOnlyAfterItsDelay) {
  auto inbox = subscribe(endpoint_, topic_);
  constexpr milliseconds kDelay{500};
  const auto sent = std::chrono::steady_clock::now();

  transport().send_delayed(endpoint_, test_envelope("later"), kDelay);

  auto d = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, kDelay);
  EXPECT_EQ(d->envelope->message_id, "later");
  EXPECT_EQ(d->endpoint, endpoint_);
  d->ack();
}

TEST_P(TransportConformanceTest, DelayedSendsArriveInDelayOrder) {
  auto inbox = subscribe(endpoint_, topic_);

  transport().send_delayed(endpoint_, test_envelope("second"),
                           milliseconds(600));
  transport().send_delayed(endpoint_, test_envelope("first"),
                           milliseconds(200));

  for (const char* expected : {"first", "second"}) {
    auto d = inbox->receive(kDeliveryWait);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->envelope->message_id, expected);
    d->ack();
  }
}

TEST_P(TransportConformanceTest,
       DelayedSendReachesAnEndpointNobodyConsumesYet) {
  transport().send_delayed(endpoint_, test_envelope("retry"),
                           milliseconds(100));

  auto inbox = subscribe(endpoint_, topic_);
  auto d = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, "retry");
  d->ack();
}

TEST_P(TransportConformanceTest, CountersFollowWhatHappened) {
  auto inbox = subscribe(endpoint_, topic_);
  transport().publish(topic_, test_envelope());
  transport().publish(topic_, test_envelope());
  auto first = inbox->receive(kDeliveryWait);
  auto second = inbox->receive(kDeliveryWait);
  ASSERT_TRUE(first && second);

  first->ack();
  second->reject(testing::test_fault("bad"));

  ASSERT_TRUE(wait_until([&] {
    const TransportStats s = transport().stats();
    return s.acked == 1 && s.rejected == 1;
  }));
  const TransportStats stats = transport().stats();
  EXPECT_EQ(stats.published, 2u);
  EXPECT_EQ(stats.delivered, 2u);
}

TEST_P(TransportConformanceTest, CloseWakesABlockedReceive) {
  auto inbox = subscribe(endpoint_, topic_);
  std::thread receiver(
      [&] { EXPECT_FALSE(inbox->receive(milliseconds(60000))); });

  inbox->close();
  receiver.join();

  EXPECT_FALSE(inbox->receive(milliseconds(0)));
}

}  // namespace
}  // namespace isoqube::testing
