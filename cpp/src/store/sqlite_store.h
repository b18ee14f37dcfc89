// The embedded default store (URI "sqlite:///path/file.db"): one SQLite
// file in WAL mode, shareable by several processes. See sqlite_schema.h for
// the tables.
//
// Runs are kept parsed in memory between calls (SqliteStoreOptions::
// run_cache_size) and used only while no other connection has written to
// the file since; the file stays the single source of truth.
//
// Thread-safety: one connection, every call serialized by one mutex;
// writes made at the same time by several threads share one transaction
// (see write()). A thread of the store copies the write-ahead log back into
// the file (SqliteCheckpointer). Other processes (and other SqliteStore
// objects) may open the same file: readers never wait, writers wait for
// each other up to the busy timeout. A store must not be used in a child
// process after fork(): open a new one there.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uri.h"
#include "isoqube/store.h"
#include "store/sqlite_checkpointer.h"
#include "store/sqlite_connection.h"
#include "store/sqlite_run_cache.h"
#include "store/store_rules.h"

namespace isoqube::detail {

// The path SQLite reads as a private in-memory database.
inline constexpr char kSqliteMemoryPath[] = ":memory:";

struct SqliteStoreOptions {
  std::string path;  // the file; ":memory:" for a private in-memory database
  // false: synchronous=NORMAL (the default), true: synchronous=FULL
  // (URI option ?synchronous=full).
  bool synchronous_full = false;
  // How long a writer waits for another process's write to finish before
  // failing with StoreError (URI option ?busy_timeout_ms=).
  std::chrono::milliseconds busy_timeout{5000};
  // How many runs are kept parsed in memory between calls, so that a
  // transition need not read its run back (at least 1).
  std::size_t run_cache_size = 2048;
};

// Reads the options of a "sqlite://" URI: "sqlite:///abs/path.db",
// "sqlite://relative/path.db", "sqlite:///:memory:". Throws
// ConfigurationError naming the URI and the problem.
SqliteStoreOptions sqlite_store_options(const Uri& uri);

class SqliteStore final : public Store {
 public:
  // Opens or creates the file and its tables. Throws StoreError naming the
  // path when the folder does not exist or SQLite cannot open the file.
  explicit SqliteStore(SqliteStoreOptions options);

  void save_configuration(const Configuration& config) override;
  std::optional<Configuration> find_configuration(
      std::string_view id_or_name) override;
  std::vector<Configuration> list_configurations() override;

  std::vector<Event> create_run(const Run& run) override;
  std::optional<Run> find_run(std::string_view id) override;
  std::vector<Run> list_runs(const RunQuery& query) override;
  std::size_t count_runs() override;

  std::optional<AppliedStep> transition_step(std::string_view run_id,
                                             const StepTransition& t) override;
  QueuedSteps queue_steps(std::string_view run_id,
                          const std::vector<int>& steps) override;
  std::vector<Event> transition_run(std::string_view run_id,
                                    const RunTransition& t) override;

  std::vector<Event> events(const EventQuery& query) override;
  int64_t last_event_seq() override;
  // One read or write per SQLite transaction that a call ran in: writes
  // made together by several threads share one; a call tried again after
  // another connection's write takes two.
  StoreStats stats() const override;

  void save_topics(const std::vector<Topic>& topics) override;
  std::vector<Topic> list_topics() override;

  const std::string& path() const { return options_.path; }

  // Write calls (those that may change the file, failed ones included)
  // and the transactions that ran them: concurrent writes share one.
  struct WriteStats {
    uint64_t writes = 0;
    uint64_t transactions = 0;
  };
  WriteStats write_stats();
  // Writes waiting for the transaction under way to end.
  std::size_t queued_writes();
  // The log checkpoints taken off the writers' path (nullptr for
  // ":memory:").
  const SqliteCheckpointer* checkpointer() const {
    return checkpointer_ ? &*checkpointer_ : nullptr;
  }

 private:
  // Thrown by a body that finds a cached run disagreeing with the file;
  // the transaction is rolled back and run once more on runs read afresh.
  struct StaleCache {};

  // One caller's write, for the group commit in write().
  struct WriteRequest {
    const char* operation;
    const std::function<void()>* body;
    std::exception_ptr error;  // set when it failed
    bool done = false;         // guarded by queue_mutex_
  };

  // Runs `body` in a write transaction (which it may share with other
  // threads' writes, each rolled back alone on failure) and returns once
  // it is committed. Turns SQLite failures into StoreError naming
  // `operation` and the file. When `body` throws, its changes are rolled
  // back and every cached run is forgotten. A body may run twice (see
  // StaleCache), so it starts by resetting what it returns.
  void write(const char* operation, const std::function<void()>& body);
  // Runs `body` in a read transaction of its own.
  void read(const char* operation, const std::function<void()>& body);
  // Below: require mutex_ held.
  void in_transaction(const char* operation, bool write,
                      const std::function<void()>& body);
  void run_transaction(bool write, const std::function<void()>& body);
  void commit_batch(const std::vector<WriteRequest*>& batch);
  void run_in_savepoint(WriteRequest& request);
  void rollback_locked();
  static bool is_stale_cache(const std::exception_ptr& error);
  std::exception_ptr translate(const char* operation,
                               const std::exception_ptr& error,
                               const std::string& step) const;
  void open_schema();

  // All below require mutex_ held, inside a transaction.
  // Forgets the cached runs when another connection has written.
  void check_cache_locked();
  // The run as the file holds it: the cached one, or read and cached.
  // nullptr when there is no such run.
  Run* run_locked(std::string_view id);
  std::optional<Run> load_run_locked(std::string_view id);
  void load_steps_locked(Run& run);
  bool run_exists_locked(std::string_view id);
  void touch_run_locked(std::string_view run_id, TimePoint time);
  std::optional<AppliedStep> transition_step_locked(std::string_view run_id,
                                                    const StepTransition& t);
  void check_guards_locked(std::string_view run_id, const Run& run,
                           const std::vector<StepGuard>& guards);
  void queue_step_locked(std::string_view run_id, int index);
  void update_run_status_locked(std::string_view run_id, RunStatus from,
                                RunStatus to,
                                const std::optional<std::string>& error,
                                TimePoint time);
  void cancel_unfinished_steps_locked(Run& run, TimePoint time,
                                      const std::string& detail,
                                      std::vector<Event>& events);
  Event append_change_locked(const Run& run, StatusChange change,
                             TimePoint time);
  Event append_event_locked(std::string_view run_id, int step,
                            std::string step_name, std::string_view from,
                            std::string_view to, TimePoint time,
                            std::string detail);

  const SqliteStoreOptions options_;
  // Writes waiting for the next commit, and whether one is under way.
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::vector<WriteRequest*> queued_;
  bool committing_ = false;
  WriteStats stats_;
  // Transactions begun, for stats().
  std::atomic<uint64_t> read_transactions_{0};
  std::atomic<uint64_t> write_transactions_{0};
  // The connection and the cache; never held with queue_mutex_.
  std::mutex mutex_;
  std::optional<Connection> db_;  // set once the constructor succeeds
  // Set for files (not ":memory:"); stopped before db_ closes.
  std::optional<SqliteCheckpointer> checkpointer_;
  RunCache cache_;
  int64_t data_version_ = -1;  // PRAGMA data_version the cache matches
};

}  // namespace isoqube::detail
