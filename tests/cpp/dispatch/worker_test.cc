#include "dispatch/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "isoqube/consumer.h"
#include "isoqube/errors.h"
#include "support/recorded_run_events.h"
#include "support/wait.h"

namespace isoqube {
namespace {

using testing::wait_until;

class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest()
      : store_(open_store("memory://")),
        transport_(open_transport("memory://")),
        orchestrator_(*store_, *transport_, registry_, run_events_) {
    for (const char* name : {"Fetch", "Build", "Ship"}) {
      Topic t;
      t.name = name;
      registry_.add_topic(t);
    }
  }

  void add_consumer(const std::string& topic, Handler handler,
                    const std::string& service = "svc") {
    Consumer c;
    c.name = topic + "Consumer";
    c.topic = topic;
    c.service = service;
    c.handler = std::move(handler);
    registry_.add_consumer(c);
  }

  Configuration pipeline(int attempts = 1) {
    Configuration c;
    c.id = "cfg";
    c.name = "pipeline";
    for (const char* topic : {"Fetch", "Build", "Ship"}) {
      StepSpec s;
      s.topic = topic;
      s.retry.attempts = attempts;
      c.steps.push_back(s);
    }
    return c;
  }

  bool finished(const std::string& run_id) {
    return is_terminal(store_->find_run(run_id)->status);
  }

  Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Transport> transport_;
  testing::RecordedRunEvents run_events_;
  Orchestrator orchestrator_;
};

Json ok(Context& ctx) {
  return {{"step", ctx.step()}, {"attempt", ctx.attempt()}};
}

TEST_F(WorkerTest, WorkerRunsEachStepsConsumerAndCompletesTheRun) {
  add_consumer("Fetch", ok);
  add_consumer("Build", [](Context& ctx) -> Json {
    return {{"got", ctx.inputs()["Fetch"]["step"]}};
  });
  add_consumer("Ship", ok);
  Worker worker(*transport_, orchestrator_, registry_, {2, {}, 0});
  worker.start();

  isoqube::Run run = orchestrator_.start_run(pipeline(), {});

  ASSERT_TRUE(wait_until([&] { return finished(run.id); }));
  isoqube::Run done = *store_->find_run(run.id);
  EXPECT_EQ(done.status, RunStatus::kCompleted);
  EXPECT_EQ(done.steps[1].output, (Json{{"got", "Fetch"}}));
  EXPECT_EQ(worker.stats().handled, 3u);
}

TEST_F(WorkerTest, ConsumerExceptionIsRecordedAsTheStepsFailure) {
  add_consumer("Fetch", ok);
  add_consumer("Build", [](Context&) -> Json {
    throw std::runtime_error("compiler crashed");
  });
  add_consumer("Ship", ok);
  Worker worker(*transport_, orchestrator_, registry_, {2, {}, 0});
  worker.start();

  isoqube::Run run = orchestrator_.start_run(pipeline(2), {});

  ASSERT_TRUE(wait_until([&] { return finished(run.id); }));
  isoqube::Run failed = *store_->find_run(run.id);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.steps[1].attempts, 2);
  EXPECT_EQ(failed.steps[1].error, "compiler crashed");
  EXPECT_NE(failed.error.find("compiler crashed"), std::string::npos);
  EXPECT_EQ(failed.steps[2].status, StepStatus::kPending);
  EXPECT_EQ(worker.stats().failed, 2u);
  // The last attempt's message is kept where MassTransit keeps faults.
  ASSERT_TRUE(
      wait_until([&] { return !transport_->error_messages("build").empty(); }));
  auto errors = transport_->error_messages("build");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].fault.retry_count, 2);
  EXPECT_EQ(errors[0].fault.exception_type, "isoqube.ConsumerError");
  EXPECT_NE(errors[0].fault.message.find("compiler crashed"),
            std::string::npos);
  EXPECT_EQ(errors[0].envelope->correlation_id, run.id);
}

TEST_F(WorkerTest, MessageForAnUnknownRunGoesToTheErrorQueue) {
  add_consumer("Fetch", ok);
  Worker worker(*transport_, orchestrator_, registry_, {1, {}, 0});
  worker.start();
  isoqube::Run ghost;
  ghost.id = "no-such-run";
  StepSpec spec;
  spec.topic = spec.name = "Fetch";
  ghost.steps.emplace_back();
  ghost.steps.back().spec = spec;

  transport_->publish("fetch", orchestrator_.step_envelope(ghost, 0, 1));

  ASSERT_TRUE(
      wait_until([&] { return !transport_->error_messages("fetch").empty(); }));
  auto errors = transport_->error_messages("fetch");
  EXPECT_NE(errors[0].fault.message.find("no-such-run"), std::string::npos);
  EXPECT_EQ(worker.stats().rejected, 1u);
}

