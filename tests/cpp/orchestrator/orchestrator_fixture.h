// A store and a memory transport with four topics, and an inbox on all of
// them, so tests can drive the orchestrator by hand, one delivery at a time.
// The store is a memory one, or for OrchestratorOnStoresTest each kind in
// turn.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "orchestrator/orchestrator.h"
#include "support/recorded_run_events.h"
#include "support/scratch_folder.h"

namespace isoqube::testing {

class OrchestratorFixture : public ::testing::Test {
 protected:
  OrchestratorFixture() : OrchestratorFixture("memory") {}
  // `store_kind`: "memory", or "sqlite" for a file in a folder of its own.
  explicit OrchestratorFixture(const std::string& store_kind)
      : store_(open_store(store_kind == "sqlite"
                              ? "sqlite://" + scratch_.path() + "/isoqube.db"
                              : "memory://")),
        transport_(open_transport("memory://")) {
    for (const char* name : {"Alpha", "Beta", "Gamma", "Delta"}) {
      Topic topic;
      topic.name = name;
      topic.description = std::string("topic ") + name;
      registry_.add_topic(topic);
    }
    orchestrator_ = std::make_unique<Orchestrator>(*store_, *transport_,
                                                   registry_, events_);
    inbox_ = transport_->subscribe({{"alpha-ep", {"alpha"}},
                                    {"beta-ep", {"beta"}},
                                    {"gamma-ep", {"gamma"}},
                                    {"delta-ep", {"delta"}}},
                                   1000);
  }

  static StepSpec step(
      const std::string& topic,
      std::optional<std::vector<std::string>> after = std::nullopt) {
    StepSpec s;
    s.topic = topic;
    s.name = topic;
    s.after = std::move(after);
    return s;
  }

  // Alpha -> Beta -> Gamma.
  static Configuration sequential() {
    Configuration c;
    c.id = "cfg-seq";
    c.name = "sequential";
    c.steps = {step("Alpha"), step("Beta"), step("Gamma")};
    return c;
  }

  // Alpha -> (Beta, Gamma) -> Delta.
  static Configuration diamond() {
    Configuration c;
    c.id = "cfg-diamond";
    c.name = "diamond";
    c.steps = {step("Alpha"), step("Beta", {{"Alpha"}}),
               step("Gamma", {{"Alpha"}}), step("Delta", {{"Beta", "Gamma"}})};
    return c;
  }

  // Every delivery available now (or within a short grace for delayed ones).
  std::vector<Delivery> drain(
      std::chrono::milliseconds grace = std::chrono::milliseconds(0)) {
    std::vector<Delivery> out;
    while (auto d = inbox_->receive(grace)) {
      d->ack();
      out.push_back(std::move(*d));
    }
    return out;
  }

  // Receives exactly one delivery, failing the test otherwise.
  Delivery next_delivery() {
    auto d = inbox_->receive(std::chrono::milliseconds(5000));
    EXPECT_TRUE(d) << "expected a delivery";
    if (!d) return {};
    d->ack();
    return std::move(*d);
  }

  static StepRef ref_of(const Delivery& d) { return step_ref(*d.envelope); }

  // Claims and completes the step of a delivery.
  void run_step(const Delivery& d, Json output = nullptr) {
    auto claimed = orchestrator_->claim(ref_of(d), false);
    ASSERT_TRUE(claimed) << "could not claim " << d.envelope->message.dump();
    orchestrator_->complete(*claimed, std::move(output));
  }

  isoqube::Run run(const std::string& id) {
    return store_->find_run(id).value();
  }

  // The store's round trips since it counted `before`.
  StoreStats round_trips_since(const StoreStats& before) const {
    const StoreStats now = store_->stats();
    return {now.reads - before.reads, now.writes - before.writes};
  }

  ScratchFolder scratch_;  // before store_, which may keep a file in it
  Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Transport> transport_;
  RecordedRunEvents events_;  // what orchestrator_ hands on
  std::unique_ptr<Orchestrator> orchestrator_;
  std::unique_ptr<Inbox> inbox_;
};

// The fixture with each kind of store in turn: a test file derives its own
// suite from it and instantiates it with kStoreKinds.
class OrchestratorOnStoresTest
    : public OrchestratorFixture,
      public ::testing::WithParamInterface<std::string> {
 protected:
  OrchestratorOnStoresTest() : OrchestratorFixture(GetParam()) {}
};

inline const std::vector<std::string> kStoreKinds = {"memory", "sqlite"};

inline std::string store_kind_name(
    const ::testing::TestParamInfo<std::string>& info) {
  return info.param == "sqlite" ? "Sqlite" : "Memory";
}

}  // namespace isoqube::testing
