#include "store/sqlite_connection.h"

#include <random>
#include <thread>
#include <utility>

namespace isoqube::detail {
namespace {

[[noreturn]] void fail(sqlite3* db, int code) {
  const char* message =
      db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw SqliteFailure(db != nullptr ? sqlite3_extended_errcode(db) : code,
                      message);
}

}  // namespace

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  // PERSISTENT tells SQLite the statement is kept for many uses, so it
  // allocates it outside its short-lived lookaside memory.
  const int rc =
      sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size() + 1),
                         SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason = sqlite3_errmsg(db);
    throw SqliteFailure(sqlite3_extended_errcode(db),
                        reason + " (preparing: " + sql + ")");
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc);
}

void Statement::bind(int index, std::string_view text) {
  // TRANSIENT: SQLite copies the text, so callers may bind temporaries.
  const int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(db_, rc);
}

void Statement::bind(int index, const std::optional<TimePoint>& time) {
  if (time) {
    bind(index, to_micros(*time));
  } else {
    bind_null(index);
  }
}

void Statement::bind(int index, const std::optional<std::string>& text) {
  if (text) {
    bind(index, std::string_view(*text));
  } else {
    bind_null(index);
  }
}

void Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc);
}

void Statement::run() {
  while (step()) {
  }
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data =
      reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (data == nullptr) return std::string();
  const int size = sqlite3_column_bytes(stmt_, column);
  return std::string(data, static_cast<size_t>(size));
}

std::optional<TimePoint> Statement::time(int column) const {
  if (is_null(column)) return std::nullopt;
  return from_micros(integer(column));
}

void Statement::reset() {
  // reset() repeats the last step's error, which was already reported.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Connection::Connection(const std::string& path) {
  // NOMUTEX: the owner serializes every call, so SQLite's own connection
  // mutex would only add cost.
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason =
        db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteFailure(rc, reason);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  // Finalized before the connection closes.
  constants_.clear();
  statements_.clear();
  sqlite3_close_v2(db_);
}

void Connection::exec(const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return;
  const std::string reason = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  throw SqliteFailure(sqlite3_extended_errcode(db_), reason);
}

StatementUse Connection::prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  }
  return StatementUse(*it->second);
}

StatementUse Connection::prepare_constant(const char* sql) {
  auto it = constants_.find(sql);
  if (it == constants_.end()) {
    it = constants_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  }
  return StatementUse(*it->second);
}

void Connection::set_busy_timeout(std::chrono::milliseconds timeout) {
  busy_timeout_ = timeout;
  sqlite3_busy_handler(
      db_, timeout.count() > 0 ? &Connection::on_busy : nullptr, this);
}

// SQLite's own busy handler sleeps 1, 2, 5, ... up to 100 ms between
// retries, and a lock is not queued: a process that writes continuously
// finds the lock free again within microseconds, so a waiter that sleeps
// that long starves until its timeout. Retrying every fraction of a
// millisecond, with jitter so that waiters do not march in step, gives
// every process its turn.
int Connection::on_busy(void* self, int retries) {
  auto& connection = *static_cast<Connection*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (retries == 0) connection.busy_since_ = now;
  if (now - connection.busy_since_ >= connection.busy_timeout_) return 0;
  thread_local std::minstd_rand jitter(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::microseconds(100 + jitter() % 400));
  return 1;
}

int Connection::changes() const { return sqlite3_changes(db_); }

int64_t Connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

}  // namespace isoqube::detail
