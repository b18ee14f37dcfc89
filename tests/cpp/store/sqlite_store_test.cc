// What the SQLite store promises beyond the conformance suite: a real file
// in WAL mode, shared by several connections and processes.
#include <gmock/gmock.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "isoqube/errors.h"
#include "store/raw_sqlite.h"
#include "store/store_conformance.h"
#include "support/wait.h"

namespace isoqube::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class SqliteStoreTest : public ::testing::Test {
 protected:
  using Run = isoqube::Run;  // not ::testing::Test::Run

  std::string path() const { return scratch_.path() + "/isoqube.db"; }
  std::unique_ptr<Store> open(const std::string& options = "") const {
    return open_store("sqlite://" + path() + options);
  }

  ScratchFolder scratch_;
};

// Completes (running -> completed) every step of the run that it can, in
// order; returns how many this caller won. Each completion's detail names
// `who`.
int complete_all(Store& store, const std::string& run_id, int steps,
                 const std::string& who) {
  int wins = 0;
  for (int step = 0; step < steps; ++step) {
    StepTransition t = completion(step);
    t.detail = who;
    if (store.transition_step(run_id, t)) ++wins;
  }
  return wins;
}

// A child process that opens its own store on the file, says it is
// ready, waits for the start, completes every step it can, and reports
// how many it won. No gtest code runs in the child.
class RacingChild {
 public:
  RacingChild(const std::string& path, const std::string& run_id, int steps) {
    int to_parent[2];
    int to_child[2];
    if (pipe(to_parent) != 0 || pipe(to_child) != 0) {
      throw std::runtime_error("pipe() failed");
    }
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork() failed");
    if (pid_ == 0) {
      close(to_parent[0]);
      close(to_child[1]);
      _exit(race(path, run_id, steps, to_parent[1], to_child[0]));
    }
    close(to_parent[1]);
    close(to_child[0]);
    from_child_ = to_parent[0];
    to_child_ = to_child[1];
  }
  ~RacingChild() {
    close(to_child_);  // a child still waiting for the start gives up
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    close(from_child_);
  }
  RacingChild(const RacingChild&) = delete;
  RacingChild& operator=(const RacingChild&) = delete;

  bool wait_ready() {
    char byte = 0;
    return read(from_child_, &byte, 1) == 1;
  }
  void start() {
    const char byte = 1;
    if (write(to_child_, &byte, 1) != 1) ADD_FAILURE() << "cannot start";
  }
  // Waits for the child to finish; -1 when it failed.
  int wins() {
    int wins = -1;
    if (read(from_child_, &wins, sizeof wins) != sizeof wins) wins = -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return ok ? wins : -1;
  }

 private:
  static int race(const std::string& path, const std::string& run_id, int steps,
                  int to_parent, int from_parent) {
    try {
      const auto store = open_store("sqlite://" + path);
      char byte = 1;
      if (write(to_parent, &byte, 1) != 1) return 1;
      if (read(from_parent, &byte, 1) != 1) return 1;
      const int wins = complete_all(*store, run_id, steps, "child");
      return write(to_parent, &wins, sizeof wins) == sizeof wins ? 0 : 1;
    } catch (...) {
      return 1;
    }
  }

  pid_t pid_ = 0;
  int from_child_ = -1;
  int to_child_ = -1;
};

