// The in-process transport: its options and its own limits.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "isoqube/errors.h"
#include "isoqube/transport.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;

Envelope envelope(const std::string& id) {
  Envelope e;
  e.message_id = id;
  e.message_type = {"urn:message:Isoqube.Topics:Test"};
  return e;
}

TEST(MemoryTransportTest, PublishedMessageReachesEveryBoundEndpoint) {
  auto transport = open_transport("memory://");
  auto a = transport->subscribe({{"a", {"topic"}}}, 10);
  auto b = transport->subscribe({{"b", {"topic"}}}, 10);

  transport->publish("topic", envelope("m1"));

  auto da = a->receive(milliseconds(1000));
  auto db = b->receive(milliseconds(1000));
  ASSERT_TRUE(da && db);
  EXPECT_EQ(da->envelope->message_id, "m1");
  EXPECT_EQ(da->endpoint, "a");
  EXPECT_EQ(db->endpoint, "b");
  EXPECT_FALSE(da->redelivered);
}

TEST(MemoryTransportTest, CompetingSubscribersOfOneEndpointShareItsMessages) {
  auto transport = open_transport("memory://");
  auto first = transport->subscribe({{"shared", {"topic"}}}, 100);
  auto second = transport->subscribe({{"shared", {"topic"}}}, 100);
  for (int i = 0; i < 10; ++i) {
    transport->publish("topic", envelope("m" + std::to_string(i)));
  }

  std::multiset<std::string> seen;
  for (auto* inbox : {first.get(), second.get()}) {
    while (auto d = inbox->receive(milliseconds(0))) {
      seen.insert(d->envelope->message_id);
      d->ack();
    }
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 10u);
}

// What every transport does is specified once, for all of them, in the
// conformance suite (transport_conformance.h); here only what is memory://'s
// own.

TEST(MemoryTransportTest, PrefetchLimitsUnacknowledgedDeliveries) {
  auto transport = open_transport("memory://");
  auto inbox = transport->subscribe({{"ep", {"topic"}}}, 2);
  for (int i = 0; i < 3; ++i) transport->publish("topic", envelope("m"));

  auto d1 = inbox->receive(milliseconds(100));
  auto d2 = inbox->receive(milliseconds(100));
  auto d3 = inbox->receive(milliseconds(50));
  ASSERT_TRUE(d1 && d2);
  EXPECT_FALSE(d3) << "a third delivery exceeded the prefetch of 2";

  d1->ack();
  EXPECT_TRUE(inbox->receive(milliseconds(100)));
}

TEST(MemoryTransportTest, DelayedSendArrivesOnlyAfterItsDelay) {
  auto transport = open_transport("memory://");
  auto inbox = transport->subscribe({{"ep", {"topic"}}}, 10);
  auto sent = std::chrono::steady_clock::now();

  transport->send_delayed("ep", envelope("later"), milliseconds(100));

  EXPECT_FALSE(inbox->receive(milliseconds(0)));
  auto d = inbox->receive(milliseconds(5000));
  ASSERT_TRUE(d);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, milliseconds(100));
  EXPECT_EQ(d->envelope->message_id, "later");
}

TEST(MemoryTransportTest, RejectedMessageLandsInErrorQueueWithItsReason) {
  auto transport = open_transport("memory://");
  auto inbox = transport->subscribe({{"ep", {"topic"}}}, 10);
  transport->publish("topic", envelope("bad"));

  Fault fault;
  fault.message = "cannot decode";
  fault.retry_count = 2;
  inbox->receive(milliseconds(1000))->reject(fault);

  auto errors = transport->error_messages("ep");
  ASSERT_EQ(errors.size(), 1u);
  ASSERT_TRUE(errors[0].envelope);
  EXPECT_EQ(errors[0].envelope->message_id, "bad");
  EXPECT_EQ(errors[0].fault.message, "cannot decode");
  EXPECT_EQ(errors[0].fault.retry_count, 2);
  EXPECT_EQ(transport->stats().rejected, 1u);
}

