// Conformance: what each change of a run returns is the events it appended
// to the log, in their order, with their seqs (the caller hands them on).
#include <gmock/gmock.h>

#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// `returned` are the newest events of the run in the log, as logged, with
// increasing seqs.
void expect_newest_logged(Store& store, const std::string& run_id,
                          const std::vector<Event>& returned) {
  EventQuery query;
  query.run_id = run_id;
  const std::vector<Event> logged = store.events(query);
  ASSERT_GE(logged.size(), returned.size());
  const std::size_t first = logged.size() - returned.size();
  for (std::size_t i = 0; i < returned.size(); ++i) {
    EXPECT_EQ(to_json(returned[i]), to_json(logged[first + i]))
        << "event " << i;
    if (i > 0) {
      EXPECT_GT(returned[i].seq, returned[i - 1].seq) << "event " << i;
    }
  }
}

TEST_P(StoreConformanceTest, AClaimReturnsTheStepsEventWithItsDetail) {
  // Given a queued step
  const Run run = sample_run(2);
  store().create_run(run);
  store().queue_steps(run.id, {0});
  // When a worker claims it
  StepTransition claim = start(0);
  claim.detail = "on host:42";
  const std::optional<AppliedStep> claimed =
      store().transition_step(run.id, claim);
  // Then
  ASSERT_TRUE(claimed.has_value());
  ASSERT_THAT(transitions_of(claimed->events),
              ElementsAre("0:queued->running"));
  EXPECT_EQ(claimed->events[0].run_id, run.id);
  EXPECT_EQ(claimed->events[0].step_name, "Step0");
  EXPECT_EQ(claimed->events[0].detail, "on host:42");
  expect_newest_logged(store(), run.id, claimed->events);
}

TEST_P(StoreConformanceTest,
       ACompletionReturnsItsEventThenTheStepsItQueuedInQueueOrder) {
  // Given step 0 running, steps 1-3 pending
  const Run run = create_started_run(4, 1);
  // When its completion queues 3 then 1
  StepTransition done = completion(0);
  done.queue = {3, 1};
  const std::optional<AppliedStep> applied =
      store().transition_step(run.id, done);
  // Then
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(transitions_of(applied->events),
              ElementsAre("0:running->completed", "3:pending->queued",
                          "1:pending->queued"));
  expect_newest_logged(store(), run.id, applied->events);
}

TEST_P(StoreConformanceTest, TheLastCompletionReturnsTheRunsEventLast) {
  // Given the last step running
  const Run run = create_started_run(1, 1);
  // When its completion completes the run
  StepTransition done = completion(0);
  done.run_to = RunStatus::kCompleted;
  const std::optional<AppliedStep> applied =
      store().transition_step(run.id, done);
  // Then
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(transitions_of(applied->events),
              ElementsAre("0:running->completed", "-1:running->completed"));
  EXPECT_EQ(applied->run.status, RunStatus::kCompleted);
  expect_newest_logged(store(), run.id, applied->events);
}

TEST_P(StoreConformanceTest, QueueStepsReturnsAnEventPerStepMovedAsListed) {
  // Given
  const Run run = sample_run(3);
  store().create_run(run);
  // When steps 2, 0 and 2 again (and no step 7) are queued
  const QueuedSteps queued = store().queue_steps(run.id, {2, 0, 2, 7});
  // Then
  EXPECT_THAT(queued.steps, ElementsAre(2, 0));
  EXPECT_THAT(transitions_of(queued.events),
              ElementsAre("2:pending->queued", "0:pending->queued"));
  EXPECT_EQ(queued.events[0].step_name, "Step2");
  expect_newest_logged(store(), run.id, queued.events);
  // And queueing them again returns nothing
  EXPECT_THAT(store().queue_steps(run.id, {0, 2}).events, IsEmpty());
}

TEST_P(StoreConformanceTest, ARunTransitionReturnsTheRunsEventWithItsError) {
  // Given a running run
  const Run run = sample_run(2);
  store().create_run(run);
  // When it fails
  const std::vector<Event> failed = store().transition_run(
      run.id, {{RunStatus::kRunning}, RunStatus::kFailed, "boom", false});
  // Then
  ASSERT_THAT(transitions_of(failed), ElementsAre("-1:running->failed"));
  EXPECT_EQ(failed[0].detail, "boom");
  EXPECT_EQ(failed[0].step_name, "");
  expect_newest_logged(store(), run.id, failed);
}

TEST_P(StoreConformanceTest,
       CancellingARunReturnsItsEventThenEachCancelledStepInStepOrder) {
  // Given steps: completed, running, queued, pending
  const Run run = create_started_run(4, 2);
  ASSERT_TRUE(store().transition_step(run.id, completion(0)).has_value());
  store().queue_steps(run.id, {2});
  // When
  RunTransition cancel;
  cancel.from = {RunStatus::kRunning};
  cancel.to = RunStatus::kCancelled;
  cancel.cancel_unfinished_steps = true;
  const std::vector<Event> cancelled = store().transition_run(run.id, cancel);
  // Then
  EXPECT_THAT(transitions_of(cancelled),
              ElementsAre("-1:running->cancelled", "1:running->cancelled",
                          "2:queued->cancelled", "3:pending->cancelled"));
  expect_newest_logged(store(), run.id, cancelled);
}

}  // namespace
}  // namespace isoqube::testing
