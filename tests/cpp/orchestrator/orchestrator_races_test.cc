// Steps finishing at the same time on real threads, on every kind of store:
// a join is queued once, a run completes once. Each round claims the
// steps first, so that every worker plans from a snapshot in which the
// others are still running, then lets all of them complete at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "orchestrator/orchestrator_fixture.h"

namespace isoqube {
namespace {

using testing::OrchestratorOnStoresTest;

constexpr int kBranches = 6;
constexpr int kRounds = 60;

// Runs every task on a thread of its own, all released at the same moment.
void at_once(const std::vector<std::function<void()>>& tasks) {
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (const auto& task : tasks) {
    threads.emplace_back([&] {
      ++ready;
      while (!go) std::this_thread::yield();
      task();
    });
  }
  while (ready < tasks.size()) std::this_thread::yield();
  go = true;
  for (std::thread& t : threads) t.join();
}

class OrchestratorRaceTest : public OrchestratorOnStoresTest {
 protected:
  // Alpha, then `branches` steps after it, then "Join" after all of them.
  static Configuration fan_in(int branches) {
    Configuration c;
    c.id = "cfg-fan-in";
    c.name = "fan-in";
    c.steps.push_back(step("Alpha"));
    std::vector<std::string> all;
    for (int i = 0; i < branches; ++i) {
      StepSpec branch = step("Beta", {{"Alpha"}});
      branch.name = "Branch" + std::to_string(i);
      all.push_back(branch.name);
      c.steps.push_back(branch);
    }
    StepSpec join = step("Delta", all);
    join.name = "Join";
    c.steps.push_back(join);
    return c;
  }

  // `count` steps that wait for nothing.
  static Configuration side_by_side(int count) {
    Configuration c;
    c.id = "cfg-side-by-side";
    c.name = "side-by-side";
    for (int i = 0; i < count; ++i) {
      StepSpec s = step("Gamma", std::vector<std::string>());
      s.name = "Side" + std::to_string(i);
      c.steps.push_back(s);
    }
    return c;
  }

  // Claims every delivery, then completes all of them at once.
  void complete_together(const std::vector<Delivery>& deliveries) {
    std::vector<ClaimedStep> claimed;
    for (const Delivery& d : deliveries) {
      auto c = orchestrator_->claim(ref_of(d), false);
      ASSERT_TRUE(c) << "could not claim " << d.envelope->message.dump();
      claimed.push_back(std::move(*c));
    }
    std::vector<std::function<void()>> tasks;
    for (const ClaimedStep& c : claimed) {
      tasks.push_back([this, &c] { orchestrator_->complete(c, nullptr); });
    }
    at_once(tasks);
  }

  // How many of the run's events moved `step` (-1: the run) to `to`.
  int count_events(const std::string& run_id, int step, const std::string& to) {
    EventQuery query;
    query.run_id = run_id;
    int n = 0;
    for (const Event& e : store_->events(query)) {
      n += e.step == step && e.to == to;
    }
    return n;
  }
};

TEST_P(OrchestratorRaceTest, BranchesFinishingTogetherQueueTheirJoinOnce) {
  const int join = kBranches + 1;
  for (int round = 0; round < kRounds; ++round) {
    // Given the branches all claimed
    isoqube::Run started = orchestrator_->start_run(fan_in(kBranches), {});
    run_step(next_delivery());
    const std::vector<Delivery> branches = drain();
    ASSERT_EQ(branches.size(), static_cast<std::size_t>(kBranches));
    // When they complete at once
    complete_together(branches);
    // Then the join was queued and published exactly once
    ASSERT_EQ(count_events(started.id, join, "queued"), 1) << "round " << round;
    const std::vector<Delivery> joins = drain();
    ASSERT_EQ(joins.size(), 1u) << "round " << round;
    EXPECT_EQ(ref_of(joins[0]).step, join);
    run_step(joins[0]);
    EXPECT_EQ(run(started.id).status, RunStatus::kCompleted);
    EXPECT_EQ(count_events(started.id, -1, "completed"), 1);
  }
}

TEST_P(OrchestratorRaceTest, LastStepsFinishingTogetherCompleteTheRunOnce) {
  for (int round = 0; round < kRounds; ++round) {
    // Given every step of a run claimed
    isoqube::Run started =
        orchestrator_->start_run(side_by_side(kBranches), {});
    const std::vector<Delivery> steps = drain();
    ASSERT_EQ(steps.size(), static_cast<std::size_t>(kBranches));
    // When they complete at once
    complete_together(steps);
    // Then the run completed exactly once, with every step
    ASSERT_EQ(count_events(started.id, -1, "completed"), 1)
        << "round " << round;
    const isoqube::Run finished = run(started.id);
    EXPECT_EQ(finished.status, RunStatus::kCompleted);
    for (const Step& s : finished.steps) {
      EXPECT_EQ(s.status, StepStatus::kCompleted);
    }
    EXPECT_TRUE(drain().empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, OrchestratorRaceTest,
                         ::testing::ValuesIn(testing::kStoreKinds),
                         testing::store_kind_name);

}  // namespace
}  // namespace isoqube
