#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "isoqube/errors.h"
#include "orchestrator/orchestrator_fixture.h"

namespace isoqube {
namespace {

using testing::OrchestratorFixture;
using OrchestratorTest = OrchestratorFixture;

TEST_F(OrchestratorTest, StartedRunIsStoredWholeAndPublishesOnlyItsFirstStep) {
  isoqube::Run started =
      orchestrator_->start_run(sequential(), {"first", "ing-1", {}});

  isoqube::Run stored = run(started.id);
  EXPECT_EQ(stored.status, RunStatus::kRunning);
  EXPECT_EQ(stored.ingestion_id, "ing-1");
  ASSERT_EQ(stored.steps.size(), 3u);
  EXPECT_EQ(stored.steps[0].status, StepStatus::kQueued);
  EXPECT_EQ(stored.steps[1].status, StepStatus::kPending);
  auto deliveries = drain();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].endpoint, "alpha-ep");
  EXPECT_EQ(deliveries[0].envelope->correlation_id, started.id);
  StepRef ref = ref_of(deliveries[0]);
  EXPECT_EQ(ref.step, 0);
  EXPECT_EQ(ref.attempt, 1);
}

TEST_F(OrchestratorTest, SequentialRunCompletesStepByStepInOrder) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});

  for (const char* endpoint : {"alpha-ep", "beta-ep", "gamma-ep"}) {
    Delivery d = next_delivery();
    EXPECT_EQ(d.endpoint, endpoint);
    run_step(d, {{"done", endpoint}});
  }

  isoqube::Run finished = run(started.id);
  EXPECT_EQ(finished.status, RunStatus::kCompleted);
  for (const Step& s : finished.steps) {
    EXPECT_EQ(s.status, StepStatus::kCompleted);
    EXPECT_EQ(s.attempts, 1);
    ASSERT_TRUE(s.invoked_on && s.completed_on && s.succeeded_on);
    EXPECT_LE(*s.invoked_on, *s.completed_on);
  }
  EXPECT_LE(*finished.steps[0].completed_on, *finished.steps[1].invoked_on);
  EXPECT_EQ(finished.steps[2].output, (Json{{"done", "gamma-ep"}}));
  EXPECT_TRUE(drain().empty());
}

TEST_F(OrchestratorTest, SameMessageDeliveredTwiceIsClaimedOnce) {
  orchestrator_->start_run(sequential(), {});
  Delivery d = next_delivery();

  auto first = orchestrator_->claim(ref_of(d), false);
  auto second = orchestrator_->claim(ref_of(d), false);

  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
}

TEST_F(OrchestratorTest, DuplicateCompletionDoesNotAdvanceRunTwice) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  auto claimed = orchestrator_->claim(ref_of(next_delivery()), false);
  ASSERT_TRUE(claimed);

  orchestrator_->complete(*claimed, nullptr);
  orchestrator_->complete(*claimed, nullptr);

  EXPECT_EQ(drain().size(), 1u) << "Beta must be published exactly once";
  EXPECT_EQ(run(started.id).steps[1].status, StepStatus::kQueued);
}

TEST_F(OrchestratorTest, MessageForAStepNotYetQueuedIsIgnored) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  drain();
  Envelope early = orchestrator_->step_envelope(started, 2, 1);

  auto claimed = orchestrator_->claim(step_ref(early), false);

  EXPECT_FALSE(claimed);
  EXPECT_EQ(run(started.id).steps[2].status, StepStatus::kPending);
}

TEST_F(OrchestratorTest, RedeliveryAfterCompletionRepublishesQueuedSuccessor) {
  // Given a step completed and its successor queued, but the successor's
  // message lost (the publisher crashed right after queueing it)
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  Delivery alpha = next_delivery();
  run_step(alpha);
  drain();
  ASSERT_EQ(run(started.id).steps[1].status, StepStatus::kQueued);

  // When the first step's message is delivered again
  auto claimed = orchestrator_->claim(ref_of(alpha), true);

  // Then nothing runs twice, but the successor is published again
  EXPECT_FALSE(claimed);
  auto again = drain();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].endpoint, "beta-ep");
  EXPECT_EQ(run(started.id).steps[0].attempts, 1);
}

TEST_F(OrchestratorTest, RedeliveredMessageOfARunningStepTakesItOver) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  Delivery d = next_delivery();
  ASSERT_TRUE(orchestrator_->claim(ref_of(d), false));

  EXPECT_FALSE(orchestrator_->claim(ref_of(d), false))
      << "a plain duplicate must not take over";
  auto taken = orchestrator_->claim(ref_of(d), true);

  ASSERT_TRUE(taken);
  orchestrator_->complete(*taken, nullptr);
  EXPECT_EQ(run(started.id).steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(run(started.id).steps[0].attempts, 1);
}

