// How a worker records the outcome of a step it claimed: in one store
// update, planned from a snapshot of the run, guarded on what the plan
// relied on, and planned again from a fresh read when another update got in
// first. Internal to the orchestrator.
//
// Why guards. A plan is made from the run as the claim returned it, which
// may be as old as the handler's run time. Two workers finishing branches
// A and B at once each see the other branch still running, so without
// guards neither would queue the step C that waits for both, nor complete
// the run after its last two steps. So whenever a plan leaves something
// undone because some step is not completed, it guards that step "not
// completed". Of two such updates, the one that commits second finds its
// guard broken, plans again from a fresh read and queues C (or completes
// the run); the store applies an update whole or not at all, and queues
// only pending steps and completes only running runs, so it happens once.
//
// Thread-safety: the functions hold no state; record_outcome may be called
// from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "isoqube/run.h"
#include "isoqube/store.h"
#include "orchestrator/orchestrator.h"

namespace isoqube::detail {

// The steps of `run` that are pending and whose dependencies are all
// completed, counting step `done` (if any) as completed.
std::vector<int> ready_steps(const Run& run, int done = -1);

// Fills t.queue, t.guards and t.run_to for the completion of step t.step,
// as `snapshot` shows the run: when the run is running, the steps that
// become ready are queued, and the run completes with its last step.
// Clears them when the run is not running.
void plan_completion(const Run& snapshot, StepTransition& t);

// Sets t.run_to and t.run_error so that step t.step failing for good fails
// its run with `reason`, when `snapshot` shows the run running.
void plan_failure(const Run& snapshot, const std::string& reason,
                  StepTransition& t);

// A recorded outcome: the run right after the update, the events the
// update appended (for the caller to hand on), and the status of the run
// the applied plan was made from.
struct RecordedOutcome {
  Run run;
  std::vector<Event> events;
  RunStatus planned_on = RunStatus::kRunning;
};

using OutcomePlan = std::function<void(const Run& snapshot, StepTransition&)>;

// Applies `t` (the claimed step's own change) with what `plan` adds from
// the claim's snapshot. When the update does not apply, reads the run:
// while the claimed attempt still holds its step (in one of t.from, at
// t.expect_attempts), plans again from that read and tries again, a
// bounded number of times. Leaves in `t` the plan that applied. Returns
// nullopt when the attempt lost its step (stale or duplicate message).
// Throws StoreError when the run kept changing under every try.
std::optional<RecordedOutcome> record_outcome(Store& store,
                                              const ClaimedStep& claimed,
                                              StepTransition& t,
                                              const OutcomePlan& plan);

}  // namespace isoqube::detail
