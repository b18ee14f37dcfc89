// Conformance: step transitions that also check other steps (guards),
// queue steps and change the run's status, all in one update that applies
// whole or not at all; and the round trips a store counts.
#include <gmock/gmock.h>

#include <functional>

#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::ElementsAre;

const std::vector<StepStatus> kNotCompleted = {
    StepStatus::kPending,  StepStatus::kQueued, StepStatus::kRunning,
    StepStatus::kRetrying, StepStatus::kFailed, StepStatus::kCancelled};

// A stored run of four steps: 0 and 1 running, 2 and 3 pending (each
// waits for the one before in sample_run; the store does not look at that).
class FourSteps {
 public:
  explicit FourSteps(Store& store)
      : store_(store), run_(create_started_run_in(store, 4, 2)) {
    events_before_ = events().size();
  }

  const std::string& id() const { return run_.id; }
  std::vector<Event> events() {
    EventQuery query;
    query.run_id = run_.id;
    return store_.events(query);
  }
  // The events of the run logged since it was set up.
  std::vector<Event> new_events() {
    std::vector<Event> all = events();
    return std::vector<Event>(all.begin() + events_before_, all.end());
  }
  Json stored() { return to_json(*store_.find_run(run_.id)); }

 private:
  Store& store_;
  Run run_;
  std::size_t events_before_ = 0;
};

TEST_P(StoreConformanceTest, GuardsThatHoldLetTheUpdateApply) {
  FourSteps given(store());
  // When step 0 completes, relying on step 1 not being completed
  StepTransition t = completion(0);
  t.guards = {{1, kNotCompleted}, {2, {StepStatus::kPending}}};
  const std::optional<Run> after =
      run_of(store().transition_step(given.id(), t));
  // Then
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(after->steps[1].status, StepStatus::kRunning);  // only checked
  EXPECT_THAT(transitions_of(given.new_events()),
              ElementsAre("0:running->completed"));
}

TEST_P(StoreConformanceTest, GuardThatFailsChangesNothing) {
  FourSteps given(store());
  // Given step 1 completed meanwhile
  ASSERT_TRUE(store().transition_step(given.id(), completion(1)));
  const Json before = given.stored();
  const std::size_t events_before = given.events().size();
  // When step 0 completes relying on step 1 not being completed
  StepTransition t = completion(0);
  t.guards = {{1, kNotCompleted}};
  // Then nothing of it applies
  EXPECT_FALSE(store().transition_step(given.id(), t).has_value());
  EXPECT_EQ(given.stored(), before);
  EXPECT_EQ(given.events().size(), events_before);
}

TEST_P(StoreConformanceTest,
       GuardOnAStepThatDoesNotExistOrWithNoStatusNeverHolds) {
  FourSteps given(store());
  const Json before = given.stored();
  for (const StepGuard& guard :
       {StepGuard{4, kNotCompleted}, StepGuard{-1, kNotCompleted},
        StepGuard{1, {}}}) {
    StepTransition t = completion(0);
    t.guards = {guard};
    EXPECT_FALSE(store().transition_step(given.id(), t).has_value())
        << "guard on step " << guard.step;
  }
  EXPECT_EQ(given.stored(), before);
  EXPECT_TRUE(given.new_events().empty());
}

TEST_P(StoreConformanceTest, QueuedStepsMoveWithTheStepAndLogInOrder) {
  FourSteps given(store());
  // When step 0 completes and queues steps 3 and 2
  StepTransition t = completion(0);
  t.queue = {3, 2};
  const std::optional<Run> after =
      run_of(store().transition_step(given.id(), t));
  // Then
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->steps[2].status, StepStatus::kQueued);
  EXPECT_EQ(after->steps[3].status, StepStatus::kQueued);
  EXPECT_EQ(after->status, RunStatus::kRunning);
  EXPECT_EQ(to_json(*after), given.stored());
  const std::vector<Event> logged = given.new_events();
  EXPECT_THAT(transitions_of(logged),
              ElementsAre("0:running->completed", "3:pending->queued",
                          "2:pending->queued"));
  EXPECT_EQ(logged[1].step_name, "Step3");
  for (const Event& e : logged) EXPECT_EQ(e.time, after->modified_on);
}

