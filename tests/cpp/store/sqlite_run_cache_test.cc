// The SQLite store keeps runs parsed between calls. These specifications
// say that nothing it returns ever differs from what a read of the file
// returns: another connection's writes are seen, failed writes leave
// nothing behind, and what it returns is what a fresh read returns.
#include "store/sqlite_run_cache.h"

#include <gmock/gmock.h>

#include <cmath>
#include <limits>

#include "isoqube/errors.h"
#include "store/raw_sqlite.h"
#include "store/sqlite_store.h"
#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::HasSubstr;

class SqliteRunCacheTest : public ::testing::Test {
 protected:
  using Run = isoqube::Run;  // not ::testing::Test::Run

  std::string path() const { return scratch_.path() + "/isoqube.db"; }
  std::unique_ptr<Store> open() const {
    return open_store("sqlite://" + path());
  }
  // A store that keeps at most `runs` runs parsed.
  std::unique_ptr<Store> open_with_cache(std::size_t runs) const {
    detail::SqliteStoreOptions options;
    options.path = path();
    options.run_cache_size = runs;
    return std::make_unique<detail::SqliteStore>(options);
  }

  ScratchFolder scratch_;
};

Run named_run(const std::string& id) {
  Run run = sample_run(1);
  run.id = id;
  return run;
}

TEST(RunCacheTest, DropsTheLeastRecentlyUsedRunBeyondItsCapacity) {
  // Given a cache of two runs, where "a" was used after "b"
  detail::RunCache cache(2);
  cache.put(named_run("a"));
  cache.put(named_run("b"));
  ASSERT_NE(cache.find("a"), nullptr);
  // When a third run is cached
  cache.put(named_run("c"));
  // Then "b" is gone and the others are kept
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(RunCacheTest, PuttingARunAgainReplacesIt) {
  detail::RunCache cache(2);
  cache.put(named_run("a"));
  isoqube::Run changed = named_run("a");
  changed.description = "changed";
  cache.put(changed);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("a")->description, "changed");
  cache.erase("a");
  EXPECT_EQ(cache.find("a"), nullptr);
}

TEST(RunCacheTest, CapacityZeroStillKeepsTheRunInUse) {
  detail::RunCache cache(0);
  const isoqube::Run* kept = cache.put(named_run("a"));
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->id, "a");
}

TEST_F(SqliteRunCacheTest, StepChangedByAnotherConnectionIsReadAfresh) {
  // Given a run whose steps the store has just written (and so cached)
  const auto store = open();
  const Run run = create_started_run_in(*store, 2);
  // When another program fails step 0 behind the store's back
  RawSqlite(path()).exec(
      "UPDATE steps SET status = 'failed', error = 'x' "
      "WHERE idx = 0");
  // Then the store reads the change and applies transitions to it
  const Run found = *store->find_run(run.id);
  EXPECT_EQ(found.steps[0].status, StepStatus::kFailed);
  EXPECT_EQ(found.steps[0].error, "x");
  EXPECT_FALSE(store->transition_step(run.id, completion(0)));
  EXPECT_TRUE(store->transition_step(run.id, completion(1)));
}

TEST_F(SqliteRunCacheTest, TransitionAfterAnotherStoresWriteSeesIt) {
  // Given two stores on one file that have both read the run
  const auto first = open();
  const auto second = open();
  const Run run = create_started_run_in(*first, 1);
  ASSERT_TRUE(second->find_run(run.id).has_value());
  // When the first completes the step
  ASSERT_TRUE(first->transition_step(run.id, completion(0)));
  // Then the second's compare-and-set fails, and it returns the completion
  EXPECT_FALSE(second->transition_step(run.id, completion(0)));
  EXPECT_EQ(second->find_run(run.id)->steps[0].status, StepStatus::kCompleted);
}

TEST_F(SqliteRunCacheTest, GuardOnAStepAnotherStoreCompletedFails) {
  // Given two stores on one file that have both read a run with two
  // running steps
  const auto first = open();
  const auto second = open();
  const Run run = create_started_run_in(*first, 2);
  ASSERT_TRUE(second->find_run(run.id).has_value());
  // When the first completes step 1 and the second then completes step 0
  // relying on step 1 still running
  ASSERT_TRUE(first->transition_step(run.id, completion(1)));
  StepTransition t = completion(0);
  t.guards = {{1, {StepStatus::kRunning}}};
  t.run_to = RunStatus::kCompleted;
  // Then the second's update fails whole
  EXPECT_FALSE(second->transition_step(run.id, t));
  const Run found = *second->find_run(run.id);
  EXPECT_EQ(found.steps[0].status, StepStatus::kRunning);
  EXPECT_EQ(found.status, RunStatus::kRunning);
}

