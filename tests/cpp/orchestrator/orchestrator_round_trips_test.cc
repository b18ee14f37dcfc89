// What a run costs in store round trips (Store::stats()), on every kind of
// store: a step is claimed in one update and completed in one more, which
// also queues its successor and, for the last step, completes the run.
#include <gtest/gtest.h>

#include "orchestrator/orchestrator_fixture.h"

namespace isoqube {
namespace {

using testing::OrchestratorOnStoresTest;

constexpr int kSteps = 10;

class OrchestratorRoundTripTest : public OrchestratorOnStoresTest {
 protected:
  // kSteps steps one after another, on the fixture's topics in turn.
  static Configuration ten_in_a_row() {
    Configuration c;
    c.id = "cfg-ten";
    c.name = "ten";
    const char* topics[] = {"Alpha", "Beta", "Gamma", "Delta"};
    for (int i = 0; i < kSteps; ++i) {
      StepSpec s = step(topics[i % 4]);
      s.name = "Step" + std::to_string(i);
      c.steps.push_back(s);
    }
    return c;
  }
};

TEST_P(OrchestratorRoundTripTest, EachStepOfASequentialRunCostsTwoWrites) {
  // When a run of ten steps is started
  const StoreStats before_start = store_->stats();
  isoqube::Run started = orchestrator_->start_run(ten_in_a_row(), {});
  const StoreStats start = round_trips_since(before_start);
  // And its steps are claimed and completed one after another
  const StoreStats before_steps = store_->stats();
  for (int i = 0; i < kSteps; ++i) {
    Delivery d = next_delivery();
    ASSERT_EQ(ref_of(d).step, i);
    run_step(d);
  }
  const StoreStats steps = round_trips_since(before_steps);
  // Then starting took the run's creation, its first step's queueing and
  // one read of the run to return; each step a claim and a completion
  EXPECT_EQ(start.writes, 2u);
  EXPECT_EQ(start.reads, 1u);
  EXPECT_EQ(steps.writes, 2u * kSteps);
  EXPECT_EQ(steps.reads, 0u);
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
  EXPECT_TRUE(drain().empty());
}

TEST_P(OrchestratorRoundTripTest, FinalFailureOfAStepFailsItsRunInOneWrite) {
  // Given a step claimed for its only attempt
  Configuration config = ten_in_a_row();
  config.steps[0].retry.attempts = 1;
  isoqube::Run started = orchestrator_->start_run(config, {});
  auto claimed = orchestrator_->claim(ref_of(next_delivery()), false);
  ASSERT_TRUE(claimed);
  // When it fails
  const StoreStats before = store_->stats();
  EXPECT_EQ(orchestrator_->fail(*claimed, "boom", "alpha-ep"),
            Orchestrator::FailOutcome::kFailed);
  // Then the step and the run failed in one write
  const StoreStats cost = round_trips_since(before);
  EXPECT_EQ(cost.writes, 1u);
  EXPECT_EQ(cost.reads, 0u);
  const isoqube::Run failed = run(started.id);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.error, "step 'Step0' failed after 1 attempt: boom");
  EXPECT_EQ(failed.steps[0].status, StepStatus::kFailed);
}

INSTANTIATE_TEST_SUITE_P(Stores, OrchestratorRoundTripTest,
                         ::testing::ValuesIn(testing::kStoreKinds),
                         testing::store_kind_name);

}  // namespace
}  // namespace isoqube