TEST_F(WorkerTest, MalformedStepMessageGoesToTheErrorQueue) {
  add_consumer("Fetch", ok);
  Worker worker(*transport_, orchestrator_, registry_, {1, {}, 0});
  worker.start();
  Envelope bad;
  bad.message_id = "bad-1";
  bad.message = {{"stepIndex", "three"}};

  transport_->publish("fetch", bad);

  ASSERT_TRUE(
      wait_until([&] { return !transport_->error_messages("fetch").empty(); }));
  EXPECT_EQ(transport_->error_messages("fetch")[0].envelope->message_id,
            "bad-1");
}

TEST_F(WorkerTest, MessageOutsideARunCallsItsConsumer) {
  std::atomic<int> calls{0};
  std::string seen_ingestion;
  add_consumer("Ship", [&](Context& ctx) -> Json {
    seen_ingestion = ctx.ingestion_id();
    ++calls;
    return nullptr;
  });
  Worker worker(*transport_, orchestrator_, registry_, {1, {}, 0});
  worker.start();

  orchestrator_.publish("Ship", {{"to", "prod"}}, "ext-42");

  ASSERT_TRUE(wait_until([&] { return calls == 1; }));
  EXPECT_TRUE(wait_until([&] { return transport_->stats().acked == 1; }));
  EXPECT_EQ(seen_ingestion, "ext-42");
  EXPECT_EQ(store_->count_runs(), 0u);
}

TEST_F(WorkerTest, HandlersRunInParallelUpToTheConcurrency) {
  std::mutex m;
  std::condition_variable cv;
  int inside = 0;
  bool both_inside = false;
  auto meet = [&](Context&) -> Json {
    std::unique_lock<std::mutex> lock(m);
    ++inside;
    cv.notify_all();
    both_inside =
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return inside >= 2; });
    return nullptr;
  };
  add_consumer("Fetch", meet);
  add_consumer("Build", meet);
  Worker worker(*transport_, orchestrator_, registry_, {2, {}, 0});
  worker.start();

  orchestrator_.publish("Fetch", {});
  orchestrator_.publish("Build", {});

  ASSERT_TRUE(wait_until([&] { return worker.stats().handled == 2; }));
  EXPECT_TRUE(both_inside);
}

TEST_F(WorkerTest, ServicesOptionSelectsWhichConsumersRun) {
  add_consumer("Fetch", ok, "default");
  add_consumer("Build", ok, "linux-pool");
  Worker worker(*transport_, orchestrator_, registry_, {1, {"linux-pool"}, 0});
  worker.start();

  EXPECT_EQ(worker.endpoints(), std::vector<std::string>{"build"});
  Worker none(*transport_, orchestrator_, registry_, {1, {"nobody"}, 0});
  EXPECT_THROW(none.start(), ConfigurationError);
}