TEST_F(SqliteStoreTest, FileIsInWalMode) {
  const auto store = open();
  EXPECT_EQ(RawSqlite(path()).text("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, TimesAndStatusesAreStoredReadably) {
  const auto store = open();
  const Run run = sample_run(1);
  store->create_run(run);

  RawSqlite raw(path());
  const std::string where = " WHERE id = '" + run.id + "'";
  EXPECT_EQ(raw.text("SELECT created_on FROM runs" + where),
            std::to_string(to_micros(sample_time())));
  EXPECT_EQ(raw.text("SELECT status FROM runs" + where), "running");
  EXPECT_EQ(
      raw.text("SELECT json_extract(payload, '$.branch') FROM runs" + where),
      "main");
  EXPECT_EQ(raw.text("PRAGMA user_version"), "1");
}

TEST_F(SqliteStoreTest, SecondStoreOnTheSameFileSeesCommittedWrites) {
  // Given two stores on one file, as two processes would have
  const auto first = open();
  const auto second = open();
  const Run run = create_started_run_in(*first);
  first->save_configuration(sample_configuration("nightly"));
  // When the second completes a step
  ASSERT_TRUE(second->transition_step(run.id, completion(0)));
  // Then each sees what the other committed
  ASSERT_TRUE(second->find_run(run.id).has_value());
  EXPECT_TRUE(second->find_configuration("nightly").has_value());
  EXPECT_EQ(first->find_run(run.id)->steps[0].status, StepStatus::kCompleted);
  EXPECT_FALSE(first->transition_step(run.id, completion(0)));
  EXPECT_EQ(first->events({}).size(), second->events({}).size());
}

TEST_F(SqliteStoreTest, DataSurvivesClosingAndReopening) {
  // Given a store that is written and closed
  Run run = sample_run(2);
  Json before;
  int64_t last_seq = 0;
  {
    const auto store = open();
    store->save_configuration(sample_configuration("nightly"));
    store->save_topics({Topic{"Ingest", "Ingestion", "ingest", "Ns", Json()}});
    store->create_run(run);
    store->queue_steps(run.id, {0});
    before = to_json(*store->find_run(run.id));
    last_seq = store->events({}).back().seq;
  }
  // When it is opened again
  const auto store = open();
  // Then everything is there, and the event log continues
  EXPECT_EQ(to_json(*store->find_run(run.id)), before);
  EXPECT_TRUE(store->find_configuration("nightly").has_value());
  EXPECT_EQ(store->list_topics().size(), 1u);
  EXPECT_EQ(store->events({}).size(), 2u);
  store->queue_steps(run.id, {1});
  EXPECT_GT(store->events({}).back().seq, last_seq);
}

TEST_F(SqliteStoreTest, MissingFolderIsAStoreErrorNamingIt) {
  const std::string folder = scratch_.path() + "/no/such/folder";
  try {
    open_store("sqlite://" + folder + "/isoqube.db");
    FAIL() << "opened a store in a folder that does not exist";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr(folder));
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
  }
}

TEST_F(SqliteStoreTest, PathThatIsAFolderIsAStoreErrorNamingIt) {
  try {
    open_store("sqlite://" + scratch_.path());
    FAIL() << "opened a folder as a store";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr(scratch_.path()));
  }
}

TEST_F(SqliteStoreTest, FileFromANewerIsoqubeIsRefused) {
  RawSqlite(path()).exec("PRAGMA user_version = 99");
  try {
    open();
    FAIL() << "opened a file with schema version 99";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("schema version 99"));
    EXPECT_THAT(e.what(), HasSubstr(path()));
  }
}

TEST_F(SqliteStoreTest, UnreadableStoredJsonIsAStoreErrorNamingTheColumn) {
  const auto store = open();
  const Run run = sample_run(1);
  store->create_run(run);
  RawSqlite(path()).exec("UPDATE runs SET payload = '{oops'");
  try {
    store->find_run(run.id);
    FAIL() << "read a run with broken JSON";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("payload"));
    EXPECT_THAT(e.what(), HasSubstr(run.id));
  }
}

TEST_F(SqliteStoreTest, PayloadThatIsNotUtf8IsRejectedAndNothingStored) {
  const auto store = open();
  Run run = sample_run(1);
  run.payload["blob"] = std::string("\xff\xfe");
  try {
    store->create_run(run);
    FAIL() << "stored a payload that JSON cannot encode";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("create_run"));
    EXPECT_THAT(e.what(), HasSubstr("UTF-8"));
  }
  EXPECT_EQ(store->count_runs(), 0u);
  EXPECT_TRUE(store->events({}).empty());
}

TEST_F(SqliteStoreTest, ReadersDoNotWaitForAnotherWriter) {
  // Given a store that would fail at once on a held lock
  const auto store = open("?busy_timeout_ms=0");
  const Run run = sample_run(1);
  store->create_run(run);
  // When another connection holds the write lock
  RawSqlite other(path());
  other.exec("BEGIN IMMEDIATE");
  other.exec("UPDATE runs SET description = 'uncommitted'");
  // Then reads still work, and see only committed data
  EXPECT_EQ(store->find_run(run.id)->description, run.description);
  EXPECT_EQ(store->count_runs(), 1u);
  other.exec("ROLLBACK");
}

