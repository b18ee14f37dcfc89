#include "store/sqlite_store.h"

#include <cstdint>
#include <filesystem>
#include <limits>
#include <utility>

#include "isoqube/errors.h"
#include "store/sqlite_codec.h"
#include "store/sqlite_schema.h"
#include "store/store_rules.h"

namespace isoqube::detail {
namespace {

// SQLite reads a negative LIMIT as "no limit".
int64_t sql_count(std::size_t n) {
  constexpr auto kMax =
      static_cast<std::size_t>(std::numeric_limits<int64_t>::max());
  return n > kMax ? -1 : static_cast<int64_t>(n);
}

}  // namespace

SqliteStore::SqliteStore(SqliteStoreOptions options)
    : options_(std::move(options)), cache_(options_.run_cache_size) {
  const std::string& path = options_.path;
  if (path != kSqliteMemoryPath) {
    const std::filesystem::path folder =
        std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!folder.empty() && !std::filesystem::is_directory(folder, error)) {
      const bool exists = std::filesystem::exists(folder, error);
      throw StoreError("cannot open SQLite store '" + path + "': '" +
                       folder.string() +
                       (exists ? "' is not a folder" : "' does not exist"));
    }
  }
  try {
    db_.emplace(path);
  } catch (const SqliteFailure& e) {
    throw StoreError("cannot open SQLite store '" + path + "': " + e.what());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  open_schema();
  if (path == kSqliteMemoryPath) return;
  try {
    checkpointer_.emplace(path, *db_, mutex_);
  } catch (const SqliteFailure& e) {
    throw StoreError("cannot open SQLite store '" + path + "': " + e.what());
  }
}

void SqliteStore::open_schema() {
  // Writers in other processes wait this long for the write lock instead of
  // failing at once with "database is locked".
  db_->set_busy_timeout(options_.busy_timeout);
  try {
    // WAL lets readers in other processes (CLI, controlcenter) read while
    // one process writes, and makes each commit one append to the log.
    const std::string mode = db_->query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal" && options_.path != kSqliteMemoryPath) {
      throw StoreError("SQLite store '" + options_.path +
                       "': cannot use WAL mode (journal_mode stays '" + mode +
                       "'); WAL needs a local file system");
    }
    // NORMAL in WAL mode syncs at checkpoints, not at every commit: a
    // committed transaction survives a crash of the process (it is in the
    // OS's page cache), and only a power loss or OS crash may lose the last
    // few commits, never corrupt the file. Runs that must survive power
    // loss ask for ?synchronous=full, which syncs the log at every commit.
    // https://www.sqlite.org/pragma.html#pragma_synchronous
    db_->exec(options_.synchronous_full ? "PRAGMA synchronous = FULL"
                                        : "PRAGMA synchronous = NORMAL");
    db_->exec("PRAGMA foreign_keys = ON");
  } catch (const SqliteFailure& e) {
    throw StoreError("cannot open SQLite store '" + options_.path +
                     "': " + e.what());
  }
  in_transaction("open", true, [this] {
    const int64_t version = db_->query_integer("PRAGMA user_version");
    if (version > kSqliteSchemaVersion) {
      throw StoreError("SQLite store '" + options_.path +
                       "' has schema version " + std::to_string(version) +
                       ", written by a newer Isoqube (this one reads up to " +
                       std::to_string(kSqliteSchemaVersion) + ")");
    }
    if (version == kSqliteSchemaVersion) return;
    db_->exec(kSqliteSchema);
    db_->exec(("PRAGMA user_version = " + std::to_string(kSqliteSchemaVersion))
                  .c_str());
  });
  // stats() counts the transactions of calls, not the store's own.
  write_transactions_ = 0;
}

void SqliteStore::save_configuration(const Configuration& config) {
  check_configuration_id(config);
  write("save_configuration", [&] {
    {
      StatementUse other = db_->prepare(kSelectOtherConfigurationNamed);
      other->bind(1, config.name);
      other->bind(2, config.id);
      if (other->step()) {
        throw_duplicate_configuration_name(config.name, other->text(0));
      }
    }
    StatementUse upsert = db_->prepare(kUpsertConfiguration);
    upsert->bind(1, config.id);
    upsert->bind(2, config.name);
    upsert->bind(3, config.description);
    upsert->bind(4, to_json(config).dump());
    upsert->run();
  });
}

std::optional<Configuration> SqliteStore::find_configuration(
    std::string_view id_or_name) {
  std::optional<Configuration> config;
  read("find_configuration", [&] {
    StatementUse select = db_->prepare(kSelectConfiguration);
    select->bind(1, id_or_name);
    if (select->step()) config = read_configuration_row(*select);
  });
  return config;
}

std::vector<Configuration> SqliteStore::list_configurations() {
  std::vector<Configuration> configs;
  read("list_configurations", [&] {
    StatementUse select = db_->prepare(kSelectConfigurations);
    while (select->step()) configs.push_back(read_configuration_row(*select));
  });
  return configs;
}

