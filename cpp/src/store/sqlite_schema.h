// The SQLite store's tables and the statements that read them. Rows are
// read by column position: the readers in sqlite_codec.cc follow the column
// lists here. Internal.
//
// Times are INTEGER microseconds since the Unix epoch (NULL: not yet),
// statuses their lower-case words, JSON columns JSON text, so that the file
// is readable with the sqlite3 shell and its JSON functions.
#pragma once

namespace isoqube::detail {

// PRAGMA user_version of the schema below. A file with a greater version
// was written by a newer Isoqube and is refused.
constexpr int kSqliteSchemaVersion = 1;

constexpr char kSqliteSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS configurations (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL  -- the whole configuration as JSON
);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY NOT NULL,
  configuration_id TEXT NOT NULL DEFAULT '',
  configuration_name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  ingestion_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  created_on INTEGER NOT NULL,
  modified_on INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_created_on ON runs (created_on DESC);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  topic TEXT NOT NULL,
  spec TEXT NOT NULL,  -- {"after", "retry", "payload"} as JSON
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  invoked_on INTEGER,
  completed_on INTEGER,
  succeeded_on INTEGER,
  failed_on INTEGER,
  retried_on INTEGER,
  cancelled_on INTEGER,
  error TEXT NOT NULL DEFAULT '',
  output TEXT NOT NULL DEFAULT 'null',
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step INTEGER NOT NULL,  -- -1: the run itself
  step_name TEXT NOT NULL DEFAULT '',
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  time INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, seq);
CREATE TABLE IF NOT EXISTS topics (
  name TEXT PRIMARY KEY NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  entity_name TEXT NOT NULL DEFAULT '',
  ns TEXT NOT NULL DEFAULT '',
  schema TEXT NOT NULL DEFAULT 'null'
);
)sql";

