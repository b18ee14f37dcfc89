// Broadcasts between processes sharing a broker: every listener of a
// channel, in any transport, gets every message broadcast after it started.
#include "transport/amqp_broadcast.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "amqp_broker.h"
#include "isoqube/errors.h"
#include "isoqube/transport.h"
#include "support/wait.h"
#include "transport_conformance.h"

namespace isoqube {
namespace {

using testing::Heard;
using testing::unique_name;

class AmqpBroadcastTest : public testing::AmqpBrokerTest {
 protected:
  // `heard` listening through `transport` on the test's own channel.
  std::unique_ptr<Listening> hear(
      Transport& transport, Heard& heard,
      BroadcastsFrom from = BroadcastsFrom::kAnyone) const {
    return transport.listen(channel_, from, heard.callback());
  }

  const std::string channel_ = unique_name("events");
};

// Anyone may publish to a broadcast exchange: a body that does not read is
// a MessageError (logged and dropped by the listener), also a number past a
// double's range, which nlohmann reports as out_of_range.
TEST(BroadcastBatchTest, BodiesThatDoNotReadAreMessageErrors) {
  for (const char* body : {"[1", "{\"a\": 1}", "[1e400]"}) {
    EXPECT_THROW(detail::decode_broadcast_batch(body), MessageError) << body;
  }
  EXPECT_EQ(detail::decode_broadcast_batch("[1, {\"a\": 2}]").size(), 2u);
}

TEST_F(AmqpBroadcastTest, ListenersInOtherTransportsHearEveryBroadcastInOrder) {
  auto sender = open_transport(uri_);
  auto receiver = open_transport(uri_);
  Heard first, second;
  auto listening_first = hear(*receiver, first);
  auto listening_second = hear(*sender, second);

  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) sender->broadcast(channel_, {{"n", i}});

