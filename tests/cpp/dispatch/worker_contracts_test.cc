// What other systems send a worker: MassTransit's documented envelope and
// the seed's contracts (tests/data/), exactly as they write them, and what
// the messages a worker sends say about their cause.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <vector>

#include "dispatch/worker.h"
#include "isoqube/consumer.h"
#include "support/recorded_run_events.h"
#include "support/test_data.h"
#include "support/wait.h"

namespace isoqube {
namespace {

using testing::read_test_data;
using testing::wait_until;

constexpr char kSeedNamespace[] =
    "Isoqube.Orchestration.Core.ServiceBus.Topics";

// What a consumer saw of one delivery.
struct Seen {
  std::string run_id, step, ingestion_id;
  int attempt = 0;
  Json payload;
};

class WorkerContractsTest : public ::testing::Test {
 protected:
  WorkerContractsTest()
      : store_(open_store("memory://")),
        transport_(open_transport("memory://")),
        orchestrator_(*store_, *transport_, registry_, run_events_) {}

  void add_topic(const std::string& name, const std::string& ns,
                 const std::string& entity = "") {
    Topic t;
    t.name = name;
    t.ns = ns;
    t.entity_name = entity;
    registry_.add_topic(t);
  }

  // A consumer that records what it sees and returns `output`.
  void add_recording_consumer(const std::string& topic, Json output = nullptr) {
    Consumer c;
    c.name = topic + "Consumer";
    c.topic = topic;
    c.handler = [this, output](Context& ctx) -> Json {
      std::lock_guard<std::mutex> lock(mutex_);
      seen_.push_back({ctx.run_id(), ctx.step(), ctx.ingestion_id(),
                       ctx.attempt(), ctx.payload()});
      return output;
    };
    registry_.add_consumer(c);
  }

  void start_worker() {
    worker_.emplace(*transport_, orchestrator_, registry_,
                    WorkerOptions{2, {}, 0});
    worker_->start();
  }

  // A run of `topics`, stored with its first step queued, as a run whose
  // first message is on its way (or lost) looks.
  isoqube::Run stored_run(const std::vector<std::string>& topics) {
    Configuration config;
    config.name = "contracts";
    for (const std::string& topic : topics) {
      StepSpec spec;
      spec.topic = topic;
      config.steps.push_back(spec);
    }
    isoqube::Run run;
    run.id = new_uuid();
    run.configuration_name = config.name;
    run.ingestion_id = "ingestion-7";
    run.status = RunStatus::kRunning;
    run.created_on = run.modified_on = now();
    run.payload = {{"branch", "main"}};
    for (StepSpec& spec : normalize(config, &registry_).steps) {
      Step step;
      step.spec = std::move(spec);
      run.steps.push_back(std::move(step));
    }
    run.steps[0].status = StepStatus::kQueued;
    store_->create_run(run);
    return run;
  }

  // The seed's DefaultSourceIngestion envelope naming `correlation_id`.
  Envelope seed_ingestion(const std::string& correlation_id) {
    Envelope e = decode(read_test_data("seed/default_source_ingestion.json"));
    e.message["correlationId"] = correlation_id;
    return e;
  }

  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

  Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Transport> transport_;
  testing::RecordedRunEvents run_events_;
  Orchestrator orchestrator_;
  std::optional<Worker> worker_;
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

TEST_F(WorkerContractsTest,
       MassTransitsDocumentedEnvelopeIsHandledOutsideAnyRun) {
  add_topic("SubmitOrder", "Company.Project");
  add_recording_consumer("SubmitOrder");
  start_worker();
  const Envelope example =
      decode(read_test_data("masstransit/literal_example.json"));

  transport_->publish("submit-order", example);

  ASSERT_TRUE(wait_until([&] { return seen().size() == 1; }));
  EXPECT_EQ(seen()[0].run_id, "");
  EXPECT_EQ(seen()[0].payload, example.message);
  EXPECT_EQ(worker_->stats().handled, 1u);
  EXPECT_EQ(worker_->stats().rejected, 0u);
}

TEST_F(WorkerContractsTest,
       TheSeedsContractAdvancesTheWaitingStepOfTheRunItNames) {
  add_topic("DefaultSourceIngestion", kSeedNamespace);
  add_topic("Build", "Isoqube.Topics");
  add_recording_consumer("DefaultSourceIngestion", {{"fetched", true}});
  add_recording_consumer("Build");
  start_worker();
  const isoqube::Run run = stored_run({"DefaultSourceIngestion", "Build"});

  transport_->publish("default-source-ingestion", seed_ingestion(run.id));

  ASSERT_TRUE(wait_until([&] {
    return store_->find_run(run.id)->status == RunStatus::kCompleted;
  }));
  const isoqube::Run done = *store_->find_run(run.id);
  EXPECT_EQ(done.steps[0].output, (Json{{"fetched", true}}));
  EXPECT_EQ(done.steps[0].attempts, 1);
  const Seen first = seen()[0];
  EXPECT_EQ(first.run_id, run.id);
  EXPECT_EQ(first.step, "DefaultSourceIngestion");
  EXPECT_EQ(first.attempt, 1);
  // The run's payload, with the contract's fields over it.
  EXPECT_EQ(first.payload["branch"], "main");
  EXPECT_EQ(first.payload["correlationId"], run.id);
  EXPECT_EQ(first.payload["timestamp"], "2024-03-28T10:15:30.1234567Z");
  EXPECT_EQ(first.ingestion_id, "66053a1c9f1e4b2d8c7a5e31");
}

TEST_F(WorkerContractsTest, AContractForAStepThatWaitsForNothingIsSkipped) {
  add_topic("DefaultSourceIngestion", kSeedNamespace);
  add_recording_consumer("DefaultSourceIngestion");
  isoqube::Run run = stored_run({"DefaultSourceIngestion"});
  StepTransition done;
  done.step = 0;
  done.from = {StepStatus::kQueued};
  done.to = StepStatus::kCompleted;
  ASSERT_TRUE(store_->transition_step(run.id, done));
  start_worker();

  transport_->publish("default-source-ingestion", seed_ingestion(run.id));

  ASSERT_TRUE(wait_until([&] { return worker_->stats().skipped == 1; }));
  EXPECT_TRUE(seen().empty());
}

TEST_F(WorkerContractsTest, AContractNamingNoStoredRunIsHandledOutsideAnyRun) {
  // The seed's POST /api/init: a fresh Guid as correlation id.
  add_topic("DefaultSourceIngestion", kSeedNamespace);
  add_recording_consumer("DefaultSourceIngestion");
  start_worker();
  const Envelope init = seed_ingestion("8d0c8f5e-3b1a-4c55-9a3e-0f6f1f6b2c11");

  transport_->publish("default-source-ingestion", init);

  ASSERT_TRUE(wait_until([&] { return seen().size() == 1; }));
  EXPECT_EQ(seen()[0].run_id, "");
  EXPECT_EQ(seen()[0].payload, init.message);
  EXPECT_EQ(seen()[0].ingestion_id, "66053a1c9f1e4b2d8c7a5e31");
}

// Every message that reaches the watch endpoint, bound to `entity`.
class Watch {
 public:
  Watch(Transport& transport, const std::string& entity)
      : inbox_(transport.subscribe({{"watch-" + entity, {entity}}}, 100)) {}

