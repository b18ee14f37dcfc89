// Conformance: the event log, the events each change returns, and
// transitions racing on several threads.
#include <gmock/gmock.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

void append(std::vector<Event>& to, const std::vector<Event>& events) {
  to.insert(to.end(), events.begin(), events.end());
}

// Creates a run of three steps and takes step 0 through queued, running,
// retrying, running, completed, then fails the run cancelling the rest.
// `returned` gets the events every change returned, in call order.
Run drive_through_every_kind_of_event(Store& store,
                                      std::vector<Event>& returned) {
  Run run = sample_run(3);
  append(returned, store.create_run(run));
  append(returned, store.queue_steps(run.id, {0}).events);
  const auto step = [&](const StepTransition& t) {
    std::optional<AppliedStep> applied = store.transition_step(run.id, t);
    if (applied) append(returned, applied->events);
  };
  step(start(0, 0));
  StepTransition retry;
  retry.step = 0;
  retry.from = {StepStatus::kRunning};
  retry.to = StepStatus::kRetrying;
  retry.error = "connection reset";
  step(retry);
  step(start(0, 1));
  StepTransition done = completion(0, 2);
  done.detail = "DefaultIngestionConsumer";
  step(done);
  append(returned, store.queue_steps(run.id, {1}).events);
  append(returned,
         store.transition_run(
             run.id,
             {{RunStatus::kRunning}, RunStatus::kFailed, "given up", true}));
  return run;
}

Run drive_through_every_kind_of_event(Store& store) {
  std::vector<Event> returned;
  return drive_through_every_kind_of_event(store, returned);
}

TEST_P(StoreConformanceTest, EventsAreLoggedInOrderWithIncreasingSeq) {
  // When
  const Run run = drive_through_every_kind_of_event(store());
  // Then
  const std::vector<Event> events = store().events({});
  EXPECT_THAT(transitions_of(events),
              ElementsAre("-1:->running", "0:pending->queued",
                          "0:queued->running", "0:running->retrying",
                          "0:retrying->running", "0:running->completed",
                          "1:pending->queued", "-1:running->failed",
                          "1:queued->cancelled", "2:pending->cancelled"));
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].seq, events[i - 1].seq);
    EXPECT_GE(events[i].time, events[i - 1].time);
  }
  for (const Event& e : events) {
    EXPECT_EQ(e.run_id, run.id);
    EXPECT_EQ(e.step_name, e.step < 0 ? "" : run.steps[e.step].spec.name);
  }
  // The detail is the transition's own, else its error.
  EXPECT_EQ(events[3].detail, "connection reset");
  EXPECT_EQ(events[5].detail, "DefaultIngestionConsumer");
  EXPECT_EQ(events[7].detail, "given up");
  EXPECT_EQ(events[8].detail, "run failed: given up");
}

TEST_P(StoreConformanceTest, ChangesReturnEveryEventTheyLoggedOnceWithItsSeq) {
  // When
  std::vector<Event> returned;
  drive_through_every_kind_of_event(store(), returned);
  // Then
  const std::vector<Event> logged = store().events({});
  ASSERT_EQ(returned.size(), logged.size());
  for (std::size_t i = 0; i < logged.size(); ++i) {
    EXPECT_EQ(to_json(returned[i]), to_json(logged[i])) << "event " << i;
  }
}

TEST_P(StoreConformanceTest, RejectedChangesNeitherLogNorReturnEvents) {
  const Run run = sample_run(2);
  store().create_run(run);

  // Step 0 is pending; nothing to queue; the run is not pending.
  EXPECT_FALSE(store().transition_step(run.id, completion(0)).has_value());
  EXPECT_THAT(store().queue_steps(run.id, {}).events, IsEmpty());
  EXPECT_THAT(
      store().transition_run(
          run.id,
          {{RunStatus::kPending}, RunStatus::kRunning, std::nullopt, false}),
      IsEmpty());

  EXPECT_EQ(store().events({}).size(), 1u);
}