TEST_F(SqliteStoreTest, WriterWaitsForAnotherWritersLock) {
  // Given another connection holding the write lock
  const auto store = open();
  RawSqlite other(path());
  other.exec("BEGIN IMMEDIATE");
  // When the store writes
  std::atomic<bool> done{false};
  const Run run = sample_run(1);
  std::thread writer([&] {
    store->create_run(run);
    done = true;
  });
  // Then it waits until the lock is released, and then succeeds
  EXPECT_FALSE(wait_until([&] { return done.load(); }, 200ms));
  other.exec("COMMIT");
  EXPECT_TRUE(wait_until([&] { return done.load(); }));
  writer.join();
  EXPECT_TRUE(store->find_run(run.id).has_value());
}

TEST_F(SqliteStoreTest, WriterGivesUpAfterTheBusyTimeout) {
  const auto store = open("?busy_timeout_ms=50");
  RawSqlite other(path());
  other.exec("BEGIN IMMEDIATE");
  try {
    store->create_run(sample_run(1));
    FAIL() << "wrote while another connection held the lock";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("create_run"));
    EXPECT_THAT(e.what(), HasSubstr(path()));
    EXPECT_THAT(e.what(), HasSubstr("busy timeout of 50 ms"));
  }
  other.exec("ROLLBACK");
  EXPECT_EQ(store->count_runs(), 0u);
}

TEST_F(SqliteStoreTest, StoresOnOneFileRacingOnThreadsHaveOneWinnerPerStep) {
  // Given four connections to one file, and 20 running steps
  constexpr int kStores = 4;
  constexpr int kSteps = 20;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kStores; ++i) stores.push_back(open());
  const Run run = create_started_run_in(*stores[0], kSteps);
  // When each completes every step it can, all at once
  std::vector<int> wins(kStores, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] {
      wins[i] = complete_all(*stores[i], run.id, kSteps, std::to_string(i));
    });
  }
  for (std::thread& t : threads) t.join();
  // Then every step was won exactly once
  int total = 0;
  for (int w : wins) total += w;
  EXPECT_EQ(total, kSteps);
  EventQuery query;
  query.run_id = run.id;
  const std::vector<Event> events = stores[0]->events(query);
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const Event& e) { return e.to == "completed"; }),
            kSteps);
}

TEST_F(SqliteStoreTest, ForkedProcessRacesToCompleteTheSameStepsOnePerStep) {
  // Given a run of many running steps. The store is closed before fork():
  // an SQLite connection must not be carried into a child process.
  constexpr int kSteps = 200;
  std::string run_id;
  {
    const auto store = open();
    run_id = create_started_run_in(*store, kSteps).id;
  }
  // When a child process and this one race to complete every step
  RacingChild child(path(), run_id, kSteps);
  const auto store = open();
  ASSERT_TRUE(child.wait_ready()) << "the child failed to open the store";
  child.start();
  const int parent_wins = complete_all(*store, run_id, kSteps, "parent");
  const int child_wins = child.wins();
  // Then each step was completed once, by one of them (the properties show
  // how the wins were shared: both win some when the lock is fair)
  ASSERT_GE(child_wins, 0) << "the child failed";
  RecordProperty("parent_wins", parent_wins);
  RecordProperty("child_wins", child_wins);
  EXPECT_EQ(parent_wins + child_wins, kSteps);
  EventQuery query;
  query.run_id = run_id;
  int by_child = 0;
  int completions = 0;
  for (const Event& e : store->events(query)) {
    if (e.to != "completed") continue;
    ++completions;
    by_child += e.detail == "child";
  }
  EXPECT_EQ(completions, kSteps);
  EXPECT_EQ(by_child, child_wins);
  const Run after = *store->find_run(run_id);
  for (const Step& step : after.steps) {
    EXPECT_EQ(step.status, StepStatus::kCompleted);
  }
}

}  // namespace
}  // namespace isoqube::testing
