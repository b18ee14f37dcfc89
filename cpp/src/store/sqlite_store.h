// The embedded default store (URI "sqlite:///path/file.db"): one SQLite
// file in WAL mode, shareable by several processes. See sqlite_schema.h for
// the tables.
//
// Thread-safety: one connection, every call serialized by one mutex. Other
// processes (and other SqliteStore objects) may open the same file: readers
// never wait, writers wait for each other up to the busy timeout. A store
// must not be used in a child process after fork(): open a new one there.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uri.h"
#include "isoqube/store.h"
#include "store/sqlite_connection.h"

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

  void create_run(const Run& run) override;
  std::optional<Run> find_run(std::string_view id) override;
  std::vector<Run> list_runs(const RunQuery& query) override;
  std::size_t count_runs() override;

  std::optional<Run> transition_step(std::string_view run_id,
                                     const StepTransition& t) override;
  std::vector<int> queue_steps(std::string_view run_id,
                               const std::vector<int>& steps) override;
  bool transition_run(std::string_view run_id,
                      const RunTransition& t) override;

  std::vector<Event> events(const EventQuery& query) override;

  void save_topics(const std::vector<Topic>& topics) override;
  std::vector<Topic> list_topics() override;

  const std::string& path() const { return options_.path; }

 private:
  struct StepState {
    std::string name;
    StepStatus status;
    int attempts;
  };

  // Runs `body` under the mutex in one transaction (BEGIN IMMEDIATE for
  // writes, so the write lock is taken before anything is read), commits,
  // and turns SQLite failures into StoreError naming `operation` and the
  // file. Rolls back when `body` throws.
  void write(const char* operation, const std::function<void()>& body);
  void read(const char* operation, const std::function<void()>& body);
  void in_transaction(const char* operation, const char* begin,
                      const std::function<void()>& body);
  void open_schema();

  // All below require mutex_ held, inside a transaction.
  std::optional<Run> load_run_locked(std::string_view id);
  void load_steps_locked(Run& run);
  std::optional<StepState> step_state_locked(std::string_view run_id,
                                             int step);
  std::vector<StepState> step_states_locked(std::string_view run_id);
  bool run_exists_locked(std::string_view id);
  void touch_run_locked(std::string_view run_id, TimePoint time);
  void cancel_unfinished_steps_locked(std::string_view run_id, TimePoint time,
                                      const std::string& detail,
                                      std::vector<Event>& events);
  Event append_event_locked(std::string_view run_id, int step,
                            std::string step_name, std::string_view from,
                            std::string_view to, TimePoint time,
                            std::string detail);

  const SqliteStoreOptions options_;
  std::mutex mutex_;
  std::optional<Connection> db_;  // set once the constructor succeeds
};

}  // namespace isoqube::detail