  Envelope next() {
    std::optional<Delivery> d = inbox_->receive(std::chrono::seconds(20));
    if (!d) throw std::runtime_error("nothing arrived");
    d->ack();
    return *d->envelope;
  }

 private:
  std::unique_ptr<Inbox> inbox_;
};

TEST_F(WorkerContractsTest,
       AStepsSuccessorNamesTheMessageThatCompletedItAsInitiator) {
  add_topic("DefaultSourceIngestion", kSeedNamespace);
  add_topic("Build", "Isoqube.Topics");
  add_recording_consumer("DefaultSourceIngestion");
  Watch builds(*transport_, "build");
  start_worker();
  const isoqube::Run run = stored_run({"DefaultSourceIngestion", "Build"});
  const Envelope cause = seed_ingestion(run.id);

  transport_->publish("default-source-ingestion", cause);

  const Envelope next = builds.next();
  EXPECT_EQ(next.initiator_id, cause.message_id);
  EXPECT_EQ(next.correlation_id, run.id);
  EXPECT_EQ(next.conversation_id, run.id);
  EXPECT_EQ(next.source_address,
            "loopback://localhost/default-source-ingestion");
  EXPECT_EQ(next.destination_address, "loopback://localhost/build");
  for (const char* field : {"machineName", "processName", "processId",
                            "assembly", "assemblyVersion", "frameworkVersion",
                            "massTransitVersion", "operatingSystemVersion"}) {
    EXPECT_TRUE(next.host.contains(field)) << field;
  }
}

TEST_F(WorkerContractsTest, WhatAConsumerPublishesNamesTheDeliveryAsInitiator) {
  add_topic("SubmitOrder", "Company.Project");
  add_topic("Ship", "Isoqube.Topics");
  Consumer c;
  c.name = "SubmitOrderConsumer";
  c.topic = "SubmitOrder";
  c.handler = [](Context& ctx) -> Json {
    ctx.publish("Ship", {{"order", ctx.payload()["orderId"]}});
    return nullptr;
  };
  registry_.add_consumer(c);
  Watch ships(*transport_, "ship");
  start_worker();
  Envelope order = decode(read_test_data("masstransit/literal_example.json"));
  order.conversation_id = "5b1f0c7e-2a8d-4e0b-9c55-3d6e7f8a9b0c";

  transport_->publish("submit-order", order);

  const Envelope shipped = ships.next();
  EXPECT_EQ(shipped.initiator_id, order.message_id);
  EXPECT_EQ(shipped.conversation_id, order.conversation_id);
  EXPECT_EQ(shipped.correlation_id, "");
  EXPECT_TRUE(shipped.message["correlationId"].is_null());
  EXPECT_EQ(shipped.source_address, "loopback://localhost/submit-order");
  EXPECT_EQ(shipped.message["payload"]["order"], order.message["orderId"]);
}

TEST_F(WorkerContractsTest,
       AnOutputNestedTooDeepFailsTheStepAndTheWorkerGoesOn) {
  add_topic("Build", "Isoqube.Topics");
  Consumer c;
  c.name = "BuildConsumer";
  c.topic = "Build";
  c.handler = [](Context&) -> Json {
    // Built by moves: copying it would recurse 30,000 deep.
    Json deep = 1;
    for (int i = 0; i < 30000; ++i) {
      Json outer = Json::array();
      outer.push_back(std::move(deep));
      deep = std::move(outer);
    }
    return deep;
  };
  registry_.add_consumer(c);
  start_worker();
  Configuration config;
  config.name = "deep";
  StepSpec spec;
  spec.topic = "Build";
  config.steps.push_back(spec);

  const isoqube::Run run = orchestrator_.start_run(config, {});

  ASSERT_TRUE(wait_until(
      [&] { return is_terminal(store_->find_run(run.id)->status); }));
  const isoqube::Run failed = *store_->find_run(run.id);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_THAT(failed.steps[0].error,
              ::testing::HasSubstr("nests arrays and objects deeper than 64"));
}

}  // namespace
}  // namespace isoqube
