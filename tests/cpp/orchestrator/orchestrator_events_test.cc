// The orchestrator hands on every event its store changes commit: the same
// events as the store's log, in its order, on the thread that made the
// change. Run on each kind of store.
#include <gtest/gtest.h>

#include <thread>

#include "isoqube/errors.h"
#include "orchestrator/orchestrator_fixture.h"

namespace isoqube::testing {
namespace {

class OrchestratorEventsTest : public OrchestratorOnStoresTest {
 protected:
  // What the orchestrator handed on is the store's log, event for event.
  void expect_handed_on_as_logged() {
    const std::vector<Event> logged = store_->events({});
    const std::vector<Event> handed = events_.events();
    ASSERT_EQ(handed.size(), logged.size());
    for (std::size_t i = 0; i < logged.size(); ++i) {
      EXPECT_EQ(to_json(handed[i]), to_json(logged[i])) << "event " << i;
    }
  }

  // Claims the delivery's step and fails this attempt.
  void fail_step(const Delivery& d, const std::string& endpoint) {
    auto claimed = orchestrator_->claim(ref_of(d), false);
    ASSERT_TRUE(claimed) << "could not claim " << d.envelope->message.dump();
    orchestrator_->fail(*claimed, "disk full", endpoint);
  }
};

TEST_P(OrchestratorEventsTest, ARunsStartClaimsAndCompletionsAreHandedOn) {
  // When a diamond run goes from start to completion
  const isoqube::Run run = orchestrator_->start_run(diamond(), {});
  for (int i = 0; i < 4; ++i) run_step(next_delivery());
  // Then
  ASSERT_EQ(store_->find_run(run.id)->status, RunStatus::kCompleted);
  expect_handed_on_as_logged();
}

TEST_P(OrchestratorEventsTest, RetriesFailuresResumeAndCancelAreHandedOn) {
  // Given a run whose first step fails twice, the run with it
  Configuration config = sequential();
  config.steps[0].retry = {2, std::chrono::milliseconds(1), 1.0};
  const isoqube::Run run = orchestrator_->start_run(config, {});
  fail_step(next_delivery(), "alpha-ep");
  fail_step(next_delivery(), "alpha-ep");
  ASSERT_EQ(store_->find_run(run.id)->status, RunStatus::kFailed);
  // When it is resumed, then cancelled
  orchestrator_->resume(run.id);
  EXPECT_TRUE(orchestrator_->cancel(run.id));
  // Then
  expect_handed_on_as_logged();
}

TEST_P(OrchestratorEventsTest,
       ARunThatCouldNotStartHandsOnItsWayBackToPending) {
  // Given a topic nothing is subscribed to
  Topic omega;
  omega.name = "Omega";
  registry_.add_topic(omega);
  Configuration config = sequential();
  config.steps[0] = step("Omega");
  // When its run cannot publish its first step
  EXPECT_THROW(orchestrator_->start_run(config, {}), TransportError);
  // Then
  const std::vector<Event> handed = events_.events();
  ASSERT_FALSE(handed.empty());
  EXPECT_EQ(handed.back().to, "pending");
  expect_handed_on_as_logged();
}

TEST_P(OrchestratorEventsTest, EventsAreHandedOnOnTheThreadThatMadeTheChange) {
  // When every change is made on this thread
  const isoqube::Run run = orchestrator_->start_run(sequential(), {});
  run_step(next_delivery());
  orchestrator_->cancel(run.id);
  // Then
  EXPECT_EQ(events_.threads(),
            std::set<std::thread::id>{std::this_thread::get_id()});
}

INSTANTIATE_TEST_SUITE_P(Stores, OrchestratorEventsTest,
                         ::testing::ValuesIn(kStoreKinds), store_kind_name);

}  // namespace
}  // namespace isoqube::testing
