#include "orchestrator/step_outcome.h"

#include <algorithm>
#include <utility>

#include "isoqube/errors.h"

namespace isoqube::detail {
namespace {

// Every status but completed: a guard on a step the plan relied on not
// being completed. Completed is the one status that matters: a step that
// merely moved on (queued, running, retrying, failed) changes no decision.
const std::vector<StepStatus> kNotCompleted = {
    StepStatus::kPending,  StepStatus::kQueued, StepStatus::kRunning,
    StepStatus::kRetrying, StepStatus::kFailed, StepStatus::kCancelled};

constexpr int kAllMet = -1;
constexpr int kNeverMet = -2;  // names a step the run does not have

bool counts_completed(const Run& run, int index, int done) {
  return index == done || run.steps[index].status == StepStatus::kCompleted;
}

// The first dependency of `step` that is not completed (kAllMet when every
// one is), counting step `done` as completed.
int unmet_dependency(const Run& run, const Step& step, int done) {
  if (!step.spec.after) return kAllMet;
  for (const std::string& name : *step.spec.after) {
    const int index = run.step_index(name);
    if (index < 0) return kNeverMet;
    if (!counts_completed(run, index, done)) return index;
  }
  return kAllMet;
}

bool waits_for(const Run& run, const Step& step, int other) {
  const std::string& name = run.steps[other].spec.name;
  return step.spec.after &&
         std::find(step.spec.after->begin(), step.spec.after->end(), name) !=
             step.spec.after->end();
}

void guard_not_completed(StepTransition& t, int step) {
  const bool guarded = std::any_of(
      t.guards.begin(), t.guards.end(),
      [step](const StepGuard& guard) { return guard.step == step; });
  if (!guarded) t.guards.push_back({step, kNotCompleted});
}

// The first step other than `done` that is not completed, or -1.
int first_open_step(const Run& run, int done) {
  for (std::size_t i = 0; i < run.steps.size(); ++i) {
    if (!counts_completed(run, static_cast<int>(i), done)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Whether the claimed attempt still holds its step in `run`.
bool still_claimed(const Run& run, const StepTransition& t) {
  if (t.step < 0 || static_cast<std::size_t>(t.step) >= run.steps.size()) {
    return false;
  }
  const Step& step = run.steps[t.step];
  return step.attempts == t.expect_attempts &&
         std::find(t.from.begin(), t.from.end(), step.status) != t.from.end();
}

}  // namespace

std::vector<int> ready_steps(const Run& run, int done) {
  std::vector<int> ready;
  for (std::size_t i = 0; i < run.steps.size(); ++i) {
    const Step& step = run.steps[i];
    if (static_cast<int>(i) == done || step.status != StepStatus::kPending) {
      continue;
    }
    if (unmet_dependency(run, step, done) == kAllMet) {
      ready.push_back(static_cast<int>(i));
    }
  }
  return ready;
}

void plan_completion(const Run& snapshot, StepTransition& t) {
  t.queue.clear();
  t.guards.clear();
  t.run_to.reset();
  if (snapshot.status != RunStatus::kRunning) return;
  const int done = t.step;
  t.queue = ready_steps(snapshot, done);
  // A successor not ready yet is the completion of the step it still
  // waits for to queue, unless that step sees this one not completed
  // either: the guard settles which of the two it is.
  for (const Step& step : snapshot.steps) {
    if (step.status != StepStatus::kPending ||
        !waits_for(snapshot, step, done)) {
      continue;
    }
    const int unmet = unmet_dependency(snapshot, step, done);
    if (unmet >= 0) guard_not_completed(t, unmet);
  }
  // A step queued here, or one already guarded, is not completed when the
  // update applies: the run is not finished, with no further guard.
  if (!t.queue.empty() || !t.guards.empty()) return;
  const int open = first_open_step(snapshot, done);
  if (open < 0) {
    t.run_to = RunStatus::kCompleted;
  } else {
    guard_not_completed(t, open);
  }
}

void plan_failure(const Run& snapshot, const std::string& reason,
                  StepTransition& t) {
  t.run_to.reset();
  t.run_error.reset();
  if (snapshot.status != RunStatus::kRunning) return;
  t.run_to = RunStatus::kFailed;
  t.run_error = reason;
}

std::optional<RecordedOutcome> record_outcome(Store& store,
                                              const ClaimedStep& claimed,
                                              StepTransition& t,
                                              const OutcomePlan& plan) {
  // Each failed try follows another update of the run that completed or
  // queued one of its steps, or changed its status: a few per step.
  const std::size_t tries = 2 * claimed.run.steps.size() + 2;
  std::optional<Run> snapshot;  // empty: the claim's
  for (std::size_t i = 0; i < tries; ++i) {
    const Run& planned_on = snapshot ? *snapshot : claimed.run;
    plan(planned_on, t);
    const RunStatus status = planned_on.status;
    if (std::optional<AppliedStep> after =
            store.transition_step(claimed.run.id, t)) {
      return RecordedOutcome{std::move(after->run), std::move(after->events),
                             status};
    }
    snapshot = store.find_run(claimed.run.id);
    if (!snapshot || !still_claimed(*snapshot, t)) return std::nullopt;
  }
  throw StoreError("run " + claimed.run.id + ": could not record step " +
                   std::to_string(claimed.step) + " attempt " +
                   std::to_string(claimed.attempt) + " in " +
                   std::to_string(tries) +
                   " tries: the run changed under every one");
}

}  // namespace isoqube::detail
