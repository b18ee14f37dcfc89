// A plain SQLite connection for tests of the SQLite store. Internal to the
// tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace isoqube::testing {

// The file as another program sees it, through its own connection.
class RawSqlite {
 public:
  explicit RawSqlite(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  ~RawSqlite() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error ? error : "?");
    }
    sqlite3_free(error);
  }

  // The first column of the first row, as text.
  std::string text(const std::string& sql) {
    std::string out;
    sqlite3_exec(
        db_, sql.c_str(),
        [](void* target, int, char** values, char**) {
          *static_cast<std::string*>(target) = values[0] ? values[0] : "NULL";
          return 1;  // the first row is enough
        },
        &out, nullptr);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace isoqube::testing
