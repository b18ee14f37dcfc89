// RAII wrappers of one SQLite connection and its prepared statements.
// sqlite3.h is included only by the store's sqlite_* files. Internal.
//
// Thread-safety: none. A Connection and its statements belong to one owner
// that serializes every call (SqliteStore holds its mutex).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "isoqube/time.h"

namespace isoqube::detail {

// A failed SQLite call. SqliteStore turns it into a StoreError naming the
// operation and the file; nothing above the store sees it.
class SqliteFailure : public std::runtime_error {
 public:
  SqliteFailure(int code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }  // extended result code
  int primary_code() const { return code_ & 0xFF; }

 private:
  int code_;
};

// One prepared statement. Parameters and columns are numbered as in SQL:
// parameters from 1, result columns from 0.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, int64_t value);
  void bind(int index, std::string_view text);
  void bind(int index, const std::string& text) {
    bind(index, std::string_view(text));
  }
  void bind(int index, const char* text) {
    bind(index, std::string_view(text));
  }
  // NULL when unset.
  void bind(int index, const std::optional<TimePoint>& time);
  void bind(int index, const std::optional<std::string>& text);
  void bind_null(int index);

  // Advances to the next row; false when done. Throws SqliteFailure.
  bool step();
  // Steps a statement that returns no rows to its end.
  void run();

  bool is_null(int column) const;
  int64_t integer(int column) const;
  std::string text(int column) const;
  std::optional<TimePoint> time(int column) const;  // NULL: nullopt

  // Makes the statement ready for another use and drops its bindings.
  void reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement lent for one use; resets it when it goes out of scope,
// so that a statement is never left mid-step holding a read snapshot.
class StatementUse {
 public:
  explicit StatementUse(Statement& statement) : statement_(statement) {}
  ~StatementUse() { statement_.reset(); }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

  Statement* operator->() { return &statement_; }
  Statement& operator*() { return statement_; }

 private:
  Statement& statement_;
};

class Connection {
 public:
  // Opens the database at `path`, creating the file when it does not exist.
  // Throws SqliteFailure with SQLite's reason.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL text that returns no rows (may hold several statements),
  // parsing it each time: for set-up, not for statements run per call.
  void exec(const char* sql);
  // The statement for a constant `sql` (a string literal or a constexpr
  // array, which lives as long as the program), prepared on first use and
  // kept. It is found by the text's address, not by hashing the text.
  template <std::size_t N>
  StatementUse prepare(const char (&sql)[N]) {
    return prepare_constant(sql);
  }
  // The statement for any other text, found by the text.
  StatementUse prepare(const std::string& sql);
  // Runs a query that returns one integer (a pragma, a count).
  template <std::size_t N>
  int64_t query_integer(const char (&sql)[N]) {
    StatementUse statement = prepare(sql);
    return statement->step() ? statement->integer(0) : 0;
  }
  template <std::size_t N>
  std::string query_text(const char (&sql)[N]) {
    StatementUse statement = prepare(sql);
    return statement->step() ? statement->text(0) : std::string();
  }

  // How long a statement that finds the database locked by another
  // connection keeps retrying before it fails with SQLITE_BUSY.
  void set_busy_timeout(std::chrono::milliseconds timeout);

  int changes() const;
  int64_t last_insert_rowid() const;
  sqlite3* handle() { return db_; }

 private:
  static int on_busy(void* self, int retries);
  StatementUse prepare_constant(const char* sql);

  sqlite3* db_ = nullptr;
  std::chrono::milliseconds busy_timeout_{0};
  std::chrono::steady_clock::time_point busy_since_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> constants_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

}  // namespace isoqube::detail
