// What only the MongoDB store has: URIs and server errors, processes racing
// on one run, the indexes it makes. Against the server of
// ISOQUBE_TEST_MONGODB_URI (see mongo_server.h); the store's behaviour
// shared with the other stores is in the conformance suite.
#include "store/mongo_store.h"

#include <gmock/gmock.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "isoqube/errors.h"
#include "store/mongo_server.h"
#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <class Error>
std::string error_of(const std::string& uri) {
  try {
    open_store(uri);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error opening " << uri;
  return "";
}

TEST(MongoUriTest, MalformedUrisAreConfigurationErrorsNamingTheProblem) {
  EXPECT_THAT(error_of<ConfigurationError>("mongodb://127.0.0.1:port/Isoqube"),
              HasSubstr("port"));
  EXPECT_THAT(error_of<ConfigurationError>(
                  "mongodb://u:secret@127.0.0.1/Isoqube?isoqubeRetryMS=soon"),
              AllOf(HasSubstr("isoqubeRetryMS"), HasSubstr("soon"),
                    Not(HasSubstr("secret"))));
  EXPECT_THAT(
      error_of<ConfigurationError>(
          "mongodb://u:secret@127.0.0.1/Isoqube?replicaSet="),
      AllOf(HasSubstr("not a valid MongoDB URI"), Not(HasSubstr("secret"))));
}

TEST(MongoUriTest, UnreachableServerFailsWithinItsTimeoutNamingTheUri) {
  // Port 1 on loopback: nothing listens there.
  const auto started = std::chrono::steady_clock::now();
  const std::string message = error_of<StoreError>(
      "mongodb://isoqube:secret@127.0.0.1:1/Isoqube?"
      "serverSelectionTimeoutMS=300");
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_THAT(message, AllOf(HasSubstr("cannot open MongoDB store"),
                             HasSubstr("isoqube:***@127.0.0.1:1"),
                             Not(HasSubstr("secret"))));
  // The URI's timeout, not the driver's default of 30 s, bounds the wait.
  EXPECT_LT(took, std::chrono::seconds(15));
}

using MongoStoreTest = MongoDatabaseTest;

TEST_F(MongoStoreTest, WrongPasswordIsRefusedAtOpenNamingTheUri) {
  const std::size_t scheme = uri_.find("://");
  const std::size_t at = uri_.find('@');
  const std::size_t colon = uri_.find(':', scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) {
    GTEST_SKIP() << "the test server's URI has no password to get wrong";
  }
  const std::string wrong =
      uri_.substr(0, colon + 1) + "not-the-password" + uri_.substr(at);
  const std::string message = error_of<StoreError>(wrong);
  EXPECT_THAT(message,
              AllOf(HasSubstr("cannot open MongoDB store"), HasSubstr(":***@"),
                    Not(HasSubstr("not-the-password"))));
  EXPECT_THAT(message, HasSubstr("uthentication failed"));
}

TEST_F(MongoStoreTest, OpeningTwiceKeepsTheNamedIndexes) {
  open_store(uri_);
  const auto store = open_store(uri_);  // the indexes exist already
  mongoc_client_t* client = mongoc_client_new(uri_.c_str());
  mongoc_collection_t* runs =
      mongoc_client_get_collection(client, database_.c_str(), "Run");
  mongoc_cursor_t* cursor =
      mongoc_collection_find_indexes_with_opts(runs, nullptr);
  std::vector<std::string> names;
  const bson_t* index = nullptr;
  while (mongoc_cursor_next(cursor, &index)) {
    bson_iter_t name;
    if (bson_iter_init_find(&name, index, "name")) {
      names.emplace_back(bson_iter_utf8(&name, nullptr));
    }
  }
  mongoc_cursor_destroy(cursor);
  mongoc_collection_destroy(runs);
  mongoc_client_destroy(client);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"isoqube_runs_newest_first",
                                              "isoqube_runs_by_status",
                                              "isoqube_runs_by_event_seq"}));
}

// Several processes, each with its own store (its own connections), try
// to complete the same step and queue its successor at the same moment.
TEST_F(MongoStoreTest, ProcessesRacingToCompleteTheSameStepHaveOneWinner) {
  constexpr int kProcesses = 6;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    isoqube::Run run;
    {
      const auto store = open_store(uri_);
      run = create_started_run_in(*store, 2, 1);
    }
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kProcesses; ++i) {
      const pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        close(go[1]);
        int code = 2;
        try {
          const auto store = open_store(uri_);
          char byte;
          (void)!read(go[0], &byte, 1);  // EOF: everyone starts together
          StepTransition t = completion(0);
          t.queue = {1};
          code = store->transition_step(run.id, t) ? 0 : 1;
        } catch (...) {
        }
        _exit(code);
      }
      children.push_back(pid);
    }
    close(go[0]);
    close(go[1]);
    int winners = 0;
    int errors = 0;
    for (pid_t pid : children) {
      int status = 0;
      waitpid(pid, &status, 0);
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
      winners += code == 0;
      errors += code > 1;
    }
    EXPECT_EQ(errors, 0) << "round " << round;
    EXPECT_EQ(winners, 1) << "round " << round;
    const auto store = open_store(uri_);
    EventQuery query;
    query.run_id = run.id;
    int completions = 0;
    int queued_successors = 0;
    for (const Event& e : store->events(query)) {
      completions += e.step == 0 && e.to == "completed";
      queued_successors += e.step == 1 && e.to == "queued";
    }
    EXPECT_EQ(completions, 1) << "round " << round;
    EXPECT_EQ(queued_successors, 1) << "round " << round;
  }
}

// Two writers whose clocks are apart (the same as one whose commit is late:
// its stamp is older than what readers have seen): an event committed
// after a reader read one with a greater seq.
TEST_F(MongoStoreTest,
       EventFeedGetsAnEventCommittedLateWithASeqBelowOneItRead) {
  // Given a writer with the right time and one whose clock is 5 s ahead
  const auto slow = open_store(uri_);
  detail::MongoStore fast(detail::mongo_store_options(uri_),
                          [] { return now() + std::chrono::seconds(5); });
  const isoqube::Run early = sample_run(1);
  slow->create_run(early);
  EventFeed feed(slow->last_event_seq());
  // When the fast writer commits an event and the feed reads it
  const isoqube::Run ahead = sample_run(1);
  fast.create_run(ahead);
  const std::vector<Event> first = feed.read(*slow);
  ASSERT_EQ(first.size(), 1U);
  ASSERT_EQ(first[0].run_id, ahead.id);
  // and then the slow writer commits one, with a lower seq
  ASSERT_EQ(slow->queue_steps(early.id, {0}).steps, std::vector<int>{0});
  EventQuery query;
  query.run_id = early.id;
  const Event late = slow->events(query).back();
  ASSERT_LT(late.seq, first[0].seq) << "the provocation did not happen";
  EventQuery after_read;
  after_read.after_seq = first[0].seq;
  EXPECT_TRUE(slow->events(after_read).empty());  // what a plain reader gets
  // Then the feed's next read brings it, and the one after nothing again
  const std::vector<Event> next = feed.read(*slow);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].run_id, early.id);
  EXPECT_EQ(next[0].seq, late.seq);
  EXPECT_EQ(next[0].to, "queued");
  EXPECT_TRUE(feed.read(fast).empty());
}

}  // namespace
}  // namespace isoqube::testing