TEST_P(StoreConformanceTest, QueueWithAStepThatIsNotPendingFailsWhole) {
  FourSteps given(store());
  // Given step 3 already queued by someone else
  ASSERT_THAT(store().queue_steps(given.id(), {3}).steps, ElementsAre(3));
  const Json before = given.stored();
  const std::size_t events_before = given.events().size();
  // When step 0 completes queueing steps 2 and 3
  StepTransition t = completion(0);
  t.queue = {2, 3};
  // Then neither step 0 nor step 2 changed
  EXPECT_FALSE(store().transition_step(given.id(), t).has_value());
  EXPECT_EQ(given.stored(), before);
  EXPECT_EQ(given.events().size(), events_before);
}

TEST_P(StoreConformanceTest, QueueListingAStepTwiceOrTheStepItselfFailsWhole) {
  FourSteps given(store());
  const Json before = given.stored();
  for (const std::vector<int>& queue :
       {std::vector<int>{2, 2}, std::vector<int>{2, 0}, std::vector<int>{9}}) {
    StepTransition t = completion(0);
    t.queue = queue;
    EXPECT_FALSE(store().transition_step(given.id(), t).has_value())
        << ::testing::PrintToString(queue);
  }
  EXPECT_EQ(given.stored(), before);
  EXPECT_TRUE(given.new_events().empty());
}

TEST_P(StoreConformanceTest, RunToCompletesTheRunWithItsLastStep) {
  FourSteps given(store());
  // Given every step completed but step 1
  ASSERT_TRUE(store().transition_step(given.id(), completion(0)));
  store().queue_steps(given.id(), {2, 3});
  ASSERT_TRUE(store().transition_step(given.id(), start(2)));
  ASSERT_TRUE(store().transition_step(given.id(), start(3)));
  ASSERT_TRUE(store().transition_step(given.id(), completion(2)));
  ASSERT_TRUE(store().transition_step(given.id(), completion(3)));
  const std::size_t events_before = given.events().size();
  // When step 1 completes and completes the run
  StepTransition t = completion(1);
  t.run_to = RunStatus::kCompleted;
  const std::optional<Run> after =
      run_of(store().transition_step(given.id(), t));
  // Then
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, RunStatus::kCompleted);
  EXPECT_EQ(after->error, "");
  EXPECT_EQ(to_json(*after), given.stored());
  std::vector<Event> logged = given.events();
  logged.erase(logged.begin(), logged.begin() + events_before);
  EXPECT_THAT(transitions_of(logged),
              ElementsAre("1:running->completed", "-1:running->completed"));
  EXPECT_EQ(logged[1].step_name, "");
  // And a second completion of the run is refused
  StepTransition again = completion(1);
  again.run_to = RunStatus::kCompleted;
  EXPECT_FALSE(store().transition_step(given.id(), again).has_value());
}

TEST_P(StoreConformanceTest, RunToFailedSetsTheRunsErrorAndTellsItInTheEvent) {
  FourSteps given(store());
  StepTransition t = completion(1);
  t.to = StepStatus::kFailed;
  t.error = "disk full";
  t.run_to = RunStatus::kFailed;
  t.run_error = "step 'Step1' failed after 1 attempt: disk full";
  const std::optional<Run> after =
      run_of(store().transition_step(given.id(), t));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, RunStatus::kFailed);
  EXPECT_EQ(after->error, *t.run_error);
  EXPECT_EQ(after->steps[1].error, "disk full");
  EXPECT_EQ(to_json(*after), given.stored());
  const std::vector<Event> logged = given.new_events();
  EXPECT_THAT(transitions_of(logged),
              ElementsAre("1:running->failed", "-1:running->failed"));
  EXPECT_EQ(logged[0].detail, "disk full");
  EXPECT_EQ(logged[1].detail, *t.run_error);
}

TEST_P(StoreConformanceTest, RunToRequiresARunningRun) {
  FourSteps given(store());
  // Given the run failed meanwhile (its steps left as they are)
  ASSERT_FALSE(
      store()
          .transition_run(
              given.id(),
              {{RunStatus::kRunning}, RunStatus::kFailed, "other", false})
          .empty());
  const Json before = given.stored();
  const std::size_t events_before = given.events().size();
  // When step 0 fails for good and fails the run
  StepTransition t = completion(0);
  t.to = StepStatus::kFailed;
  t.run_to = RunStatus::kFailed;
  t.run_error = "mine";
  // Then nothing applies: the step is still running
  EXPECT_FALSE(store().transition_step(given.id(), t).has_value());
  EXPECT_EQ(given.stored(), before);
  EXPECT_EQ(given.events().size(), events_before);
  // And without run_to the step alone fails
  t.run_to.reset();
  const std::optional<Run> after =
      run_of(store().transition_step(given.id(), t));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->error, "other");
}

