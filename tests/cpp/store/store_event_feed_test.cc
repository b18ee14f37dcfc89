// Conformance: an EventFeed gets every run's events, each once, however
// the writers interleave. (Writers with clocks apart, which only the
// MongoDB store's seqs see, are provoked in mongo_store_test.cc.)
#include <gmock/gmock.h>

#include <set>
#include <utility>

#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using Delivered = std::set<std::pair<int64_t, std::string>>;

// Reads the feed until a read brings nothing; fails on an event twice.
std::vector<Event> drain(EventFeed& feed, Store& store, Delivered& seen,
                         std::size_t limit = 1000) {
  std::vector<Event> out;
  for (;;) {
    const std::vector<Event> batch = feed.read(store, limit);
    if (batch.empty()) return out;
    for (const Event& e : batch) {
      EXPECT_TRUE(seen.insert({e.seq, e.run_id}).second)
          << "delivered twice: seq " << e.seq << " of run " << e.run_id;
      out.push_back(e);
    }
  }
}

std::size_t count_of(const std::vector<Event>& events, const std::string& run) {
  std::size_t n = 0;
  for (const Event& e : events) n += e.run_id == run ? 1 : 0;
  return n;
}

std::size_t stored_count(Store& store, const std::string& run) {
  EventQuery query;
  query.run_id = run;
  return store.events(query).size();
}

TEST_P(StoreConformanceTest, EventFeedDeliversEveryEventOnceOldestFirst) {
  // Given a feed from before two runs' events
  EventFeed feed(store().last_event_seq());
  Delivered seen;
  const Run one = create_started_run(2, 2);
  const Run two = create_started_run(3, 1);
  // When it is read in batches of two, and again once all is read
  const std::vector<Event> got = drain(feed, store(), seen, 2);
  // Then it got each event of both runs once, oldest first
  EXPECT_EQ(count_of(got, one.id), stored_count(store(), one.id));
  EXPECT_EQ(count_of(got, two.id), stored_count(store(), two.id));
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_LT(got[i - 1].seq, got[i].seq);
  }
  EXPECT_EQ(feed.seq(), got.back().seq);
  EXPECT_TRUE(feed.read(store()).empty());
}

TEST_P(StoreConformanceTest, EventFeedStartsAfterItsSeq) {
  // Given a run created before the feed
  const Run before = create_started_run(1, 1);
  EventFeed feed(store().last_event_seq());
  // When another run is created and the feed is read
  Delivered seen;
  const Run after = create_started_run(1, 1);
  const std::vector<Event> got = drain(feed, store(), seen);
  // Then only the new run's events come
  EXPECT_EQ(count_of(got, before.id), 0U);
  EXPECT_EQ(count_of(got, after.id), stored_count(store(), after.id));
}

TEST_P(StoreConformanceTest,
       EventFeedGetsWhatAnotherWriterCommitsBetweenItsReads) {
  if (!GetParam().reopen) GTEST_SKIP() << "a store no other writer can open";
  // Given two writers on one store and a feed read between their commits
  std::unique_ptr<Store> other = GetParam().reopen(scratch_.path());
  EventFeed feed(store().last_event_seq());
  Delivered seen;
  const Run mine = sample_run(2);
  const Run theirs = sample_run(2);
  store().create_run(mine);
  other->create_run(theirs);
  std::vector<Event> got = drain(feed, *other, seen);
  // When both commit more, interleaved, and the feed is read from either
  store().queue_steps(mine.id, {0});
  other->queue_steps(theirs.id, {0});
  store().transition_step(mine.id, start(0));
  std::vector<Event> more = drain(feed, store(), seen);
  other->transition_step(theirs.id, start(0));
  store().transition_step(mine.id, completion(0));
  const std::vector<Event> last = drain(feed, *other, seen);
  got.insert(got.end(), more.begin(), more.end());
  got.insert(got.end(), last.begin(), last.end());
  // Then every event of both came, once (drain checks once)
  EXPECT_EQ(count_of(got, mine.id), stored_count(store(), mine.id));
  EXPECT_EQ(count_of(got, theirs.id), stored_count(store(), theirs.id));
  EXPECT_EQ(count_of(got, mine.id), 4U);
  EXPECT_EQ(count_of(got, theirs.id), 3U);
}

}  // namespace
}  // namespace isoqube::testing
