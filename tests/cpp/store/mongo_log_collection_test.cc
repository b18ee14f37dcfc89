// The log collection (isoqube/log_collection.h) against the server of
// ISOQUBE_TEST_MONGODB_URI: the documents it writes, a burst beyond its
// bound, and the server stopped and started again under it (that one needs
// ISOQUBE_TEST_MONGODB_DIR, the folder scripts/test started the server in).
#include <gmock/gmock.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "isoqube/log_collection.h"
#include "store/mongo_server.h"
#include "support/scratch_folder.h"

namespace isoqube::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kPatience = seconds(60);

// The documents of a collection, each as a map of its string fields (and
// numbers and dates as their decimal text).
using Document = std::map<std::string, std::string>;

std::vector<Document> read_all(const std::string& database,
                               const std::string& collection) {
  mongoc_client_t* client = mongoc_client_new(mongo_test_uri().c_str());
  mongoc_collection_t* c = mongoc_client_get_collection(
      client, database.c_str(), collection.c_str());
  bson_t filter = BSON_INITIALIZER;
  mongoc_cursor_t* cursor =
      mongoc_collection_find_with_opts(c, &filter, nullptr, nullptr);
  std::vector<Document> out;
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor, &doc)) {
    Document fields;
    bson_iter_t iter;
    bson_iter_init(&iter, doc);
    while (bson_iter_next(&iter)) {
      const std::string key = bson_iter_key(&iter);
      if (BSON_ITER_HOLDS_UTF8(&iter)) {
        fields[key] = bson_iter_utf8(&iter, nullptr);
      } else if (BSON_ITER_HOLDS_DATE_TIME(&iter)) {
        fields[key] = "date:" + std::to_string(bson_iter_date_time(&iter));
      } else if (BSON_ITER_HOLDS_INT(&iter)) {
        fields[key] = std::to_string(bson_iter_as_int64(&iter));
      }
    }
    out.push_back(std::move(fields));
  }
  bson_error_t error;
  EXPECT_FALSE(mongoc_cursor_error(cursor, &error)) << error.message;
  mongoc_cursor_destroy(cursor);
  mongoc_collection_destroy(c);
  mongoc_client_destroy(client);
  return out;
}

std::vector<Document> from_logger(const std::vector<Document>& docs,
                                  const std::string& logger) {
  std::vector<Document> out;
  for (const Document& d : docs) {
    if (d.count("Logger") && d.at("Logger") == logger) out.push_back(d);
  }
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string with_option(const std::string& uri, const std::string& option) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + option;
}

class MongoLogCollectionTest : public MongoDatabaseTest {
 protected:
  void SetUp() override {
    MongoDatabaseTest::SetUp();
    set_log_level("info");
  }
};

TEST(LogCollectionUriTest, BadUrisAndOptionsAreConfigurationErrors) {
  EXPECT_THROW(send_logs_to("sqlite:///tmp/x.db"), ConfigurationError);
  LogCollectionOptions bad_level;
  bad_level.level = "loud";
  EXPECT_THROW(send_logs_to("mongodb://127.0.0.1:1/Logs", bad_level),
               ConfigurationError);
  LogCollectionOptions bad_collection;
  bad_collection.collection = "a$b";
  try {
    send_logs_to("mongodb://u:secret@127.0.0.1:1/Logs", bad_collection);
    ADD_FAILURE() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("a$b"), Not(HasSubstr("secret"))));
  }
}

TEST(LogCollectionUriTest, UnreachableServerFailsAtStartNamingTheUri) {
  try {
    send_logs_to(
        "mongodb://u:secret@127.0.0.1:1/Logs?serverSelectionTimeoutMS=300");
    ADD_FAILURE() << "no error";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("log collection"),
                                HasSubstr("u:***@127.0.0.1:1"),
                                Not(HasSubstr("secret"))));
  }
}

TEST_F(MongoLogCollectionTest, LinesArriveWithTheirFields) {
  LogCollectionOptions options;
  options.application = "log-test";
  options.environment = "Testing";
  const int64_t before = now_ms();
  {
    auto logs = send_logs_to(uri_, options);
    logger("log-test-part")->info("hello {}", 42);
    logger("log-test-part")->debug("below the level: not written");
    service_logger("log-test-service")->warn("a service's line");
    ASSERT_TRUE(logs->flush(kPatience));
    EXPECT_EQ(logs->stats().queued, 0u);
  }
  const int64_t after = now_ms();
  const auto docs = read_all(database_, "Logs");

  const auto part = from_logger(docs, "isoqube.log-test-part");
  ASSERT_EQ(part.size(), 1u);
  const Document& line = part[0];
  EXPECT_EQ(line.at("Level"), "Information");
  EXPECT_EQ(line.at("Message"), "hello 42");
  EXPECT_EQ(line.at("Application"), "log-test");
  EXPECT_EQ(line.at("Environment"), "Testing");
  EXPECT_EQ(line.at("ProcessId"), std::to_string(getpid()));
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(line.at("Host"), host);
  ASSERT_EQ(line.at("Timestamp").rfind("date:", 0), 0u);
  const int64_t stamp = std::stoll(line.at("Timestamp").substr(5));
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);
  EXPECT_EQ(line.count("Exception"), 0u);

  const auto service = from_logger(docs, "isoqube.log-test-service");
  ASSERT_EQ(service.size(), 1u);
  EXPECT_EQ(service[0].at("Application"), "log-test-service");
  EXPECT_EQ(service[0].at("Level"), "Warning");
  EXPECT_EQ(service[0].at("Message"), "a service's line");
}