std::vector<Event> SqliteStore::create_run(const Run& run) {
  check_run_id(run);
  Event event;
  write("create_run", [&] {
    if (run_exists_locked(run.id)) throw_duplicate_run(run.id);
    {
      StatementUse insert = db_->prepare(kInsertRun);
      bind_run_row(*insert, run);
      insert->run();
    }
    for (std::size_t i = 0; i < run.steps.size(); ++i) {
      StatementUse insert = db_->prepare(kInsertStep);
      bind_step_row(*insert, run.id, static_cast<int>(i), run.steps[i]);
      insert->run();
    }
    event = append_event_locked(run.id, -1, std::string(), "",
                                to_string(run.status), now(), std::string());
  });
  return {std::move(event)};
}

std::optional<Run> SqliteStore::find_run(std::string_view id) {
  std::optional<Run> run;
  read("find_run", [&] {
    run.reset();
    if (const Run* found = run_locked(id)) run = *found;
  });
  return run;
}

std::vector<Run> SqliteStore::list_runs(const RunQuery& query) {
  std::vector<Run> runs;
  read("list_runs", [&] {
    {
      StatementUse select = db_->prepare(kSelectRunsPage);
      if (query.status) {
        select->bind(1, to_string(*query.status));
      } else {
        select->bind_null(1);
      }
      if (query.configuration.empty()) {
        select->bind_null(2);
      } else {
        select->bind(2, query.configuration);
      }
      select->bind(3, sql_count(query.limit));
      select->bind(4, sql_count(query.offset));
      while (select->step()) runs.push_back(read_run_row(*select));
    }
    for (Run& run : runs) load_steps_locked(run);
  });
  return runs;
}

std::size_t SqliteStore::count_runs() {
  int64_t count = 0;
  read("count_runs", [&] { count = db_->query_integer(kCountRuns); });
  return static_cast<std::size_t>(count);
}

std::vector<Event> SqliteStore::events(const EventQuery& query) {
  std::vector<Event> events;
  read("events", [&] {
    events.clear();
    const bool one_run = !query.run_id.empty();
    StatementUse select =
        one_run ? db_->prepare(kSelectRunEvents) : db_->prepare(kSelectEvents);
    select->bind(1, query.after_seq);
    select->bind(2, sql_count(query.limit));
    if (one_run) select->bind(3, query.run_id);
    while (select->step()) events.push_back(read_event_row(*select));
  });
  return events;
}

int64_t SqliteStore::last_event_seq() {
  int64_t seq = 0;
  read("last_event_seq", [&] { seq = db_->query_integer(kLastEventSeq); });
  return seq;
}

void SqliteStore::save_topics(const std::vector<Topic>& topics) {
  write("save_topics", [&] {
    for (const Topic& topic : topics) {
      StatementUse upsert = db_->prepare(kUpsertTopic);
      bind_topic_row(*upsert, topic);
      upsert->run();
    }
  });
}

std::vector<Topic> SqliteStore::list_topics() {
  std::vector<Topic> topics;
  read("list_topics", [&] {
    StatementUse select = db_->prepare(kSelectTopics);
    while (select->step()) topics.push_back(read_topic_row(*select));
  });
  return topics;
}

Run* SqliteStore::run_locked(std::string_view id) {
  if (Run* cached = cache_.find(id)) return cached;
  std::optional<Run> loaded = load_run_locked(id);
  if (!loaded) return nullptr;
  return cache_.put(std::move(*loaded));
}

std::optional<Run> SqliteStore::load_run_locked(std::string_view id) {
  std::optional<Run> run;
  {
    StatementUse select = db_->prepare(kSelectRun);
    select->bind(1, id);
    if (!select->step()) return run;
    run = read_run_row(*select);
  }
  load_steps_locked(*run);
  return run;
}

void SqliteStore::load_steps_locked(Run& run) {
  StatementUse select = db_->prepare(kSelectSteps);
  select->bind(1, run.id);
  while (select->step()) run.steps.push_back(read_step_row(*select, run.id));
}

void SqliteStore::touch_run_locked(std::string_view run_id, TimePoint time) {
  StatementUse touch = db_->prepare(kTouchRun);
  touch->bind(1, run_id);
  touch->bind(2, to_micros(time));
  touch->run();
}

bool SqliteStore::run_exists_locked(std::string_view id) {
  StatementUse select = db_->prepare(kRunExists);
  select->bind(1, id);
  return select->step();
}

Event SqliteStore::append_event_locked(std::string_view run_id, int step,
                                       std::string step_name,
                                       std::string_view from,
                                       std::string_view to, TimePoint time,
                                       std::string detail) {
  StatementUse insert = db_->prepare(kInsertEvent);
  insert->bind(1, run_id);
  insert->bind(2, static_cast<int64_t>(step));
  insert->bind(3, step_name);
  insert->bind(4, from);
  insert->bind(5, to);
  insert->bind(6, to_micros(time));
  insert->bind(7, detail);
  insert->run();
  Event event;
  event.seq = db_->last_insert_rowid();
  event.run_id = std::string(run_id);
  event.step = step;
  event.step_name = std::move(step_name);
  event.from = std::string(from);
  event.to = std::string(to);
  event.time = time;
  event.detail = std::move(detail);
  return event;
}

}  // namespace isoqube::detail