TEST(MemoryTransportTest, RequeuedMessageComesBackMarkedRedelivered) {
  auto transport = open_transport("memory://");
  auto inbox = transport->subscribe({{"ep", {"topic"}}}, 10);
  transport->publish("topic", envelope("m"));

  inbox->receive(milliseconds(1000))->requeue();
  auto again = inbox->receive(milliseconds(1000));

  ASSERT_TRUE(again);
  EXPECT_TRUE(again->redelivered);
  EXPECT_EQ(again->envelope->message_id, "m");
}

TEST(MemoryTransportTest, PublishToFullEndpointFailsClearlyAfterTimeout) {
  auto transport = open_transport("memory://?capacity=1&publish_timeout_ms=20");
  auto inbox = transport->subscribe({{"ep", {"topic"}}}, 10);
  transport->publish("topic", envelope("m1"));

  try {
    transport->publish("topic", envelope("m2"));
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("'ep' is full"), std::string::npos)
        << e.what();
  }
}

TEST(MemoryTransportTest, CloseWakesABlockedReceive) {
  auto transport = open_transport("memory://");
  auto inbox = transport->subscribe({{"ep", {"topic"}}}, 10);
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    inbox->close();
  });

  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(inbox->receive(milliseconds(10000)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(5000));
  closer.join();
}

TEST(MemoryTransportTest, UnknownSchemeAndOptionsAreConfigurationErrors) {
  EXPECT_THROW(open_transport("carrier-pigeon://coop"), ConfigurationError);
  EXPECT_THROW(open_transport("memory://?speed=fast"), ConfigurationError);
  EXPECT_THROW(open_transport("memory://?capacity=0"), ConfigurationError);
  EXPECT_THROW(open_transport("not a uri"), ConfigurationError);
}

TEST(MemoryTransportTest,
     BroadcastReachesEveryListenerOfItsChannelUntilDropped) {
  auto transport = open_transport("memory://");
  std::vector<Json> a, b, other;
  auto la = transport->listen("events", BroadcastsFrom::kAnyone,
                              [&](const Json& m) { a.push_back(m); });
  auto lb = transport->listen("events", BroadcastsFrom::kAnyone,
                              [&](const Json& m) { b.push_back(m); });
  auto lo = transport->listen("other", BroadcastsFrom::kAnyone,
                              [&](const Json& m) { other.push_back(m); });

  transport->broadcast("events", Json{{"n", 1}});
  lb.reset();
  transport->broadcast("events", Json{{"n", 2}});

  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1]["n"], 2);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]["n"], 1);
  EXPECT_TRUE(other.empty());
  EXPECT_FALSE(transport->distributed());
}

TEST(MemoryTransportTest, BroadcastTextReachesListenersAsJson) {
  auto transport = open_transport("memory://");
  std::vector<Json> heard;
  auto listening =
      transport->listen("events", BroadcastsFrom::kAnyone,
                        [&](const Json& m) { heard.push_back(m); });

  transport->broadcast_text("events", R"({"n": [1, "two"]})");

  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0], (Json{{"n", {1, "two"}}}));
}

TEST(MemoryTransportTest, AListenerOfOtherTransportsHearsNothingInProcess) {
  auto transport = open_transport("memory://");
  std::vector<Json> anyone, others;
  auto la = transport->listen("events", BroadcastsFrom::kAnyone,
                              [&](const Json& m) { anyone.push_back(m); });
  auto lo = transport->listen("events", BroadcastsFrom::kOthers,
                              [&](const Json& m) { others.push_back(m); });

  transport->broadcast("events", Json{{"n", 1}});

  EXPECT_EQ(anyone.size(), 1u);
  EXPECT_TRUE(others.empty());
}

}  // namespace
}  // namespace isoqube