TEST_F(MongoLogCollectionTest, LinesAfterDetachingAreNotWritten) {
  {
    auto logs = send_logs_to(uri_);
    logger("log-test-part")->info("attached");
  }  // flushed and detached here
  logger("log-test-part")->info("detached");
  const auto docs =
      from_logger(read_all(database_, "Logs"), "isoqube.log-test-part");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].at("Message"), "attached");
}

TEST_F(MongoLogCollectionTest, BurstBeyondTheBoundIsDroppedCountedAndReported) {
  // The writer wakes only for flush() here (a batch can never fill and the
  // interval is long), so what the burst leaves queued is exact.
  LogCollectionOptions options;
  options.max_queued = 100;
  options.batch = 1000;
  options.interval = seconds(600);
  auto logs = send_logs_to(uri_, options);
  auto burst = logger("log-test-burst");
  for (int i = 0; i < 1000; ++i) burst->info("line {}", i);

  // Every call returned before a single line was written: the logging
  // thread never waited for the database.
  EXPECT_TRUE(read_all(database_, "Logs").empty());
  const LogCollectionStats during = logs->stats();
  EXPECT_EQ(during.queued, 100u);
  EXPECT_EQ(during.dropped, 900u);

  ASSERT_TRUE(logs->flush(kPatience));
  const auto docs = read_all(database_, "Logs");
  const auto lines = from_logger(docs, "isoqube.log-test-burst");
  ASSERT_EQ(lines.size(), 100u);
  std::set<std::string> messages;
  for (const Document& d : lines) messages.insert(d.at("Message"));
  EXPECT_EQ(messages.count("line 0"), 1u);  // the first ones were kept
  EXPECT_EQ(messages.count("line 99"), 1u);
  const auto reports = from_logger(docs, "isoqube.log");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].at("Level"), "Warning");
  EXPECT_EQ(reports[0].at("Dropped"), "900");
  EXPECT_THAT(reports[0].at("Message"), HasSubstr("dropped 900 log lines"));
  EXPECT_EQ(logs->stats().written, 100u);
}

void server(const std::string& command, const std::string& dir) {
  const std::string line = std::string(ISOQUBE_MONGODB_SCRIPT) + " " + command +
                           " '" + dir + "' >/dev/null";
  ASSERT_EQ(std::system(line.c_str()), 0) << line;
}

TEST_F(MongoLogCollectionTest, ServerStoppedAndStartedLosesNoQueuedLine) {
  const std::string dir = mongo_env("ISOQUBE_TEST_MONGODB_DIR");
  if (dir.empty()) GTEST_SKIP() << "ISOQUBE_TEST_MONGODB_DIR is not set";
  LogCollectionOptions options;
  options.interval = milliseconds(50);
  auto logs =
      send_logs_to(with_option(uri_, "serverSelectionTimeoutMS=1000"), options);
  auto log = logger("log-test-outage");
  log->info("before 0");
  ASSERT_TRUE(logs->flush(kPatience));

  server("stop", dir);
  for (int i = 0; i < 200; ++i) log->info("during {}", i);
  // Wait until the writer has met the outage, so that the lines really
  // were held across it.
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (logs->stats().failed_attempts == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  const uint64_t failed = logs->stats().failed_attempts;
  server("start", dir);
  ASSERT_GT(failed, 0u);
  log->info("after 0");
  ASSERT_TRUE(logs->flush(kPatience));

  const auto lines =
      from_logger(read_all(database_, "Logs"), "isoqube.log-test-outage");
  std::map<std::string, int> seen;
  for (const Document& d : lines) ++seen[d.at("Message")];
  EXPECT_EQ(lines.size(), 202u);
  EXPECT_EQ(seen.size(), 202u);  // each line once
  EXPECT_EQ(seen["during 199"], 1);
  EXPECT_EQ(logs->stats().dropped, 0u);
}

}  // namespace
}  // namespace isoqube::testing
