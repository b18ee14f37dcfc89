// Store transitions per second: the transitions a worker makes for each
// step of a 10-step run (claim: queued -> running; finish: running ->
// completed, queueing the next step and, for the last, completing the
// run), made by THREADS threads on RUNS runs, straight on the store: no
// transport, no orchestrator, no consumers.
//
//   store_bench STORE_URI RUNS [THREADS]
//
// Prints one JSON object: transitions, seconds, transitions_per_s, and the
// store's round trips (reads, writes) per transition. Failures go to
// stderr as one line, exit status 1.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.h"
#include "isoqube/log.h"
#include "isoqube/store.h"

namespace {

constexpr int kSteps = 10;

isoqube::Run ten_step_run() {
  isoqube::Run run;
  run.id = isoqube::new_uuid();
  run.configuration_name = "bench-10";
  run.status = isoqube::RunStatus::kRunning;
  run.created_on = run.modified_on = isoqube::now();
  for (int i = 0; i < kSteps; ++i) {
    isoqube::Step step;
    step.spec.name = step.spec.topic = "BenchStep" + std::to_string(i);
    step.status =
        i == 0 ? isoqube::StepStatus::kQueued : isoqube::StepStatus::kPending;
    run.steps.push_back(step);
  }
  return run;
}

// The two transitions of step `i`, as the orchestrator makes them.
void go_through_step(isoqube::Store& store, const std::string& run_id, int i) {
  isoqube::StepTransition claim;
  claim.step = i;
  claim.from = {isoqube::StepStatus::kQueued, isoqube::StepStatus::kRetrying};
  claim.expect_attempts = 0;
  claim.to = isoqube::StepStatus::kRunning;
  claim.attempts = 1;
  claim.invoked_on = isoqube::now();
  if (!store.transition_step(run_id, claim)) {
    throw std::runtime_error("claim of step " + std::to_string(i) + " refused");
  }
  isoqube::StepTransition finish;
  finish.step = i;
  finish.from = {isoqube::StepStatus::kRunning};
  finish.expect_attempts = 1;
  finish.to = isoqube::StepStatus::kCompleted;
  finish.completed_on = finish.succeeded_on = isoqube::now();
  finish.output = nullptr;
  if (i + 1 < kSteps) {
    finish.queue = {i + 1};
  } else {
    finish.run_to = isoqube::RunStatus::kCompleted;
  }
  if (!store.transition_step(run_id, finish)) {
    throw std::runtime_error("finish of step " + std::to_string(i) +
                             " refused");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: store_bench STORE_URI RUNS [THREADS]\n";
    return 2;
  }
  isoqube::set_log_level("warning");
  const std::string uri = argv[1];
  const int runs = std::stoi(argv[2]);
  const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
  try {
    auto store = isoqube::open_store(uri);
    std::vector<std::string> ids;
    for (int i = 0; i < runs; ++i) {
      isoqube::Run run = ten_step_run();
      store->create_run(run);
      ids.push_back(run.id);
    }
    const isoqube::StoreStats before = store->stats();
    std::atomic<int> next{0};
    std::exception_ptr failure;
    std::atomic<bool> failed{false};
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        try {
          for (int r = next++; r < runs && !failed; r = next++) {
            for (int i = 0; i < kSteps; ++i) go_through_step(*store, ids[r], i);
          }
        } catch (...) {
          if (!failed.exchange(true)) failure = std::current_exception();
        }
      });
    }
    for (std::thread& t : workers) t.join();
    if (failure) std::rethrow_exception(failure);
    const double seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    const isoqube::StoreStats after = store->stats();
    const double transitions = 2.0 * kSteps * runs;
    std::printf(
        "{\"store\": \"%s\", \"runs\": %d, \"threads\": %d, "
        "\"transitions\": %.0f, \"seconds\": %.3f, "
        "\"transitions_per_s\": %.0f, \"reads_per_transition\": %.3f, "
        "\"writes_per_transition\": %.3f, \"peak_rss_mb\": %.1f}\n",
        uri.substr(0, uri.find("://")).c_str(), runs, threads, transitions,
        seconds, transitions / seconds,
        static_cast<double>(after.reads - before.reads) / transitions,
        static_cast<double>(after.writes - before.writes) / transitions,
        bench::peak_rss_mb());
  } catch (const std::exception& error) {
    std::cerr << "store_bench: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
