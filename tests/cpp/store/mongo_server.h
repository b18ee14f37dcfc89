// The MongoDB-wire server the MongoDB tests use: the one named by
// ISOQUBE_TEST_MONGODB_URI (scripts/test starts a private FerretDB and sets
// it; point it at a real MongoDB 6/7 to test against that). Without it the
// tests skip, unless ISOQUBE_REQUIRE_SERVERS=1 makes that a failure.
// Each test gets a database of its own, dropped at its end.
#pragma once

#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "support/scratch_folder.h"

namespace isoqube::testing {

inline std::string mongo_env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

inline std::string mongo_test_uri() {
  return mongo_env("ISOQUBE_TEST_MONGODB_URI");
}

// Why the MongoDB tests cannot run here, or empty. With servers required,
// a missing URI is not a reason to skip: the tests then fail to open.
inline std::string mongo_unavailable() {
  if (!mongo_test_uri().empty() ||
      mongo_env("ISOQUBE_REQUIRE_SERVERS") == "1") {
    return std::string();
  }
  return "ISOQUBE_TEST_MONGODB_URI is not set (scripts/test starts a server)";
}

// `uri` with its database (the path) replaced by `database`.
inline std::string uri_with_database(const std::string& uri,
                                     const std::string& database) {
  if (uri.empty()) {
    throw std::runtime_error(
        "ISOQUBE_TEST_MONGODB_URI is not set and ISOQUBE_REQUIRE_SERVERS=1");
  }
  const std::size_t hosts = uri.find("://");
  const std::size_t start = hosts == std::string::npos ? 0 : hosts + 3;
  const std::size_t query = uri.find('?', start);
  const std::size_t slash = uri.find('/', start);
  const std::size_t path_end = query == std::string::npos ? uri.size() : query;
  if (slash != std::string::npos && slash < path_end) {
    return uri.substr(0, slash + 1) + database + uri.substr(path_end);
  }
  return uri.substr(0, path_end) + "/" + database + uri.substr(path_end);
}

// A database name of the scratch folder's own.
inline std::string test_database(const std::string& scratch) {
  std::string name = "isoqube_test_" + scratch.substr(scratch.rfind('/') + 1);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return name.substr(0, 60);
}

inline void drop_test_database(const std::string& database) {
  const std::string uri = mongo_test_uri();
  if (uri.empty()) return;
  mongoc_client_t* client = mongoc_client_new(uri.c_str());
  if (client == nullptr) return;
  mongoc_database_t* db = mongoc_client_get_database(client, database.c_str());
  mongoc_database_drop(db, nullptr);
  mongoc_database_destroy(db);
  mongoc_client_destroy(client);
}

// A test with a database of its own on the test server (`uri_` names it),
// dropped at its end; skipped when there is no server (see above).
class MongoDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = mongo_unavailable();
    if (!reason.empty()) GTEST_SKIP() << reason;
    database_ = test_database(scratch_.path());
    uri_ = uri_with_database(mongo_test_uri(), database_);
  }
  void TearDown() override {
    if (!database_.empty()) drop_test_database(database_);
  }

  ScratchFolder scratch_;
  std::string database_;
  std::string uri_;
};

}  // namespace isoqube::testing
