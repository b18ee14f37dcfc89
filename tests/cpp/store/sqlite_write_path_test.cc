// How the SQLite store writes: concurrent writes share one transaction
// without sharing their failures, and the write-ahead log is copied back
// into the database file off the writers' path, without growing without
// bound.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include <atomic>
#include <exception>
#include <functional>
#include <thread>

#include "isoqube/errors.h"
#include "store/raw_sqlite.h"
#include "store/sqlite_store.h"
#include "store/store_conformance.h"
#include "support/wait.h"

namespace isoqube::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A write run on a thread of its own, keeping what it threw.
class Writer {
 public:
  explicit Writer(std::function<void()> write)
      : thread_([this, write = std::move(write)] {
          try {
            write();
          } catch (...) {
            error_ = std::current_exception();
          }
          done_ = true;
        }) {}
  ~Writer() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }
  // Waits for the write; rethrows what it threw.
  void join() {
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

class SqliteWritePathTest : public ::testing::Test {
 protected:
  using Run = isoqube::Run;  // not ::testing::Test::Run

  void SetUp() override {
    detail::SqliteStoreOptions options;
    options.path = path();
    store_ = std::make_unique<detail::SqliteStore>(options);
  }
  std::string path() const { return scratch_.path() + "/isoqube.db"; }
  long long wal_bytes() const {
    struct stat info {};
    return stat((path() + "-wal").c_str(), &info) == 0 ? info.st_size : 0;
  }

  ScratchFolder scratch_;
  std::unique_ptr<detail::SqliteStore> store_;
};

TEST_F(SqliteWritePathTest, FailedWriteInASharedTransactionFailsAlone) {
  // Given a run, a trigger that refuses queueing its step 1, and another
  // program holding the write lock while a first write waits for it
  const Run existing = sample_run(2);
  store_->create_run(existing);
  const Run other = create_started_run_in(*store_, 1);
  RawSqlite raw(path());
  raw.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.step = 1 "
      "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END");
  raw.exec("BEGIN IMMEDIATE");
  const Run first = sample_run(1);
  Writer leader([&] { store_->create_run(first); });
  ASSERT_TRUE(wait_until([&] { return store_->write_stats().writes == 5; }));
  // When three more writes queue behind it: one the trigger refuses, one
  // a duplicate run, one that is fine
  Writer refused([&] { store_->queue_steps(existing.id, {0, 1}); });
  Writer duplicate([&] { store_->create_run(existing); });
  Writer fine([&] { store_->transition_step(other.id, completion(0)); });
  ASSERT_TRUE(wait_until([&] { return store_->queued_writes() == 3; }));
  raw.exec("COMMIT");
  // Then the three share one transaction, and only the bad ones fail
  leader.join();
  try {
    refused.join();
    FAIL() << "queued a step whose event the file refused";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("queue_steps"));
    EXPECT_THAT(e.what(), HasSubstr("refused by trigger"));
  }
  EXPECT_THROW(duplicate.join(), ConfigurationError);
  fine.join();
  EXPECT_EQ(store_->write_stats().writes, 8u);
  EXPECT_EQ(store_->write_stats().transactions, 6u);
  // And the file and what the store returns agree on what was kept
  EXPECT_TRUE(store_->find_run(first.id).has_value());
  EXPECT_EQ(store_->find_run(other.id)->steps[0].status,
            StepStatus::kCompleted);
  const Run kept = *store_->find_run(existing.id);
  EXPECT_EQ(kept.steps[0].status, StepStatus::kPending);
  EXPECT_EQ(to_json(kept),
            to_json(*open_store("sqlite://" + path())->find_run(existing.id)));
}