  ASSERT_TRUE(testing::wait_until([&] {
    return first.count() == kCount && second.count() == kCount;
  })) << first.count()
      << " and " << second.count() << " of " << kCount;
  const auto heard = first.messages();
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(heard[i]["n"], i);
}

TEST_F(AmqpBroadcastTest, AListenerOfOthersHearsThemAndNotItsOwnTransport) {
  auto self = open_transport(uri_);
  auto other = open_transport(uri_);
  Heard others, anyone;
  auto listening_others = hear(*self, others, BroadcastsFrom::kOthers);
  auto listening_anyone = hear(*self, anyone);

  // When each broadcast has reached the transport before the next leaves
  std::size_t sent = 0;
  for (auto [sender, text] : {std::pair{self.get(), "own 1"},
                              {other.get(), "other 1"},
                              {self.get(), "own 2"},
                              {other.get(), "other 2"}}) {
    sender->broadcast(channel_, text);
    ++sent;
    ASSERT_TRUE(testing::wait_until([&] { return anyone.count() == sent; }))
        << "heard " << anyone.count() << " of " << sent;
  }

  // Then the listener of others heard the other's two, in order, and
  // nothing between them or before (its queue is first in, first out)
  ASSERT_TRUE(testing::wait_until([&] { return others.count() == 2; }))
      << others.count();
  EXPECT_EQ(others.messages(), (std::vector<Json>{"other 1", "other 2"}));
}

// Only the first broadcast of a batch wakes the link's thread; the others
// wait for the batch's linger. None may be left behind when a batch ends
// just as another broadcast is posted, nor when one comes alone after a
// batch has gone: with no other traffic it would wait for a heartbeat.
TEST_F(AmqpBroadcastTest,
       BroadcastsInBurstsAndPausesAllArriveWithNoOtherTraffic) {
  auto sender = open_transport(uri_);
  auto receiver = open_transport(uri_);
  Heard heard;
  auto listening = hear(*receiver, heard);
  std::size_t sent = 0;
  for (int round = 0; round < 40; ++round) {
    // Bursts of 1-4 with pauses around the linger, some rounds waited for
    // (so that the next broadcast comes alone after a batch has gone)
    for (int i = 0; i < 1 + round % 4; ++i) sender->broadcast(channel_, sent++);
    std::this_thread::sleep_for(std::chrono::microseconds(500 * (round % 13)));
    if (round % 3 == 0) {
      ASSERT_TRUE(testing::wait_until([&] { return heard.count() == sent; }))
          << "round " << round << ": heard " << heard.count() << " of " << sent;
    }
  }
  ASSERT_TRUE(testing::wait_until([&] { return heard.count() == sent; }))
      << "heard " << heard.count() << " of " << sent;
  const std::vector<Json> messages = heard.messages();
  for (std::size_t i = 0; i < sent; ++i) EXPECT_EQ(messages[i], i);
}

// A string of any bytes (a consumer's error message in a run event) goes
// out with replacement characters; it used to fail the whole batch's
// encoding on the link's thread and take the connection down with it.
// Text already encoded travels in the same batches.
TEST_F(AmqpBroadcastTest, TextThatIsNotUtf8CostsNeitherItsBatchNorTheLink) {
  auto sender = open_transport(uri_);
  auto receiver = open_transport(uri_);
  Heard heard;
  auto listening = hear(*receiver, heard);

  sender->broadcast(channel_, "before");
  sender->broadcast(channel_, {{"detail", "disk \xFF full"}});
  sender->broadcast_text(channel_, R"("after")");

  ASSERT_TRUE(testing::wait_until([&] { return heard.count() == 3; }))
      << heard.count();
  const std::vector<Json> messages = heard.messages();
  EXPECT_EQ(messages[0], "before");
  EXPECT_EQ(messages[1]["detail"], "disk \xEF\xBF\xBD full");
  EXPECT_EQ(messages[2], "after");
}

TEST_F(AmqpBroadcastTest, ChannelsAreSeparate) {
  auto transport = open_transport(uri_);
  const std::string a = unique_name("a"), b = unique_name("b");
  Heard on_a, on_b;
  auto la = transport->listen(a, BroadcastsFrom::kAnyone, on_a.callback());
  auto lb = transport->listen(b, BroadcastsFrom::kAnyone, on_b.callback());

  transport->broadcast(a, "for a");
  transport->broadcast(b, "for b");

  ASSERT_TRUE(testing::wait_until(
      [&] { return on_a.count() == 1 && on_b.count() == 1; }));
  EXPECT_EQ(on_a.messages()[0], "for a");
  EXPECT_EQ(on_b.messages()[0], "for b");
}

TEST_F(AmqpBroadcastTest, AStoppedListenerHearsNoMore) {
  auto transport = open_transport(uri_);
  Heard stopped, going_on;
  auto listening = hear(*transport, stopped);
  auto other = hear(*transport, going_on);
  transport->broadcast(channel_, 1);
  ASSERT_TRUE(testing::wait_until([&] { return stopped.count() == 1; }));

  listening.reset();
  transport->broadcast(channel_, 2);

  ASSERT_TRUE(testing::wait_until([&] { return going_on.count() == 2; }));
  EXPECT_EQ(stopped.count(), 1u);
}

TEST_F(AmqpBroadcastTest, AListenerMayStopItselfFromItsCallback) {
  auto transport = open_transport(uri_);
  std::unique_ptr<Listening> listening;
  std::mutex mutex;
  int calls = 0;
  {
    std::lock_guard<std::mutex> lock(mutex);
    listening =
        transport->listen(channel_, BroadcastsFrom::kAnyone, [&](const Json&) {
          std::lock_guard<std::mutex> lock(mutex);
          ++calls;
          listening.reset();
        });
  }

  transport->broadcast(channel_, 1);

  ASSERT_TRUE(testing::wait_until([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return calls == 1 && !listening;
  }));
  transport->broadcast(channel_, 2);
  // A later broadcast on a listened channel proves the first was not heard
  // twice and the stopped listener is gone.
  Heard witness;
  auto other = hear(*transport, witness);
  transport->broadcast(channel_, 3);
  ASSERT_TRUE(testing::wait_until([&] { return witness.count() == 1; }));
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(calls, 1);
}

TEST_F(AmqpBroadcastTest, TheTransportIsDistributed) {
  EXPECT_TRUE(open_transport(uri_)->distributed());
}

}  // namespace
}  // namespace isoqube