// Transactions. A read takes its snapshot at its first statement; a write
// takes the write lock at once (see SqliteStore::write).
constexpr char kBeginRead[] = "BEGIN";
constexpr char kBeginWrite[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
// One write among several sharing a transaction (SqliteStore::write).
constexpr char kSavepoint[] = "SAVEPOINT write";
constexpr char kReleaseSavepoint[] = "RELEASE write";
constexpr char kRollbackToSavepoint[] = "ROLLBACK TO write";
// Changes whenever another connection (in this process or another) has
// committed since the last time this connection asked; its own commits
// leave it alone. https://www.sqlite.org/pragma.html#pragma_data_version
constexpr char kDataVersion[] = "PRAGMA data_version";

// Configurations: (id, body).
constexpr char kSelectConfiguration[] =
    "SELECT id, body FROM configurations WHERE id = ?1 OR name = ?1 "
    "ORDER BY id = ?1 DESC LIMIT 1";
constexpr char kSelectConfigurations[] =
    "SELECT id, body FROM configurations ORDER BY name";
constexpr char kSelectOtherConfigurationNamed[] =
    "SELECT id FROM configurations WHERE name = ?1 AND id <> ?2";
constexpr char kUpsertConfiguration[] =
    "INSERT INTO configurations (id, name, description, body) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET "
    "name = excluded.name, description = excluded.description, "
    "body = excluded.body";

// Runs: the columns read by read_run_row().
#define ISOQUBE_RUN_COLUMNS                                               \
  "id, configuration_id, configuration_name, description, ingestion_id, " \
  "status, created_on, modified_on, error, payload"
constexpr char kSelectRun[] =
    "SELECT " ISOQUBE_RUN_COLUMNS " FROM runs WHERE id = ?1";
// ?1 status or NULL, ?2 configuration id or name or NULL, ?3 limit (-1:
// none), ?4 offset. Ties in creation time go newest-inserted first.
constexpr char kSelectRunsPage[] =
    "SELECT " ISOQUBE_RUN_COLUMNS
    " FROM runs "
    "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR "
    "configuration_id = ?2 OR configuration_name = ?2) "
    "ORDER BY created_on DESC, rowid DESC LIMIT ?3 OFFSET ?4";
#undef ISOQUBE_RUN_COLUMNS
constexpr char kInsertRun[] =
    "INSERT INTO runs (id, configuration_id, configuration_name, "
    "description, ingestion_id, status, created_on, modified_on, error, "
    "payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr char kRunExists[] = "SELECT 1 FROM runs WHERE id = ?1";
constexpr char kCountRuns[] = "SELECT COUNT(*) FROM runs";
constexpr char kSelectRunStatus[] = "SELECT status FROM runs WHERE id = ?1";
// ?1 id, ?2 new status, ?3 error or NULL (kept), ?4 time, ?5 old status.
constexpr char kUpdateRunStatus[] =
    "UPDATE runs SET status = ?2, error = COALESCE(?3, error), "
    "modified_on = ?4 WHERE id = ?1 AND status = ?5";
constexpr char kTouchRun[] = "UPDATE runs SET modified_on = ?2 WHERE id = ?1";

// Steps: the columns read by read_step_row().
constexpr char kSelectSteps[] =
    "SELECT idx, name, topic, spec, status, attempts, invoked_on, "
    "completed_on, succeeded_on, failed_on, retried_on, cancelled_on, error, "
    "output FROM steps WHERE run_id = ?1 ORDER BY idx";
// Parameters in the order of bind_step_row().
constexpr char kInsertStep[] =
    "INSERT INTO steps (run_id, idx, name, topic, spec, status, attempts, "
    "invoked_on, completed_on, succeeded_on, failed_on, retried_on, "
    "cancelled_on, error, output) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, ?11, ?12, ?13, ?14, ?15)";
// (idx, name, status, attempts) / (name, status, attempts): the state a
// transition starts from.
constexpr char kSelectStepStates[] =
    "SELECT idx, name, status, attempts FROM steps WHERE run_id = ?1 "
    "ORDER BY idx";
constexpr char kSelectStepState[] =
    "SELECT name, status, attempts FROM steps WHERE run_id = ?1 AND idx = ?2";
// The compare-and-set of a step: ?1 run, ?2 idx, ?3 expected status, ?4
// expected attempts, then the new values; NULL keeps a column's value.
constexpr char kUpdateStep[] =
    "UPDATE steps SET status = ?5, attempts = COALESCE(?6, attempts), "
    "invoked_on = COALESCE(?7, invoked_on), "
    "completed_on = COALESCE(?8, completed_on), "
    "succeeded_on = COALESCE(?9, succeeded_on), "
    "failed_on = COALESCE(?10, failed_on), "
    "retried_on = COALESCE(?11, retried_on), "
    "cancelled_on = COALESCE(?12, cancelled_on), "
    "error = COALESCE(?13, error), output = COALESCE(?14, output) "
    "WHERE run_id = ?1 AND idx = ?2 AND status = ?3 AND attempts = ?4";
constexpr char kQueueStep[] =
    "UPDATE steps SET status = 'queued' "
    "WHERE run_id = ?1 AND idx = ?2 AND status = 'pending'";
constexpr char kCancelStep[] =
    "UPDATE steps SET status = 'cancelled', cancelled_on = ?3 "
    "WHERE run_id = ?1 AND idx = ?2 AND status = ?4";

// Events: the columns read by read_event_row().
constexpr char kInsertEvent[] =
    "INSERT INTO events (run_id, step, step_name, from_status, to_status, "
    "time, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kSelectEvents[] =
    "SELECT seq, run_id, step, step_name, from_status, to_status, time, "
    "detail FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2";
constexpr char kLastEventSeq[] = "SELECT coalesce(max(seq), 0) FROM events";
constexpr char kSelectRunEvents[] =
    "SELECT seq, run_id, step, step_name, from_status, to_status, time, "
    "detail FROM events WHERE run_id = ?3 AND seq > ?1 ORDER BY seq "
    "LIMIT ?2";

// Topics: the columns read by read_topic_row().
constexpr char kUpsertTopic[] =
    "INSERT INTO topics (name, description, entity_name, ns, schema) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
    "description = excluded.description, entity_name = excluded.entity_name, "
    "ns = excluded.ns, schema = excluded.schema";
constexpr char kSelectTopics[] =
    "SELECT name, description, entity_name, ns, schema FROM topics "
    "ORDER BY name";

}  // namespace isoqube::detail