TEST_F(SqliteRunCacheTest, UpdateFailingAtItsLastPartLeavesNoPartBehind) {
  // Given a run of three steps, the first running, and a file that
  // refuses the run's own events
  const auto store = open();
  const Run run = create_started_run_in(*store, 3, 1);
  RawSqlite(path()).exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.step = -1 "
      "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END");
  // When one update completes step 0, queues the others and fails the run
  StepTransition t = completion(0);
  t.queue = {1, 2};
  t.run_to = RunStatus::kFailed;
  t.run_error = "x";
  EXPECT_THROW(store->transition_step(run.id, t), StoreError);
  // Then nothing of it is in the file or in what the store returns
  const Run found = *store->find_run(run.id);
  EXPECT_EQ(to_json(found), to_json(*open()->find_run(run.id)));
  EXPECT_EQ(found.status, RunStatus::kRunning);
  EXPECT_EQ(found.steps[0].status, StepStatus::kRunning);
  EXPECT_EQ(found.steps[1].status, StepStatus::kPending);
  EXPECT_EQ(RawSqlite(path()).text("SELECT COUNT(*) FROM events WHERE "
                                   "step > 0 OR to_status = 'completed'"),
            "0");
}

TEST_F(SqliteRunCacheTest, ReturnedRunIsWhatAFreshReadReturns) {
  // Given a completion whose output JSON text cannot hold as given: NaN,
  // and integers that a read returns as unsigned
  const auto store = open();
  const Run run = create_started_run_in(*store, 1);
  StepTransition t = completion(0);
  t.output = Json{{"nan", std::numeric_limits<double>::quiet_NaN()},
                  {"count", 3},
                  {"ratio", 0.1}};
  // When the store applies it
  const Run returned = store->transition_step(run.id, t)->run;
  // Then the run it returns, and then finds, is what another store reads
  const Run fresh = *open()->find_run(run.id);
  for (const Run& seen : {returned, *store->find_run(run.id)}) {
    EXPECT_EQ(to_json(seen), to_json(fresh));
    const Json& output = seen.steps[0].output;
    EXPECT_TRUE(output["nan"].is_null());
    EXPECT_EQ(output["count"].type(), fresh.steps[0].output["count"].type());
    EXPECT_EQ(output["ratio"], 0.1);
  }
}

TEST_F(SqliteRunCacheTest, FailedWriteLeavesNoChangeBehind) {
  // Given a run with two pending steps, and a file that refuses the event
  // of the second step's queueing
  const auto store = open();
  Run run = sample_run(2);
  store->create_run(run);
  ASSERT_TRUE(store->find_run(run.id).has_value());
  RawSqlite(path()).exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.step = 1 "
      "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END");
  // When both steps are queued in one call, which fails after the first
  try {
    store->queue_steps(run.id, {0, 1});
    FAIL() << "queued steps although the file refused an event";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("refused by trigger"));
  }
  // Then neither step is queued, in the file or in what the store returns
  const Run found = *store->find_run(run.id);
  EXPECT_EQ(found.steps[0].status, StepStatus::kPending);
  EXPECT_EQ(found.steps[1].status, StepStatus::kPending);
  EXPECT_EQ(RawSqlite(path()).text("SELECT status FROM steps WHERE idx = 0"),
            "pending");
  EXPECT_EQ(store->queue_steps(run.id, {0}).steps, std::vector<int>{0});
}

TEST_F(SqliteRunCacheTest, RunsBeyondTheCacheAreReadFromTheFile) {
  // Given a store that keeps one run parsed, and three runs in it
  const auto store = open_with_cache(1);
  std::vector<Run> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(create_started_run_in(*store, 2));
  // When their steps are completed in turn, run after run
  for (int step = 0; step < 2; ++step) {
    for (const Run& run : runs) {
      ASSERT_TRUE(store->transition_step(run.id, completion(step)));
    }
  }
  // Then every completion counted once, and all are seen
  for (const Run& run : runs) {
    EXPECT_FALSE(store->transition_step(run.id, completion(0)));
    const Run found = *store->find_run(run.id);
    EXPECT_EQ(to_json(found), to_json(*open()->find_run(run.id)));
    for (const Step& step : found.steps) {
      EXPECT_EQ(step.status, StepStatus::kCompleted);
    }
  }
}

TEST_F(SqliteRunCacheTest, CancellingARunChangesWhatIsReturnedAfterwards) {
  const auto store = open();
  const Run run = create_started_run_in(*store, 3, 1);
  RunTransition cancel;
  cancel.from = {RunStatus::kRunning};
  cancel.to = RunStatus::kCancelled;
  cancel.error = "stopped";
  cancel.cancel_unfinished_steps = true;
  ASSERT_FALSE(store->transition_run(run.id, cancel).empty());
  const Run found = *store->find_run(run.id);
  EXPECT_EQ(to_json(found), to_json(*open()->find_run(run.id)));
  EXPECT_EQ(found.status, RunStatus::kCancelled);
  EXPECT_EQ(found.error, "stopped");
  EXPECT_EQ(found.steps[2].status, StepStatus::kCancelled);
  EXPECT_FALSE(store->transition_step(run.id, completion(0)));
}

}  // namespace
}  // namespace isoqube::testing
