// The Store conformance suite: one set of specifications that every Store
// implementation must meet, run once per implementation.
//
// The suite is a value-parameterized test over StoreFactory values; the
// list of factories is in store_conformance_test.cc. Adding a store kind
// is one more factory there; a kind whose server is not available is
// skipped with its reason.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "isoqube/store.h"
#include "support/scratch_folder.h"

namespace isoqube::testing {

// How the suite gets a fresh, empty store of one kind.
struct StoreFactory {
  std::string name;  // suffix of the test names, e.g. "Sqlite"
  // Why this kind cannot be tested here (e.g. no server), or empty.
  std::function<std::string()> unavailable = [] { return std::string(); };
  // Opens a fresh, empty store. `scratch` is an empty folder of its own
  // that lives until the test ends.
  std::function<std::unique_ptr<Store>(const std::string& scratch)> open;
  // Opens another handle on the store `open` made, as another writer
  // process would; null for a kind that has no way to share a store.
  std::function<std::unique_ptr<Store>(const std::string& scratch)> reopen;
  // Cleans up after a test, once its store is closed (e.g. drops the
  // test's database on a server).
  std::function<void(const std::string& scratch)> close =
      [](const std::string&) {};

  friend void PrintTo(const StoreFactory& factory, std::ostream* out) {
    *out << factory.name;
  }
};

inline std::string factory_name(
    const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

// The run a step transition returned, without its events (nullopt: it did
// not apply).
inline std::optional<Run> run_of(std::optional<AppliedStep> applied) {
  if (!applied) return std::nullopt;
  return std::move(applied->run);
}

// Each event as "step:from->to", the run's as step -1.
inline std::vector<std::string> transitions_of(
    const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    out.push_back(std::to_string(e.step) + ":" + e.from + "->" + e.to);
  }
  return out;
}

// A fixed instant with a non-zero microsecond part, so that a store that
// rounds to milliseconds or seconds fails the round-trip tests.
inline TimePoint sample_time(int64_t seconds_later = 0) {
  return from_micros(1'704'067'200'123'457 + seconds_later * 1'000'000);
}

// A run of `step_count` steps in sequence, every field set to a distinct
// value, all steps pending.
inline Run sample_run(int step_count = 3, TimePoint created = sample_time()) {
  Run run;
  run.id = new_uuid();
  run.configuration_id = "config-id-1";
  run.configuration_name = "nightly";
  run.description = "nightly build of main";
  run.ingestion_id = "ingestion-42";
  run.status = RunStatus::kRunning;
  run.created_on = created;
  run.modified_on = created;
  run.payload = {{"branch", "main"},
                 {"matrix", {20.04, 22.04, 24.04}},
                 {"nested", {{"flag", true}, {"text", "h\u00e9llo \"q\"\n"}}}};
  for (int i = 0; i < step_count; ++i) {
    Step step;
    step.spec.name = "Step" + std::to_string(i);
    step.spec.topic = "Topic" + std::to_string(i);
    step.spec.after = std::vector<std::string>();
    if (i > 0) step.spec.after->push_back("Step" + std::to_string(i - 1));
    step.spec.retry.attempts = 3;
    step.spec.retry.interval = std::chrono::milliseconds(250);
    step.spec.retry.backoff = 2.0;
    step.spec.payload = {{"index", i}};
    run.steps.push_back(std::move(step));
  }
  return run;
}

inline Configuration sample_configuration(std::string name,
                                          std::string id = new_uuid()) {
  Configuration config;
  config.id = std::move(id);
  config.name = std::move(name);
  config.description = "builds " + config.name;
  StepSpec first;
  first.name = "Ingest";
  first.topic = "DefaultSourceIngestion";
  first.after = std::vector<std::string>();
  first.payload = {{"source", "git"}};
  StepSpec second;
  second.name = "Build";
  second.topic = "LinuxUbuntu2404Build";
  second.after = std::vector<std::string>{"Ingest"};
  second.retry.attempts = 4;
  second.retry.interval = std::chrono::milliseconds(1500);
  second.retry.backoff = 1.5;
  config.steps = {first, second};
  return config;
}

// The transition a worker makes when it finishes attempt `attempts`.
inline StepTransition completion(int step, int attempts = 1) {
  StepTransition t;
  t.step = step;
  t.from = {StepStatus::kRunning};
  t.expect_attempts = attempts;
  t.to = StepStatus::kCompleted;
  t.completed_on = now();
  t.succeeded_on = t.completed_on;
  t.output = {{"step", step}};
  return t;
}

// The transition a worker makes when it starts attempt `attempts + 1`.
inline StepTransition start(int step, int attempts = 0) {
  StepTransition t;
  t.step = step;
  t.from = {StepStatus::kQueued, StepStatus::kRetrying};
  t.expect_attempts = attempts;
  t.to = StepStatus::kRunning;
  t.attempts = attempts + 1;
  t.invoked_on = now();
  return t;
}

// A sample run, stored, with its first `started_steps` steps (-1: all)
// queued and then running their first attempt.
inline Run create_started_run_in(Store& store, int step_count = 2,
                                 int started_steps = -1) {
  if (started_steps < 0) started_steps = step_count;
  Run run = sample_run(step_count);
  store.create_run(run);
  std::vector<int> indexes;
  for (int i = 0; i < started_steps; ++i) indexes.push_back(i);
  store.queue_steps(run.id, indexes);
  for (int i = 0; i < started_steps; ++i) {
    if (!store.transition_step(run.id, start(i))) {
      ADD_FAILURE() << "could not start step " << i;
    }
  }
  return run;
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  using Run = isoqube::Run;  // not ::testing::Test::Run

  void SetUp() override {
    const std::string reason = GetParam().unavailable();
    if (!reason.empty()) GTEST_SKIP() << GetParam().name << ": " << reason;
    store_ = GetParam().open(scratch_.path());
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    if (!store_) return;
    store_.reset();
    GetParam().close(scratch_.path());
  }

  Store& store() { return *store_; }

  Run create_started_run(int step_count, int started_steps) {
    return create_started_run_in(store(), step_count, started_steps);
  }

  ScratchFolder scratch_;
  std::unique_ptr<Store> store_;
};

}  // namespace isoqube::testing
