// A worker decides what its step's outcome changes from the run as its
// claim returned it. These specifications change the run between claim
// and outcome, one step at a time, and check that the outcome is recorded
// as if it had been decided on the run as it is.
#include <gtest/gtest.h>

#include "orchestrator/orchestrator_fixture.h"

namespace isoqube {
namespace {

using testing::OrchestratorFixture;

class OrchestratorStaleSnapshotTest : public OrchestratorFixture {
 protected:
  // Alpha -> Beta, and Gamma beside them with a single attempt.
  static Configuration with_fragile_side_step() {
    Configuration c;
    c.id = "cfg-side";
    c.name = "side";
    c.steps = {step("Alpha", std::vector<std::string>()),
               step("Beta", {{"Alpha"}}),
               step("Gamma", std::vector<std::string>())};
    c.steps[2].retry.attempts = 1;
    return c;
  }

  // Claims the first delivery to `endpoint` among `deliveries`.
  ClaimedStep claim_on(const std::vector<Delivery>& deliveries,
                       const std::string& endpoint) {
    for (const Delivery& d : deliveries) {
      if (d.endpoint != endpoint) continue;
      auto claimed = orchestrator_->claim(ref_of(d), false);
      EXPECT_TRUE(claimed) << "could not claim on " << endpoint;
      if (claimed) return *claimed;
    }
    ADD_FAILURE() << "no delivery to " << endpoint;
    return {};
  }
};

TEST_F(OrchestratorStaleSnapshotTest,
       BranchThatSawItsSiblingRunningStillQueuesTheJoin) {
  // Given both branches of a diamond claimed, so each saw the other running
  isoqube::Run started = orchestrator_->start_run(diamond(), {});
  run_step(next_delivery());
  const std::vector<Delivery> branches = drain();
  const ClaimedStep beta = claim_on(branches, "beta-ep");
  const ClaimedStep gamma = claim_on(branches, "gamma-ep");
  orchestrator_->complete(beta, nullptr);
  ASSERT_TRUE(drain().empty()) << "Delta must wait for Gamma";
  // When the other branch completes on its snapshot, where Beta is running
  const StoreStats before = store_->stats();
  orchestrator_->complete(gamma, nullptr);
  // Then its first update is refused, it reads the run and queues Delta
  const StoreStats cost = round_trips_since(before);
  EXPECT_EQ(cost.writes, 2u);
  EXPECT_EQ(cost.reads, 1u);
  const std::vector<Delivery> join = drain();
  ASSERT_EQ(join.size(), 1u);
  EXPECT_EQ(join[0].endpoint, "delta-ep");
  run_step(join[0]);
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
}

TEST_F(OrchestratorStaleSnapshotTest,
       LastStepThatSawAnotherRunningStillCompletesTheRun) {
  // Given the two steps of a run claimed side by side
  Configuration config;
  config.id = "cfg-two";
  config.name = "two";
  config.steps = {step("Alpha", std::vector<std::string>()),
                  step("Beta", std::vector<std::string>())};
  isoqube::Run started = orchestrator_->start_run(config, {});
  const std::vector<Delivery> both = drain();
  const ClaimedStep alpha = claim_on(both, "alpha-ep");
  const ClaimedStep beta = claim_on(both, "beta-ep");
  // When both complete, one after the other
  orchestrator_->complete(alpha, nullptr);
  ASSERT_EQ(run(started.id).status, RunStatus::kRunning);
  orchestrator_->complete(beta, nullptr);
  // Then the run completed, once
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
  int completions = 0;
  for (const Event& e : store_->events({})) {
    completions += e.step < 0 && e.to == "completed";
  }
  EXPECT_EQ(completions, 1);
}

TEST_F(OrchestratorStaleSnapshotTest,
       StepCompletedAfterItsRunFailedWaitsForResume) {
  // Given Alpha claimed while the run was running, then the run failed
  // with Gamma
  isoqube::Run started = orchestrator_->start_run(with_fragile_side_step(), {});
  const std::vector<Delivery> roots = drain();
  const ClaimedStep alpha = claim_on(roots, "alpha-ep");
  const ClaimedStep gamma = claim_on(roots, "gamma-ep");
  ASSERT_EQ(orchestrator_->fail(gamma, "broken", "gamma-ep"),
            Orchestrator::FailOutcome::kFailed);
  // When Alpha completes
  orchestrator_->complete(alpha, nullptr);
  // Then Alpha is completed, but Beta is not published in the failed run
  isoqube::Run failed = run(started.id);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.steps[0].status, StepStatus::kCompleted);
  EXPECT_TRUE(drain().empty());
  // And resuming publishes Beta and Gamma, and the run can finish
  orchestrator_->resume(started.id);
  const std::vector<Delivery> resumed = drain();
  ASSERT_EQ(resumed.size(), 2u);
  for (const Delivery& d : resumed) run_step(d);
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
}

TEST_F(OrchestratorStaleSnapshotTest,
       StepClaimedInAFailedRunThatWasResumedAdvancesIt) {
  // Given the run failed with Gamma, Alpha claimed in the failed run, and
  // the run resumed while Alpha runs
  isoqube::Run started = orchestrator_->start_run(with_fragile_side_step(), {});
  const std::vector<Delivery> roots = drain();
  const ClaimedStep gamma = claim_on(roots, "gamma-ep");
  ASSERT_EQ(orchestrator_->fail(gamma, "broken", "gamma-ep"),
            Orchestrator::FailOutcome::kFailed);
  const ClaimedStep alpha = claim_on(roots, "alpha-ep");
  ASSERT_EQ(alpha.run.status, RunStatus::kFailed);
  orchestrator_->resume(started.id);
  const std::vector<Delivery> gamma_again = drain();
  ASSERT_EQ(gamma_again.size(), 1u);
  // When Alpha completes
  orchestrator_->complete(alpha, nullptr);
  // Then Beta, which waited for Alpha, is published
  const std::vector<Delivery> next = drain();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].endpoint, "beta-ep");
  run_step(next[0]);
  run_step(gamma_again[0]);
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
}

TEST_F(OrchestratorStaleSnapshotTest,
       SecondFinalFailureKeepsTheRunsFirstReason) {
  // Given two steps side by side with one attempt each, both claimed
  Configuration config = with_fragile_side_step();
  config.steps[0].retry.attempts = 1;
  isoqube::Run started = orchestrator_->start_run(config, {});
  const std::vector<Delivery> roots = drain();
  const ClaimedStep alpha = claim_on(roots, "alpha-ep");
  const ClaimedStep gamma = claim_on(roots, "gamma-ep");
  ASSERT_EQ(orchestrator_->fail(gamma, "first", "gamma-ep"),
            Orchestrator::FailOutcome::kFailed);
  // When the other fails too, on a snapshot where the run was running
  const StoreStats before = store_->stats();
  EXPECT_EQ(orchestrator_->fail(alpha, "second", "alpha-ep"),
            Orchestrator::FailOutcome::kFailed);
  // Then its step failed, after one refused update and a read, and the
  // run keeps the first reason
  const StoreStats cost = round_trips_since(before);
  EXPECT_EQ(cost.writes, 2u);
  EXPECT_EQ(cost.reads, 1u);
  const isoqube::Run failed = run(started.id);
  EXPECT_EQ(failed.steps[0].status, StepStatus::kFailed);
  EXPECT_EQ(failed.steps[0].error, "second");
  EXPECT_EQ(failed.error, "step 'Gamma' failed after 1 attempt: first");
}

}  // namespace
}  // namespace isoqube
