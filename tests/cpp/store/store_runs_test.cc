// Conformance: creating, finding, listing and counting runs.
#include <gmock/gmock.h>

#include "isoqube/errors.h"
#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> descriptions_of(const std::vector<Run>& runs) {
  std::vector<std::string> out;
  for (const Run& run : runs) out.push_back(run.description);
  return out;
}

// A run whose steps are in every state a step can be in, with every
// optional field set somewhere.
Run varied_run() {
  Run run = sample_run(4);
  run.status = RunStatus::kFailed;
  run.error = "Step2 failed: exit code 3";
  Step& done = run.steps[0];
  done.status = StepStatus::kCompleted;
  done.attempts = 2;
  done.invoked_on = sample_time(1);
  done.retried_on = sample_time(2);
  done.completed_on = sample_time(3);
  done.succeeded_on = sample_time(3);
  done.output = {{"artifacts", {"a.tar", "b.tar"}}, {"size", 12345678901}};
  Step& failed = run.steps[2];
  failed.status = StepStatus::kFailed;
  failed.attempts = 3;
  failed.failed_on = sample_time(4);
  failed.cancelled_on = sample_time(5);
  failed.error = "exit code 3";
  run.steps[1].spec.after.reset();  // unset: "after the previous step"
  run.steps[3].status = StepStatus::kCancelled;
  run.steps[3].output = Json::array();
  return run;
}

TEST_P(StoreConformanceTest, CreatedRunIsFoundWhole) {
  // Given
  const Run run = varied_run();
  // When
  store().create_run(run);
  const std::optional<Run> found = store().find_run(run.id);
  // Then every field round-trips, times to the microsecond
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(to_json(*found), to_json(run));
  EXPECT_EQ(found->created_on, run.created_on);
  EXPECT_EQ(found->steps[0].invoked_on, sample_time(1));
  EXPECT_EQ(found->steps[2].cancelled_on, sample_time(5));
  EXPECT_FALSE(found->steps[1].invoked_on.has_value());
  EXPECT_FALSE(found->steps[1].spec.after.has_value());
  EXPECT_EQ(found->steps[2].spec.after, std::vector<std::string>{"Step1"});
  EXPECT_EQ(found->steps[0].spec.after, std::vector<std::string>{});
  EXPECT_EQ(found->steps[2].spec.retry.backoff, 2.0);
  EXPECT_EQ(found->payload, run.payload);
  EXPECT_EQ(found->steps[0].output, run.steps[0].output);
  EXPECT_TRUE(found->steps[1].output.is_null());
  EXPECT_TRUE(found->steps[3].output.is_array());
}

TEST_P(StoreConformanceTest, PayloadsAndOutputsOfAnyJsonShapeRoundTrip) {
  // Given values some databases keep only with care: keys with dots or a
  // leading '$', empty keys, arrays of arrays, big and negative numbers
  Run run = sample_run(2);
  run.payload = {{"a.b", 1},
                 {"$where", "x"},
                 {"", true},
                 {"matrix", {{1, 2}, {3, 4}}},
                 {"nested", {{"k.v", {{"$x", nullptr}}}}},
                 {"big", 9007199254740993LL},
                 {"negative", -2147483649LL},
                 {"pi", 3.25}};
  run.steps[0].output = {{"list", {{{"a", 1}}, {{"b.c", 2}}}}};
  store().create_run(run);
  // When the output is also written by a transition
  store().queue_steps(run.id, {1});
  StepTransition t = start(1);
  ASSERT_TRUE(store().transition_step(run.id, t).has_value());
  StepTransition done = completion(1);
  done.output = Json{{"x.y", {{1}, {2, 3}}}, {"$ok", "yes"}};
  ASSERT_TRUE(store().transition_step(run.id, done).has_value());
  // Then all of it comes back as it was
  const std::optional<Run> found = store().find_run(run.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->payload, run.payload);
  EXPECT_EQ(found->steps[0].output, run.steps[0].output);
  EXPECT_EQ(found->steps[1].output, *done.output);
}

TEST_P(StoreConformanceTest, UnknownRunIsNotFound) {
  store().create_run(sample_run());
  EXPECT_FALSE(store().find_run(new_uuid()).has_value());
  EXPECT_FALSE(store().find_run("").has_value());
}

TEST_P(StoreConformanceTest, DuplicateRunIdIsRejectedAndTheFirstKept) {
  // Given
  const Run first = sample_run(2);
  store().create_run(first);
  Run second = sample_run(5);
  second.id = first.id;
  // When / Then
  try {
    store().create_run(second);
    FAIL() << "a second run with the same id was stored";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(first.id));
    EXPECT_THAT(e.what(), HasSubstr("already exists"));
  }
  const auto found = store().find_run(first.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->steps.size(), 2u);
  EXPECT_EQ(store().count_runs(), 1u);
}

