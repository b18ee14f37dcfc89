// Conformance: broadcasts to listeners (transport.h, broadcast and listen).
#include "support/wait.h"
#include "transport_conformance.h"

namespace isoqube::testing {
namespace {

TEST_P(TransportConformanceTest,
       EveryListenerOfTheChannelHearsEveryBroadcastInOrder) {
  Heard first, second;
  auto listening_first = hear(first);
  auto listening_second = hear(second);

  for (int i = 0; i < 10; ++i) transport().broadcast(channel_, {{"n", i}});

  ASSERT_TRUE(
      wait_until([&] { return first.count() == 10 && second.count() == 10; }));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(first.messages()[i]["n"], i);
    EXPECT_EQ(second.messages()[i]["n"], i);
  }
}

TEST_P(TransportConformanceTest, ChannelsAreSeparate) {
  const std::string other = unique_name("other");
  Heard on_mine, on_other;
  auto mine = hear(on_mine);
  auto theirs = hear(on_other, BroadcastsFrom::kAnyone, other);

  transport().broadcast(channel_, "for mine");
  transport().broadcast(other, "for other");

  ASSERT_TRUE(wait_until(
      [&] { return on_mine.count() == 1 && on_other.count() == 1; }));
  EXPECT_EQ(on_mine.messages()[0], "for mine");
  EXPECT_EQ(on_other.messages()[0], "for other");
}

TEST_P(TransportConformanceTest, TextBroadcastsArriveAsJson) {
  Heard heard;
  auto listening = hear(heard);

  transport().broadcast_text(channel_, R"({"n": [1, "two"]})");

  ASSERT_TRUE(wait_until([&] { return heard.count() == 1; }));
  EXPECT_EQ(heard.messages()[0], (Json{{"n", {1, "two"}}}));
}

TEST_P(TransportConformanceTest, AStoppedListenerHearsNoMore) {
  Heard stopped, going_on;
  auto listening = hear(stopped);
  auto other = hear(going_on);
  transport().broadcast(channel_, 1);
  ASSERT_TRUE(wait_until([&] { return stopped.count() == 1; }));

  listening.reset();
  transport().broadcast(channel_, 2);

  ASSERT_TRUE(wait_until([&] { return going_on.count() == 2; }));
  EXPECT_EQ(stopped.count(), 1u);
}

// A listener of others' broadcasts hears none of its own transport's; one
// of anyone's hears those too.
TEST_P(TransportConformanceTest, AListenerOfOthersDoesNotHearItsOwnTransport) {
  Heard others, anyone;
  auto listening_others = hear(others, BroadcastsFrom::kOthers);
  auto listening_anyone = hear(anyone);

  transport().broadcast(channel_, "own 1");
  transport().broadcast(channel_, "own 2");

  ASSERT_TRUE(wait_until([&] { return anyone.count() == 2; }));
  // Both queues are first in, first out: a later broadcast heard by the
  // listener of anyone means an own one would have reached the other.
  EXPECT_EQ(others.count(), 0u);
}

}  // namespace
}  // namespace isoqube::testing