TEST_F(OrchestratorTest, FanOutPublishesBranchesAndFanInWaitsForAllOfThem) {
  isoqube::Run started = orchestrator_->start_run(diamond(), {});
  run_step(next_delivery());

  auto branches = drain();
  ASSERT_EQ(branches.size(), 2u);
  run_step(branches[0]);
  EXPECT_TRUE(drain().empty()) << "Delta must wait for both branches";
  run_step(branches[1]);

  auto join = drain();
  ASSERT_EQ(join.size(), 1u);
  EXPECT_EQ(join[0].endpoint, "delta-ep");
  run_step(join[0]);
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
}

TEST_F(OrchestratorTest, ConcurrentBranchCompletionsQueueTheJoinExactlyOnce) {
  for (int round = 0; round < 50; ++round) {
    isoqube::Run started = orchestrator_->start_run(diamond(), {});
    run_step(next_delivery());
    auto branches = drain();
    ASSERT_EQ(branches.size(), 2u);
    auto a = orchestrator_->claim(ref_of(branches[0]), false);
    auto b = orchestrator_->claim(ref_of(branches[1]), false);
    ASSERT_TRUE(a && b);

    std::thread ta([&] { orchestrator_->complete(*a, nullptr); });
    std::thread tb([&] { orchestrator_->complete(*b, nullptr); });
    ta.join();
    tb.join();

    auto join = drain();
    ASSERT_EQ(join.size(), 1u) << "round " << round;
    run_step(join[0]);
    EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
  }
}

TEST_F(OrchestratorTest, FailedAttemptIsRetriedAfterItsDelay) {
  Configuration config = sequential();
  config.steps[0].retry = {3, std::chrono::milliseconds(30), 2.0};
  isoqube::Run started = orchestrator_->start_run(config, {});
  auto claimed = orchestrator_->claim(ref_of(next_delivery()), false);

  orchestrator_->fail(*claimed, "boom", "alpha-ep");

  isoqube::Run after = run(started.id);
  EXPECT_EQ(after.steps[0].status, StepStatus::kRetrying);
  EXPECT_EQ(after.steps[0].error, "boom");
  EXPECT_TRUE(after.steps[0].retried_on);
  EXPECT_EQ(after.status, RunStatus::kRunning);
  EXPECT_FALSE(inbox_->receive(std::chrono::milliseconds(0)))
      << "the retry must wait for its interval";
  Delivery retry = next_delivery();
  EXPECT_EQ(ref_of(retry).attempt, 2);
  auto second = orchestrator_->claim(ref_of(retry), false);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempt, 2);
  EXPECT_EQ(run(started.id).steps[0].attempts, 2);
}

TEST_F(OrchestratorTest, LastFailedAttemptFailsStepAndRunWithTheReason) {
  Configuration config = sequential();
  config.steps[1].retry = {2, std::chrono::milliseconds(1), 1.0};
  isoqube::Run started = orchestrator_->start_run(config, {});
  run_step(next_delivery());

  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto claimed = orchestrator_->claim(ref_of(next_delivery()), false);
    ASSERT_TRUE(claimed);
    orchestrator_->fail(*claimed, "disk full", "beta-ep");
  }

  isoqube::Run failed = run(started.id);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.error, "step 'Beta' failed after 2 attempts: disk full");
  EXPECT_EQ(failed.steps[1].status, StepStatus::kFailed);
  EXPECT_EQ(failed.steps[1].attempts, 2);
  EXPECT_TRUE(failed.steps[1].failed_on);
  EXPECT_EQ(failed.steps[2].status, StepStatus::kPending);
  EXPECT_TRUE(drain(std::chrono::milliseconds(20)).empty());
}

TEST_F(OrchestratorTest, CancelledRunRefusesItsQueuedSteps) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  Delivery d = next_delivery();

  EXPECT_TRUE(orchestrator_->cancel(started.id));
  EXPECT_FALSE(orchestrator_->cancel(started.id));

  EXPECT_FALSE(orchestrator_->claim(ref_of(d), false));
  isoqube::Run cancelled = run(started.id);
  EXPECT_EQ(cancelled.status, RunStatus::kCancelled);
  for (const Step& s : cancelled.steps) {
    EXPECT_EQ(s.status, StepStatus::kCancelled);
    EXPECT_TRUE(s.cancelled_on);
  }
  EXPECT_TRUE(orchestrator_->is_cancelled(started.id));
}

TEST_F(OrchestratorTest, ResumeRestartsTheFailedStepAndKeepsCompletedOnes) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  run_step(next_delivery(), {{"kept", true}});
  auto claimed = orchestrator_->claim(ref_of(next_delivery()), false);
  orchestrator_->fail(*claimed, "flaky", "beta-ep");
  ASSERT_EQ(run(started.id).status, RunStatus::kFailed);

  isoqube::Run resumed = orchestrator_->resume(started.id);

  EXPECT_EQ(resumed.status, RunStatus::kRunning);
  EXPECT_EQ(resumed.error, "");
  EXPECT_EQ(resumed.steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(resumed.steps[0].output, (Json{{"kept", true}}));
  Delivery beta = next_delivery();
  EXPECT_EQ(beta.endpoint, "beta-ep");
  run_step(beta);
  run_step(next_delivery());
  EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
}

