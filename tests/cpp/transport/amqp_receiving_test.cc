// Many threads receiving from one inbox over RabbitMQ: every delivery
// reaches exactly one of them, a thread that holds a delivery keeps neither
// the other threads nor listeners waiting, and closing the inbox wakes a
// thread waiting in receive().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "amqp_broker.h"
#include "isoqube/transport.h"
#include "support/wait.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;
using testing::test_envelope;
using testing::unique_name;

// Longer than any wait_until() below: a receive() that returns within one
// was woken, not timed out.
constexpr milliseconds kLongReceive{60000};

class AmqpReceivingTest : public testing::AmqpBrokerTest {};

TEST_F(AmqpReceivingTest, ManyReceivingThreadsGetEveryMessageOnce) {
  testing::Subscribed s(uri_, 20);
  constexpr int kThreads = 4, kMessages = 2000;
  std::mutex mutex;
  std::multiset<std::string> seen;  // guarded by mutex
  std::atomic<int> received{0};
  std::vector<std::thread> receivers;
  for (int t = 0; t < kThreads; ++t) {
    receivers.emplace_back([&] {
      while (received < kMessages) {
        auto d = s.inbox->receive(milliseconds(100));
        if (!d) continue;
        {
          std::lock_guard<std::mutex> lock(mutex);
          seen.insert(d->envelope->message_id);
        }
        d->ack();
        ++received;
      }
    });
  }
  std::atomic<int> confirmed{0};
  for (int i = 0; i < kMessages; ++i) {
    s.transport->publish_async(s.topic, test_envelope("m" + std::to_string(i)),
                               [&](std::exception_ptr error) {
                                 if (!error) ++confirmed;
                               });
  }

  EXPECT_TRUE(testing::wait_until([&] { return received >= kMessages; },
                                  milliseconds(60000)))
      << "only " << received << " of " << kMessages << " arrived";
  for (auto& r : receivers) r.join();
  EXPECT_EQ(confirmed, kMessages);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
            static_cast<std::size_t>(kMessages));
  EXPECT_EQ(s.transport->stats().delivered, static_cast<uint64_t>(kMessages));
}

// Receives one message on the calling thread and acks it: the inbox's
// consumer runs and the calling thread has received before, as a worker's
// thread has between steps.
void warm_up(testing::Subscribed& s) {
  s.transport->publish(s.topic, test_envelope("warm-up"));
  auto d = s.inbox->receive(kLongReceive);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->envelope->message_id, "warm-up");
  d->ack();
}

// A long step: the thread that received its message handles it and
// receives no more meanwhile; the other thread, which waits, must get the
// next one.
TEST_F(AmqpReceivingTest, AThreadHoldingADeliveryKeepsNoOtherThreadWaiting) {
  testing::Subscribed s(uri_);
  std::optional<Delivery> held, next;
  std::atomic<bool> waiting{false}, holding{false}, got_next{false};
  std::thread reader([&] {
    warm_up(s);
    waiting = true;
    held = s.inbox->receive(kLongReceive);
    holding = true;
  });
  ASSERT_TRUE(testing::wait_until([&] { return waiting.load(); }));
  std::thread other([&] {
    next = s.inbox->receive(kLongReceive);
    got_next = true;
  });

  s.transport->publish(s.topic, test_envelope("first"));
  ASSERT_TRUE(testing::wait_until([&] { return holding || got_next; }));
  s.transport->publish(s.topic, test_envelope("second"));
  const bool both =
      testing::wait_until([&] { return holding.load() && got_next.load(); });
  if (!both) s.inbox->close();  // rather than wait for kLongReceive
  reader.join();
  other.join();

  ASSERT_TRUE(both) << "a waiting thread never got its message";
  ASSERT_TRUE(held && next);
  EXPECT_EQ((std::set<std::string>{held->envelope->message_id,
                                   next->envelope->message_id}),
            (std::set<std::string>{"first", "second"}));
  held->ack();
  next->ack();
}

// The inbox's only thread holds the delivery it received and receives no
// more: the listeners of the same transport still hear what is broadcast.
TEST_F(AmqpReceivingTest, ListenersHearBroadcastsWhileTheOnlyReaderIsBusy) {
  testing::Subscribed s(uri_);
  auto sender = open_transport(uri_);
  const std::string channel = unique_name("channel");
  std::atomic<int> heard{0};
  auto listening = s.transport->listen(channel, BroadcastsFrom::kAnyone,
                                       [&](const Json&) { ++heard; });
  warm_up(s);
  // Sent while this thread waits in receive().
  std::thread publisher([&] {
    std::this_thread::sleep_for(milliseconds(100));
    s.transport->publish(s.topic, test_envelope("held"));
  });
  auto held = s.inbox->receive(kLongReceive);
  publisher.join();
  ASSERT_TRUE(held);

  for (int i = 0; i < 3; ++i) {
    sender->broadcast(channel, {{"n", i}});
    ASSERT_TRUE(testing::wait_until([&] { return heard == i + 1; }))
        << "broadcast " << i << " not heard";
  }
  held->ack();
}

TEST_F(AmqpReceivingTest, CloseWakesAThreadWaitingInReceive) {
  testing::Subscribed s(uri_);
  std::atomic<bool> waiting{false}, returned{false};
  std::optional<Delivery> got;
  std::thread receiver([&] {
    warm_up(s);
    waiting = true;
    got = s.inbox->receive(kLongReceive);
    returned = true;
  });
  ASSERT_TRUE(testing::wait_until([&] { return waiting.load(); }));
  // Not needed for the outcome: lets the thread get into receive().
  std::this_thread::sleep_for(milliseconds(100));

  s.inbox->close();
  EXPECT_TRUE(testing::wait_until([&] { return returned.load(); }))
      << "receive() did not return after close()";
  receiver.join();
  EXPECT_FALSE(got);
}

}  // namespace
}  // namespace isoqube