TEST_F(WorkerTest, StopLetsTheHandlerInFlightFinish) {
  std::atomic<bool> entered{false}, release{false};
  add_consumer("Fetch", [&](Context&) -> Json {
    entered = true;
    while (!release) std::this_thread::yield();
    return {{"finished", true}};
  });
  add_consumer("Build", ok);
  add_consumer("Ship", ok);
  auto worker = std::make_unique<Worker>(*transport_, orchestrator_, registry_,
                                         WorkerOptions{1, {}, 0});
  worker->start();
  isoqube::Run run = orchestrator_.start_run(pipeline(), {});
  ASSERT_TRUE(wait_until([&] { return entered.load(); }));

  std::thread stopper([&] { worker->stop(); });
  ASSERT_TRUE(wait_until([&] { return !worker->running(); }));
  release = true;
  stopper.join();

  isoqube::Run after = *store_->find_run(run.id);
  EXPECT_EQ(after.steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(after.steps[1].status, StepStatus::kQueued)
      << "the next step waits in the transport for a worker";
}

TEST_F(WorkerTest, MessageOfAnotherTypeOnTheEndpointGoesToTheErrorQueue) {
  std::atomic<int> calls{0};
  add_consumer("Fetch", [&](Context&) -> Json {
    ++calls;
    return nullptr;
  });
  Worker worker(*transport_, orchestrator_, registry_, {1, {}, 0});
  worker.start();
  Envelope other;
  other.message_id = "other-1";
  other.message_type = {"urn:message:Company.Project:SubmitOrder"};
  other.message = Json::object();

  transport_->publish("fetch", other);

  ASSERT_TRUE(
      wait_until([&] { return !transport_->error_messages("fetch").empty(); }));
  const Fault fault = transport_->error_messages("fetch")[0].fault;
  EXPECT_NE(fault.message.find("urn:message:Company.Project:SubmitOrder"),
            std::string::npos);
  EXPECT_NE(fault.message.find("urn:message:Isoqube.Topics:Fetch"),
            std::string::npos);
  EXPECT_EQ(calls, 0);
}

// A transport that holds the confirms of publish_async() until told, as a
// broker does until the message is safe.
class HeldConfirmsTransport final : public Transport {
 public:
  explicit HeldConfirmsTransport(Transport& inner) : inner_(inner) {}
  std::unique_ptr<Inbox> subscribe(const std::vector<Binding>& b,
                                   std::size_t prefetch) override {
    return inner_.subscribe(b, prefetch);
  }
  void publish(const std::string& entity, Envelope e) override {
    inner_.publish(entity, std::move(e));
  }
  void publish_async(const std::string& entity, Envelope e,
                     Confirmed confirmed) override {
    inner_.publish(entity, std::move(e));
    std::lock_guard<std::mutex> lock(mutex_);
    held_.push_back(std::move(confirmed));
  }
  void send_delayed(const std::string& endpoint, Envelope e,
                    std::chrono::milliseconds delay) override {
    inner_.send_delayed(endpoint, std::move(e), delay);
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

  std::size_t held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_.size();
  }
  // Settles the oldest held confirm with `error` (nullptr: confirmed).
  void settle_oldest(std::exception_ptr error = nullptr) {
    Confirmed confirmed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      confirmed = std::move(held_.front());
      held_.erase(held_.begin());
    }
    confirmed(std::move(error));
  }

 private:
  Transport& inner_;
  std::mutex mutex_;
  std::vector<Confirmed> held_;
};

TEST_F(WorkerTest, DeliveryIsAckedOnlyOnceTheStepsItQueuedAreConfirmed) {
  HeldConfirmsTransport transport(*transport_);
  Orchestrator orchestrator(*store_, transport, registry_, run_events_);
  add_consumer("Fetch", ok);
  Worker worker(transport, orchestrator, registry_, {1, {"svc"}, 0});
  worker.start();
  // Build's endpoint: a publish that reaches no endpoint fails.
  auto build = transport_->subscribe({{"build", {"build"}}}, 10);
  isoqube::Run run = orchestrator.start_run(pipeline(), {});

  // When Fetch completes and Build is published but not yet confirmed
  ASSERT_TRUE(wait_until([&] { return transport.held() == 1; }));
  EXPECT_EQ(store_->find_run(run.id)->steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(transport_->stats().acked, 0u) << "acked before the confirm";

  // Then the confirm acks Fetch's delivery
  transport.settle_oldest();
  EXPECT_EQ(transport_->stats().acked, 1u);
}

TEST_F(WorkerTest,
       AFailedConfirmGivesTheDeliveryBackAndItsRedeliveryPublishesAgain) {
  HeldConfirmsTransport transport(*transport_);
  Orchestrator orchestrator(*store_, transport, registry_, run_events_);
  std::atomic<int> fetches{0};
  add_consumer("Fetch", [&](Context& ctx) {
    ++fetches;
    return ok(ctx);
  });
  Worker worker(transport, orchestrator, registry_, {1, {"svc"}, 0});
  worker.start();
  auto build = transport_->subscribe({{"build", {"build"}}}, 10);
  isoqube::Run run = orchestrator.start_run(pipeline(), {});
  ASSERT_TRUE(wait_until([&] { return transport.held() == 1; }));
  auto first = build->receive(std::chrono::milliseconds(5000));
  ASSERT_TRUE(first);
  first->ack();

  // When the broker refuses Build's message
  transport.settle_oldest(std::make_exception_ptr(TransportError("refused")));

  // Then Fetch's message comes back, is not run again, and publishes Build
  // again (synchronously: a redelivery takes the careful path)
  auto again = build->receive(std::chrono::milliseconds(5000));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->envelope->message["step"], "Build");
  again->ack();
  EXPECT_EQ(fetches, 1);
  EXPECT_EQ(store_->find_run(run.id)->steps[1].status, StepStatus::kQueued);
}

}  // namespace
}  // namespace isoqube