TEST_P(StoreConformanceTest, LastEventSeqIsTheNewestEventsSeq) {
  EXPECT_EQ(store().last_event_seq(), 0);
  const Run a = sample_run(2);
  store().create_run(a);
  store().queue_steps(a.id, {0, 1});
  const std::vector<Event> all = store().events({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(store().last_event_seq(), all.back().seq);
  // Nothing is after it
  EventQuery query;
  query.after_seq = store().last_event_seq();
  EXPECT_TRUE(store().events(query).empty());
}

TEST_P(StoreConformanceTest, EventsAreFilteredBySeqRunAndLimit) {
  // Given two runs with interleaved events
  const Run a = sample_run(2);
  const Run b = sample_run(2);
  store().create_run(a);
  store().create_run(b);
  store().queue_steps(a.id, {0});
  store().queue_steps(b.id, {0, 1});
  const std::vector<Event> all = store().events({});
  ASSERT_EQ(all.size(), 5u);
  // When / Then
  EventQuery query;
  query.after_seq = all[1].seq;
  EXPECT_THAT(transitions_of(store().events(query)),
              ElementsAre("0:pending->queued", "0:pending->queued",
                          "1:pending->queued"));
  query.run_id = b.id;
  const std::vector<Event> of_b = store().events(query);
  ASSERT_EQ(of_b.size(), 2u);
  EXPECT_EQ(of_b[0].seq, all[3].seq);
  EXPECT_EQ(of_b[1].seq, all[4].seq);
  query.limit = 1;
  EXPECT_EQ(store().events(query).size(), 1u);
  query = EventQuery{};
  query.after_seq = all[4].seq;
  EXPECT_TRUE(store().events(query).empty());
  query.after_seq = 0;
  query.run_id = new_uuid();
  EXPECT_TRUE(store().events(query).empty());
}

// Runs `body(thread_index)` on `n` threads released at the same moment.
void race(int n, const std::function<void(int)>& body) {
  std::promise<void> go;
  const std::shared_future<void> started = go.get_future().share();
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      started.wait();
      body(i);
    });
  }
  go.set_value();
  for (std::thread& t : threads) t.join();
}

TEST_P(StoreConformanceTest, RacingIdenticalTransitionsHaveExactlyOneWinner) {
  // Given 20 running steps
  constexpr int kSteps = 20;
  constexpr int kThreads = 8;
  const Run run = create_started_run(kSteps, kSteps);
  // When 8 threads race to complete each of them
  std::vector<std::atomic<int>> winners(kSteps);
  std::atomic<std::size_t> events_returned{0};
  race(kThreads, [&](int) {
    for (int step = 0; step < kSteps; ++step) {
      if (auto won = store().transition_step(run.id, completion(step))) {
        ++winners[step];
        events_returned += won->events.size();
      }
    }
  });
  // Then each step was completed exactly once, its event returned once
  for (int step = 0; step < kSteps; ++step) {
    EXPECT_EQ(winners[step].load(), 1) << "step " << step;
  }
  EXPECT_EQ(events_returned.load(), static_cast<std::size_t>(kSteps));
  const Run after = *store().find_run(run.id);
  for (const Step& step : after.steps) {
    EXPECT_EQ(step.status, StepStatus::kCompleted);
  }
}

TEST_P(StoreConformanceTest, RacingTransitionsOfDifferentStepsAllApply) {
  // Given
  constexpr int kThreads = 6;
  const Run run = create_started_run(kThreads, kThreads);
  // When each thread completes its own step
  std::vector<std::vector<Event>> returned(kThreads);
  race(kThreads, [&](int i) {
    if (auto applied = store().transition_step(run.id, completion(i))) {
      returned[i] = applied->events;
    }
  });
  // Then every one applied, and every event has its own seq
  std::set<int64_t> seqs;
  for (const std::vector<Event>& events : returned) {
    EXPECT_EQ(events.size(), 1u);
    for (const Event& e : events) seqs.insert(e.seq);
  }
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kThreads));
  EventQuery query;
  query.after_seq = *seqs.begin() - 1;
  std::set<int64_t> logged;
  for (const Event& e : store().events(query)) logged.insert(e.seq);
  EXPECT_EQ(logged, seqs);
}

}  // namespace
}  // namespace isoqube::testing
