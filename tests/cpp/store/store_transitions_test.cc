// Conformance: the compare-and-set transitions of steps and runs.
#include <gmock/gmock.h>

#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_P(StoreConformanceTest, StepTransitionAppliesWhenStatusAndAttemptsMatch) {
  // Given a run whose step 0 is queued
  const Run run = sample_run(2);
  store().create_run(run);
  store().queue_steps(run.id, {0});
  // When
  const StepTransition t = start(0, 0);
  const std::optional<Run> after = run_of(store().transition_step(run.id, t));
  // Then the returned run is the run after the update
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->id, run.id);
  EXPECT_EQ(after->steps[0].status, StepStatus::kRunning);
  EXPECT_EQ(after->steps[0].attempts, 1);
  EXPECT_EQ(after->steps[0].invoked_on, t.invoked_on);
  EXPECT_EQ(after->steps[1].status, StepStatus::kPending);
  EXPECT_GT(after->modified_on, run.created_on);
  // And it is what the store now holds
  EXPECT_EQ(to_json(*store().find_run(run.id)), to_json(*after));
}

TEST_P(StoreConformanceTest, StepTransitionFromAnotherStatusChangesNothing) {
  // Given a run whose step 0 is still pending
  const Run run = sample_run(2);
  store().create_run(run);
  const Json before = to_json(*store().find_run(run.id));
  // When a worker tries to complete it
  const std::optional<Run> after =
      run_of(store().transition_step(run.id, completion(0, 0)));
  // Then
  EXPECT_FALSE(after.has_value());
  EXPECT_EQ(to_json(*store().find_run(run.id)), before);
  EXPECT_EQ(store().events({}).size(), 1u);  // only "created"
}

TEST_P(StoreConformanceTest, StepTransitionWithOtherAttemptsChangesNothing) {
  // Given step 0 running its first attempt
  const Run run = create_started_run(2, 1);
  const Json before = to_json(*store().find_run(run.id));
  const std::size_t events_before = store().events({}).size();
  // When a stale message for attempt 2 arrives
  const std::optional<Run> after =
      run_of(store().transition_step(run.id, completion(0, 2)));
  // Then
  EXPECT_FALSE(after.has_value());
  EXPECT_EQ(to_json(*store().find_run(run.id)), before);
  EXPECT_EQ(store().events({}).size(), events_before);
}

TEST_P(StoreConformanceTest, ExpectAttemptsMinusOneMatchesAnyAttemptCount) {
  const Run run = create_started_run(1, 1);
  StepTransition cancel;
  cancel.step = 0;
  cancel.from = {StepStatus::kRunning};
  cancel.expect_attempts = -1;
  cancel.to = StepStatus::kCancelled;
  cancel.cancelled_on = now();

  const std::optional<Run> after =
      run_of(store().transition_step(run.id, cancel));

  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->steps[0].status, StepStatus::kCancelled);
  EXPECT_EQ(after->steps[0].attempts, 1);  // attempts = -1: unchanged
}

TEST_P(StoreConformanceTest, UnsetTransitionFieldsKeepTheirValues) {
  // Given a step that started (invoked_on set) and failed once
  const Run run = create_started_run(1, 1);
  const TimePoint invoked = *store().find_run(run.id)->steps[0].invoked_on;
  StepTransition retry;
  retry.step = 0;
  retry.from = {StepStatus::kRunning};
  retry.expect_attempts = 1;
  retry.to = StepStatus::kRetrying;
  retry.retried_on = sample_time(7);
  retry.error = "timeout";
  ASSERT_TRUE(store().transition_step(run.id, retry).has_value());
  // When it completes with only the completion fields set
  StepTransition done = completion(0, 1);
  done.from = {StepStatus::kRetrying};
  done.output = Json(nullptr);
  const std::optional<Run> after =
      run_of(store().transition_step(run.id, done));
  // Then the fields it did not set are as they were
  ASSERT_TRUE(after.has_value());
  const Step& step = after->steps[0];
  EXPECT_EQ(step.status, StepStatus::kCompleted);
  EXPECT_EQ(step.invoked_on, invoked);
  EXPECT_EQ(step.retried_on, sample_time(7));
  EXPECT_EQ(step.completed_on, done.completed_on);
  EXPECT_FALSE(step.failed_on.has_value());
  EXPECT_TRUE(step.output.is_null());  // set explicitly to null
}

