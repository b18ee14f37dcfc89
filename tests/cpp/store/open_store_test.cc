// open_store(): which URIs give which store, and how bad ones are reported.
#include <gmock/gmock.h>
#include <unistd.h>

#include <filesystem>

#include "common/uri.h"
#include "isoqube/errors.h"
#include "store/sqlite_store.h"
#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

detail::SqliteStoreOptions sqlite_options(const std::string& uri) {
  return detail::sqlite_store_options(detail::parse_uri(uri));
}

// The message of the ConfigurationError that opening `uri` throws.
std::string configuration_error(const std::string& uri) {
  try {
    open_store(uri);
  } catch (const ConfigurationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigurationError for " << uri;
  return "";
}

TEST(OpenStoreTest, MemoryUriOpensAnEmptyWorkingStore) {
  const auto store = open_store("memory://");
  EXPECT_EQ(store->count_runs(), 0u);
  store->create_run(sample_run());
  EXPECT_EQ(store->count_runs(), 1u);
}

TEST(OpenStoreTest, MemoryStoresArePrivate) {
  const auto a = open_store("memory://");
  const auto b = open_store("memory://");
  a->create_run(sample_run());
  EXPECT_EQ(b->count_runs(), 0u);
}

TEST(OpenStoreTest, MemoryUriWithAPathOrOptionsIsRejected) {
  EXPECT_THAT(configuration_error("memory://somewhere"),
              HasSubstr("memory:// takes no host, path or options"));
  EXPECT_THAT(configuration_error("memory://?size=3"), HasSubstr("memory://"));
}

TEST(OpenStoreTest, SqliteUriWithAnAbsolutePathCreatesTheFile) {
  ScratchFolder scratch;
  const std::string path = scratch.path() + "/runs.db";
  const auto store = open_store("sqlite://" + path);
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(OpenStoreTest, SqliteUriFormsNameTheirFile) {
  EXPECT_EQ(sqlite_options("sqlite:///var/lib/isoqube.db").path,
            "/var/lib/isoqube.db");
  EXPECT_EQ(sqlite_options("sqlite://isoqube.db").path, "isoqube.db");
  EXPECT_EQ(sqlite_options("sqlite://data/isoqube.db").path, "data/isoqube.db");
  EXPECT_EQ(sqlite_options("sqlite:///:memory:").path, ":memory:");
  EXPECT_EQ(sqlite_options("sqlite:///with%20space.db").path, "/with space.db");
}

TEST(OpenStoreTest, SqliteOptionsHaveDocumentedDefaults) {
  const detail::SqliteStoreOptions options = sqlite_options("sqlite://x.db");
  EXPECT_FALSE(options.synchronous_full);
  EXPECT_EQ(options.busy_timeout, std::chrono::milliseconds(5000));
}

TEST(OpenStoreTest, SqliteOptionsAreReadFromTheQuery) {
  const detail::SqliteStoreOptions options =
      sqlite_options("sqlite://x.db?synchronous=FULL&busy_timeout_ms=250");
  EXPECT_TRUE(options.synchronous_full);
  EXPECT_EQ(options.busy_timeout, std::chrono::milliseconds(250));
  EXPECT_FALSE(
      sqlite_options("sqlite://x.db?synchronous=normal").synchronous_full);
}

TEST(OpenStoreTest, BadSqliteOptionsAreRejectedByName) {
  EXPECT_THAT(configuration_error("sqlite:///tmp/x.db?journal=off"),
              HasSubstr("unknown option 'journal'"));
  EXPECT_THAT(configuration_error("sqlite:///tmp/x.db?synchronous=off"),
              HasSubstr("synchronous must be 'normal' or 'full'"));
  EXPECT_THAT(configuration_error("sqlite:///tmp/x.db?busy_timeout_ms=soon"),
              HasSubstr("busy_timeout_ms"));
  EXPECT_THAT(configuration_error("sqlite:///tmp/x.db?busy_timeout_ms=-5"),
              HasSubstr("busy_timeout_ms"));
}

TEST(OpenStoreTest, SqliteUriWithoutAFileIsRejected) {
  EXPECT_THAT(configuration_error("sqlite://"),
              HasSubstr("names no database file"));
  EXPECT_THAT(configuration_error("sqlite:///"),
              HasSubstr("names no database file"));
  EXPECT_THAT(configuration_error("sqlite:///tmp/"),
              HasSubstr("names no database file"));
}

TEST(OpenStoreTest, SqliteUriWithCredentialsIsRejectedWithoutShowingThem) {
  const std::string message =
      configuration_error("sqlite://me:s3cret@host/x.db");
  EXPECT_THAT(message, HasSubstr("takes no user, password or port"));
  EXPECT_THAT(message, Not(HasSubstr("s3cret")));
}

TEST(OpenStoreTest, InMemorySqliteStoresArePrivate) {
  const auto a = open_store("sqlite:///:memory:");
  const auto b = open_store("sqlite:///:memory:");
  const isoqube::Run run = sample_run();
  a->create_run(run);
  EXPECT_TRUE(a->find_run(run.id).has_value());
  EXPECT_EQ(b->count_runs(), 0u);
}

TEST(OpenStoreTest, RelativeSqlitePathIsInTheWorkingFolder) {
  // Given a working folder of our own (restored afterwards)
  ScratchFolder scratch;
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::create_directory(scratch.path() + "/data");
  std::filesystem::current_path(scratch.path());
  // When
  try {
    open_store("sqlite://data/isoqube.db");
  } catch (...) {
    std::filesystem::current_path(previous);
    throw;
  }
  std::filesystem::current_path(previous);
  // Then
  EXPECT_TRUE(std::filesystem::exists(scratch.path() + "/data/isoqube.db"));
}

TEST(OpenStoreTest, UnknownSchemeNamesTheSupportedOnesAndHidesThePassword) {
  const std::string message =
      configuration_error("redis://admin:hunter2@cache:6379/0");
  EXPECT_THAT(message, HasSubstr("redis://admin:***@cache:6379/0"));
  EXPECT_THAT(message, Not(HasSubstr("hunter2")));
  EXPECT_THAT(message, HasSubstr("memory://"));
  EXPECT_THAT(message, HasSubstr("sqlite://"));
}

TEST(OpenStoreTest, TextWithoutASchemeIsAConfigurationError) {
  EXPECT_THAT(configuration_error("/var/lib/isoqube.db"),
              HasSubstr("/var/lib/isoqube.db"));
}

}  // namespace
}  // namespace isoqube::testing