TEST_P(StoreConformanceTest, EveryPartOfAnUpdateAppliesTogetherWithTheRest) {
  FourSteps given(store());
  // One update that changes every kind of thing, its event order
  StepTransition t = completion(0);
  t.guards = {{1, {StepStatus::kRunning}}};
  t.queue = {2, 3};
  t.run_to = RunStatus::kFailed;  // not what an orchestrator does; allowed
  t.run_error = "enough";
  const std::optional<AppliedStep> after =
      store().transition_step(given.id(), t);
  ASSERT_TRUE(after.has_value());
  const std::vector<std::string> expected = {
      "0:running->completed", "2:pending->queued", "3:pending->queued",
      "-1:running->failed"};
  const std::vector<Event> logged = given.new_events();
  EXPECT_EQ(transitions_of(logged), expected);
  ASSERT_EQ(transitions_of(after->events), expected);
  for (std::size_t i = 0; i < logged.size(); ++i) {
    EXPECT_EQ(to_json(after->events[i]), to_json(logged[i])) << "event " << i;
  }
  for (std::size_t i = 1; i < logged.size(); ++i) {
    EXPECT_GT(logged[i].seq, logged[i - 1].seq);
  }
  EXPECT_EQ(to_json(after->run), given.stored());
}

TEST_P(StoreConformanceTest,
       UpdateFailingOnAnyOneConditionLeavesEverythingAsItWas) {
  FourSteps given(store());
  // Each variant breaks exactly one condition of an otherwise valid update
  using Break = std::function<void(StepTransition&)>;
  const std::vector<std::pair<const char*, Break>> breaks = {
      {"own status", [](StepTransition& t) { t.from = {StepStatus::kQueued}; }},
      {"own attempts", [](StepTransition& t) { t.expect_attempts = 2; }},
      {"last guard",
       [](StepTransition& t) {
         t.guards.push_back({3, {StepStatus::kCompleted}});
       }},
      {"last queued step", [](StepTransition& t) { t.queue.push_back(1); }},
  };
  const Json before = given.stored();
  for (const auto& [what, break_it] : breaks) {
    StepTransition t = completion(0);
    t.guards = {{1, {StepStatus::kRunning}}};
    t.queue = {2, 3};
    t.run_to = RunStatus::kFailed;
    t.run_error = "x";
    break_it(t);
    EXPECT_FALSE(store().transition_step(given.id(), t).has_value()) << what;
    EXPECT_EQ(given.stored(), before) << what;
  }
  EXPECT_TRUE(given.new_events().empty());
}

TEST_P(StoreConformanceTest, ReadsAndWritesAreCountedAsRoundTrips) {
  FourSteps given(store());
  // Given
  const StoreStats before = store().stats();
  // When a read, then one update that changes the step, two queued steps
  // and the run, then an update that does not apply
  ASSERT_TRUE(store().find_run(given.id()).has_value());
  const StoreStats after_read = store().stats();
  StepTransition t = completion(0);
  t.guards = {{1, kNotCompleted}};
  t.queue = {2, 3};
  t.run_to = RunStatus::kFailed;
  ASSERT_TRUE(store().transition_step(given.id(), t).has_value());
  const StoreStats after_update = store().stats();
  EXPECT_FALSE(store().transition_step(given.id(), t).has_value());
  const StoreStats after_refusal = store().stats();
  // Then the read is one read, each update one write
  EXPECT_EQ(after_read.reads, before.reads + 1);
  EXPECT_EQ(after_read.writes, before.writes);
  EXPECT_EQ(after_update.reads, after_read.reads);
  EXPECT_EQ(after_update.writes, after_read.writes + 1);
  EXPECT_EQ(after_refusal.reads, after_update.reads);
  EXPECT_EQ(after_refusal.writes, after_update.writes + 1);
}

}  // namespace
}  // namespace isoqube::testing