TEST_P(StoreConformanceTest,
       StepThatSucceedsOnALaterAttemptHasNoErrorButItsEventsKeepTheFirst) {
  // Given a step whose first attempt failed with an error
  const Run run = create_started_run(1, 1);
  StepTransition retry;
  retry.step = 0;
  retry.from = {StepStatus::kRunning};
  retry.to = StepStatus::kRetrying;
  retry.error = "connection reset";
  ASSERT_TRUE(store().transition_step(run.id, retry).has_value());
  const std::optional<Run> second =
      run_of(store().transition_step(run.id, start(0, 1)));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->steps[0].error, "connection reset");  // still retrying
  // When its second attempt completes, saying nothing of errors
  const std::optional<Run> after =
      run_of(store().transition_step(run.id, completion(0, 2)));
  // Then the step shows no error, as returned and as stored
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->steps[0].error, "");
  EXPECT_EQ(store().find_run(run.id)->steps[0].error, "");
  // and the event log still tells why the first attempt failed
  EventQuery query;
  query.run_id = run.id;
  bool told = false;
  for (const Event& e : store().events(query)) {
    told = told || (e.to == "retrying" && e.detail == "connection reset");
  }
  EXPECT_TRUE(told);
}

TEST_P(StoreConformanceTest, StepTransitionCanClearTheErrorAndSetOutput) {
  const Run run = create_started_run(1, 1);
  StepTransition t = completion(0, 1);
  t.error = "";
  t.output = {{"ok", true}, {"list", {1, "two", nullptr}}};
  ASSERT_TRUE(store().transition_step(run.id, t).has_value());
  const Step step = store().find_run(run.id)->steps[0];
  EXPECT_EQ(step.error, "");
  EXPECT_EQ(step.output, *t.output);
}

TEST_P(StoreConformanceTest, DuplicateCompletionIsRejected) {
  // Given a running step
  const Run run = create_started_run(2, 1);
  const StepTransition done = completion(0, 1);
  // When the same completion is applied twice (a redelivered message)
  const std::optional<Run> first =
      run_of(store().transition_step(run.id, done));
  const std::optional<Run> second =
      run_of(store().transition_step(run.id, done));
  // Then only the first applies and only one event is logged for it
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(second.has_value());
  int completions = 0;
  for (const Event& e : store().events({})) {
    completions += e.step == 0 && e.to == "completed";
  }
  EXPECT_EQ(completions, 1);
}

TEST_P(StoreConformanceTest, StepTransitionOfUnknownRunReturnsNothing) {
  EXPECT_FALSE(store().transition_step(new_uuid(), completion(0)).has_value());
  EXPECT_TRUE(store().events({}).empty());
}

TEST_P(StoreConformanceTest, StepTransitionOfUnknownStepReturnsNothing) {
  const Run run = sample_run(2);
  store().create_run(run);
  store().queue_steps(run.id, {0, 1});
  EXPECT_FALSE(store().transition_step(run.id, start(2)).has_value());
  EXPECT_FALSE(store().transition_step(run.id, start(-1)).has_value());
  EXPECT_EQ(store().events({}).size(), 3u);  // created, queued, queued
}

TEST_P(StoreConformanceTest, StepTransitionWithNoExpectedStatusNeverApplies) {
  const Run run = sample_run(1);
  store().create_run(run);
  StepTransition t = start(0);
  t.from.clear();
  EXPECT_FALSE(store().transition_step(run.id, t).has_value());
}

TEST_P(StoreConformanceTest, QueueStepsMovesOnlyPendingStepsAndReturnsThem) {
  // Given step 0 already running, steps 1-3 pending
  const Run run = create_started_run(4, 1);
  // When steps 0, 1 and 3 are queued, 3 twice
  const std::vector<int> moved =
      store().queue_steps(run.id, {0, 1, 3, 3}).steps;
  // Then
  EXPECT_THAT(moved, ElementsAre(1, 3));
  const Run after = *store().find_run(run.id);
  EXPECT_EQ(after.steps[0].status, StepStatus::kRunning);
  EXPECT_EQ(after.steps[1].status, StepStatus::kQueued);
  EXPECT_EQ(after.steps[2].status, StepStatus::kPending);
  EXPECT_EQ(after.steps[3].status, StepStatus::kQueued);
  // And queueing again moves nothing
  EXPECT_THAT(store().queue_steps(run.id, {1, 3}).steps, IsEmpty());
}