TEST_F(OrchestratorTest, ResumeOfARunningRunIsRefused) {
  isoqube::Run started = orchestrator_->start_run(sequential(), {});
  EXPECT_THROW(orchestrator_->resume(started.id), ConfigurationError);
  EXPECT_THROW(orchestrator_->resume("no-such-run"), NotFoundError);
}

TEST_F(OrchestratorTest, RerunStartsANewRunOfTheSameConfiguration) {
  isoqube::Run first =
      orchestrator_->start_run(sequential(), {"nightly", "ing", {{"k", 1}}});
  drain();

  isoqube::Run second = orchestrator_->rerun(first.id);

  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(second.configuration_id, first.configuration_id);
  EXPECT_EQ(second.ingestion_id, "ing");
  EXPECT_EQ(second.payload, (Json{{"k", 1}}));
  EXPECT_NE(second.description.find("Re-run"), std::string::npos);
  auto d = drain();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].envelope->correlation_id, second.id);
}

TEST_F(OrchestratorTest, PublishOutsideARunCreatesNoRun) {
  orchestrator_->publish("Gamma", {{"x", 1}}, "ext-7");

  Delivery d = next_delivery();
  EXPECT_EQ(d.endpoint, "gamma-ep");
  EXPECT_EQ(d.envelope->correlation_id, "");
  EXPECT_EQ(ref_of(d).step, -1);
  EXPECT_EQ(d.envelope->message["payload"], (Json{{"x", 1}}));
  EXPECT_EQ(store_->count_runs(), 0u);
  EXPECT_THROW(orchestrator_->publish("Nope", {}), NotFoundError);
}

TEST_F(OrchestratorTest, StepPayloadIsTheRunPayloadMergedWithTheStepOwn) {
  Configuration config = sequential();
  config.steps[0].payload = {{"image", "ubuntu"}};
  isoqube::Run started =
      orchestrator_->start_run(config, {"", "", {{"image", "x"}, {"n", 2}}});

  Delivery d = next_delivery();

  EXPECT_EQ(d.envelope->message["payload"],
            (Json{{"image", "ubuntu"}, {"n", 2}}));
}

TEST_F(OrchestratorTest, ConfigurationWithUnknownTopicIsRejected) {
  Configuration config = sequential();
  config.steps[1].topic = "Epsilon";
  EXPECT_THROW(orchestrator_->start_run(config, {}), ConfigurationError);
  EXPECT_EQ(store_->count_runs(), 0u);
}

// A transport whose delayed sends fail (a broker refusing the retry).
class NoRetryTransport final : public Transport {
 public:
  explicit NoRetryTransport(Transport& inner) : inner_(inner) {}
  std::unique_ptr<Inbox> subscribe(const std::vector<Binding>& b,
                                   std::size_t prefetch) override {
    return inner_.subscribe(b, prefetch);
  }
  void publish(const std::string& entity, Envelope e) override {
    inner_.publish(entity, std::move(e));
  }
  void send_delayed(const std::string&, Envelope,
                    std::chrono::milliseconds) override {
    throw TransportError("delayed queue unavailable");
  }
  std::vector<ErrorMessage> error_messages(std::string_view endpoint) override {
    return inner_.error_messages(endpoint);
  }
  void broadcast(std::string_view channel, Json message) override {
    inner_.broadcast(channel, std::move(message));
  }
  std::unique_ptr<Listening> listen(
      std::string_view channel, BroadcastsFrom from,
      std::function<void(const Json&)> on_message) override {
    return inner_.listen(channel, from, std::move(on_message));
  }
  TransportStats stats() const override { return inner_.stats(); }

 private:
  Transport& inner_;
};

TEST_F(OrchestratorTest,
       RetryThatCannotBeScheduledFailsTheStepInsteadOfHanging) {
  NoRetryTransport transport(*transport_);
  Orchestrator orchestrator(*store_, transport, registry_, events_);
  Configuration config = sequential();
  config.steps[0].retry = {3, std::chrono::milliseconds(10), 1.0};
  isoqube::Run started = orchestrator.start_run(config, {});
  auto claimed = orchestrator.claim(ref_of(next_delivery()), false);

  orchestrator.fail(*claimed, "boom", "alpha-ep");

  isoqube::Run failed = run(started.id);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.steps[0].status, StepStatus::kFailed);
  EXPECT_NE(failed.steps[0].error.find("delayed queue unavailable"),
            std::string::npos)
      << failed.steps[0].error;
}

}  // namespace
}  // namespace isoqube