TEST_F(SqliteWritePathTest, WritesQueuedTogetherAreCommittedTogether) {
  // Given a write waiting for another program's write lock
  const Run run = sample_run(4);
  store_->create_run(run);
  RawSqlite raw(path());
  raw.exec("BEGIN IMMEDIATE");
  Writer leader([&] { store_->queue_steps(run.id, {0}); });
  ASSERT_TRUE(wait_until([&] { return store_->write_stats().writes == 2; }));
  // When three more writes queue behind it
  std::vector<std::unique_ptr<Writer>> writers;
  for (int step = 1; step < 4; ++step) {
    writers.push_back(std::make_unique<Writer>(
        [&, step] { store_->queue_steps(run.id, {step}); }));
  }
  ASSERT_TRUE(wait_until([&] { return store_->queued_writes() == 3; }));
  raw.exec("COMMIT");
  leader.join();
  for (auto& writer : writers) writer->join();
  // Then the three took one transaction, and each step was queued once
  EXPECT_EQ(store_->write_stats().transactions, 3u);
  EXPECT_EQ(store_->stats().writes, 3u) << "round trips are transactions";
  EventQuery query;
  query.run_id = run.id;
  EXPECT_EQ(store_->events(query).size(), 5u);  // created + 4 queued
  const Run queued = *store_->find_run(run.id);
  for (const Step& step : queued.steps) {
    EXPECT_EQ(step.status, StepStatus::kQueued);
  }
}

TEST_F(SqliteWritePathTest, LogIsCopiedBackAndStartedAgainUnderLoad) {
  // Given steady writes, enough to fill the log several times over
  const detail::SqliteCheckpointer* checkpointer = store_->checkpointer();
  ASSERT_NE(checkpointer, nullptr);
  long long largest = 0;
  for (int i = 0; i < 300 && checkpointer->catch_ups() < 2; ++i) {
    const Run run = create_started_run_in(*store_, 10);
    for (int step = 0; step < 10; ++step) {
      ASSERT_TRUE(store_->transition_step(run.id, completion(step)));
    }
    largest = std::max(largest, wal_bytes());
  }
  // Then the checkpointer copied it back, and the log was started again
  // instead of growing: it never held much more than the catch-up size
  // (on a machine too busy to run the checkpointer's thread in time, the
  // committing thread's backstop copy keeps it under the bound)
  EXPECT_GT(checkpointer->passes(), 0);
  EXPECT_GE(checkpointer->catch_ups(), 1);
  const long long page = 4096 + 24;  // a page and its frame header
  EXPECT_LT(largest, page * 2 * detail::SqliteCheckpointer::kCatchUpFrames);
}

TEST_F(SqliteWritePathTest, ReaderHoldingAnOldSnapshotDoesNotStallWriters) {
  // Given another program reading from a snapshot it keeps open, so that
  // the log cannot be copied back past it
  store_->create_run(sample_run(1));
  RawSqlite reader(path());
  reader.exec("BEGIN");
  ASSERT_EQ(reader.text("SELECT COUNT(*) FROM runs"), "1");
  // When writes fill the log well past the catch-up size
  const detail::SqliteCheckpointer& checkpointer = *store_->checkpointer();
  const long long page = 4096 + 24;
  while (wal_bytes() < page * 2 * detail::SqliteCheckpointer::kCatchUpFrames) {
    const Run run = create_started_run_in(*store_, 10);
    for (int step = 0; step < 10; ++step) {
      ASSERT_TRUE(store_->transition_step(run.id, completion(step)));
    }
  }
  // Then the checkpointer tried again only now and then, not at every
  // commit, and the reader still sees its snapshot
  const uint64_t commits = store_->write_stats().transactions;
  // (woken at the first 1,000 pages; on a busy machine its thread may not
  // have finished that pass yet when the writes are done)
  EXPECT_TRUE(wait_until([&] { return checkpointer.passes() > 0; }));
  EXPECT_LT(static_cast<uint64_t>(checkpointer.passes()), commits / 50);
  EXPECT_EQ(reader.text("SELECT COUNT(*) FROM runs"), "1");
  reader.exec("COMMIT");
}

TEST_F(SqliteWritePathTest, EverythingWrittenIsReadBackAfterCheckpoints) {
  std::vector<std::string> ids;
  while (store_->checkpointer()->passes() < 3 && ids.size() < 3000) {
    ids.push_back(create_started_run_in(*store_, 3).id);
  }
  ASSERT_GE(store_->checkpointer()->passes(), 3);
  store_.reset();
  const auto reopened = open_store("sqlite://" + path());
  EXPECT_EQ(reopened->count_runs(), ids.size());
  for (const std::string& id : ids) {
    ASSERT_EQ(reopened->find_run(id)->steps[2].status, StepStatus::kRunning);
  }
  EXPECT_EQ(RawSqlite(path()).text("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace isoqube::testing