TEST_P(StoreConformanceTest, QueueStepsOfUnknownRunMovesNothing) {
  EXPECT_THAT(store().queue_steps(new_uuid(), {0, 1}).steps, IsEmpty());
}

TEST_P(StoreConformanceTest, QueueStepsSkipsIndexesThatAreNotSteps) {
  const Run run = sample_run(2);
  store().create_run(run);
  EXPECT_THAT(store().queue_steps(run.id, {-1, 0, 5}).steps, ElementsAre(0));
  EXPECT_EQ(store().find_run(run.id)->steps[1].status, StepStatus::kPending);
}

TEST_P(StoreConformanceTest, RunTransitionAppliesOnlyFromListedStatuses) {
  // Given a running run
  const Run run = sample_run(1);
  store().create_run(run);
  RunTransition fail;
  fail.from = {RunStatus::kPending, RunStatus::kRunning};
  fail.to = RunStatus::kFailed;
  fail.error = "Step0 failed";
  // When it fails, twice
  const bool first = !store().transition_run(run.id, fail).empty();
  const bool second = !store().transition_run(run.id, fail).empty();
  // Then
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  const Run after = *store().find_run(run.id);
  EXPECT_EQ(after.status, RunStatus::kFailed);
  EXPECT_EQ(after.error, "Step0 failed");
  EXPECT_GT(after.modified_on, run.created_on);
  EXPECT_EQ(after.steps[0].status, StepStatus::kPending);  // not asked to
}

TEST_P(StoreConformanceTest, RunTransitionWithoutErrorKeepsTheOldError) {
  const Run run = sample_run(1);
  store().create_run(run);
  ASSERT_FALSE(
      store()
          .transition_run(
              run.id,
              {{RunStatus::kRunning}, RunStatus::kFailed, "boom", false})
          .empty());
  // Resume: failed -> running, error not given
  RunTransition resume;
  resume.from = {RunStatus::kFailed};
  resume.to = RunStatus::kRunning;
  ASSERT_FALSE(store().transition_run(run.id, resume).empty());
  EXPECT_EQ(store().find_run(run.id)->error, "boom");
}

TEST_P(StoreConformanceTest, CancellingARunCancelsItsUnfinishedSteps) {
  // Given steps: completed, failed, running, queued, pending
  const Run run = create_started_run(5, 3);
  ASSERT_TRUE(store().transition_step(run.id, completion(0)));
  StepTransition fail = completion(1);
  fail.to = StepStatus::kFailed;
  ASSERT_TRUE(store().transition_step(run.id, fail));
  store().queue_steps(run.id, {3});
  // When
  RunTransition cancel;
  cancel.from = {RunStatus::kRunning};
  cancel.to = RunStatus::kCancelled;
  cancel.cancel_unfinished_steps = true;
  ASSERT_FALSE(store().transition_run(run.id, cancel).empty());
  // Then
  const Run after = *store().find_run(run.id);
  EXPECT_EQ(after.status, RunStatus::kCancelled);
  EXPECT_EQ(after.steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(after.steps[1].status, StepStatus::kFailed);
  EXPECT_FALSE(after.steps[0].cancelled_on.has_value());
  for (int i = 2; i < 5; ++i) {
    EXPECT_EQ(after.steps[i].status, StepStatus::kCancelled) << "step " << i;
    ASSERT_TRUE(after.steps[i].cancelled_on.has_value()) << "step " << i;
    EXPECT_EQ(*after.steps[i].cancelled_on, after.modified_on);
  }
}

TEST_P(StoreConformanceTest, RunTransitionOfUnknownRunReturnsFalse) {
  RunTransition t;
  t.from = {RunStatus::kRunning};
  t.to = RunStatus::kCompleted;
  EXPECT_TRUE(store().transition_run(new_uuid(), t).empty());
}

}  // namespace
}  // namespace isoqube::testing