TEST_P(StoreConformanceTest, RunWithoutIdIsRejected) {
  Run run = sample_run();
  run.id.clear();
  EXPECT_THROW(store().create_run(run), ConfigurationError);
  EXPECT_EQ(store().count_runs(), 0u);
}

// Runs "r0".."r{n-1}", each one second newer than the previous, created
// in a shuffled order so that insertion order cannot pass for age order.
void create_aged_runs(Store& store, int n) {
  for (int k = 0; k < n; ++k) {
    const int i = (k * 3) % n;  // n not a multiple of 3: a permutation
    Run run = sample_run(1, sample_time(i));
    run.description = "r" + std::to_string(i);
    run.status = i % 2 == 0 ? RunStatus::kRunning : RunStatus::kCompleted;
    run.configuration_id = i < 3 ? "config-a" : "config-b";
    run.configuration_name = i < 3 ? "alpha" : "beta";
    store.create_run(run);
  }
}

TEST_P(StoreConformanceTest, RunsAreListedNewestFirst) {
  create_aged_runs(store(), 5);
  EXPECT_THAT(descriptions_of(store().list_runs({})),
              ElementsAre("r4", "r3", "r2", "r1", "r0"));
}

TEST_P(StoreConformanceTest, RunsWithTheSameCreationTimeAreListedLastFirst) {
  for (const char* name : {"first", "second", "third"}) {
    Run run = sample_run(1, sample_time());
    run.description = name;
    store().create_run(run);
  }
  EXPECT_THAT(descriptions_of(store().list_runs({})),
              ElementsAre("third", "second", "first"));
}

TEST_P(StoreConformanceTest, ListRunsHonoursLimitAndOffset) {
  create_aged_runs(store(), 5);
  RunQuery query;
  query.limit = 2;
  query.offset = 1;
  EXPECT_THAT(descriptions_of(store().list_runs(query)),
              ElementsAre("r3", "r2"));
  query.offset = 4;
  EXPECT_THAT(descriptions_of(store().list_runs(query)), ElementsAre("r0"));
  query.offset = 5;
  EXPECT_TRUE(store().list_runs(query).empty());
  query.offset = 0;
  query.limit = 0;
  EXPECT_TRUE(store().list_runs(query).empty());
}

TEST_P(StoreConformanceTest, ListRunsFiltersByStatus) {
  create_aged_runs(store(), 5);
  RunQuery query;
  query.status = RunStatus::kCompleted;
  EXPECT_THAT(descriptions_of(store().list_runs(query)),
              ElementsAre("r3", "r1"));
  query.status = RunStatus::kCancelled;
  EXPECT_TRUE(store().list_runs(query).empty());
}

TEST_P(StoreConformanceTest, ListRunsFiltersByConfigurationIdOrName) {
  create_aged_runs(store(), 5);
  RunQuery query;
  query.configuration = "config-a";
  EXPECT_THAT(descriptions_of(store().list_runs(query)),
              ElementsAre("r2", "r1", "r0"));
  query.configuration = "beta";
  EXPECT_THAT(descriptions_of(store().list_runs(query)),
              ElementsAre("r4", "r3"));
  query.status = RunStatus::kRunning;
  query.configuration = "alpha";
  EXPECT_THAT(descriptions_of(store().list_runs(query)),
              ElementsAre("r2", "r0"));
}

TEST_P(StoreConformanceTest, ListedRunsCarryTheirSteps) {
  const Run run = varied_run();
  store().create_run(run);
  const std::vector<Run> runs = store().list_runs({});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(to_json(runs[0]), to_json(run));
}

TEST_P(StoreConformanceTest, CountRunsCountsEveryRun) {
  EXPECT_EQ(store().count_runs(), 0u);
  create_aged_runs(store(), 5);
  EXPECT_EQ(store().count_runs(), 5u);
}

TEST_P(StoreConformanceTest, CreatingARunAppendsOneCreatedEventAndReturnsIt) {
  // Given
  const Run run = sample_run(3);
  // When
  const std::vector<Event> returned = store().create_run(run);
  // Then
  const std::vector<Event> events = store().events({});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].run_id, run.id);
  EXPECT_EQ(events[0].step, -1);
  EXPECT_EQ(events[0].step_name, "");
  EXPECT_EQ(events[0].from, "");
  EXPECT_EQ(events[0].to, "running");
  EXPECT_GT(events[0].seq, 0);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(to_json(returned[0]), to_json(events[0]));
}

}  // namespace
}  // namespace isoqube::testing
