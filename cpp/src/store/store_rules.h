// Rules every Store implementation applies the same way, so that the stores
// differ only in where they keep things. Internal.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/errors.h"
#include "isoqube/store.h"

namespace isoqube::detail {

// Whether `t` applies to a step in this state.
inline bool transition_matches(StepStatus status, int attempts,
                               const StepTransition& t) {
  return std::find(t.from.begin(), t.from.end(), status) != t.from.end() &&
         (t.expect_attempts < 0 || t.expect_attempts == attempts);
}

inline bool run_transition_matches(RunStatus status, const RunTransition& t) {
  return std::find(t.from.begin(), t.from.end(), status) != t.from.end();
}

// An index that is not a step of the run matches no transition: a message
// naming a step that does not exist is the caller's to report.
inline bool has_step(const Run& run, int step) {
  return step >= 0 && static_cast<std::size_t>(step) < run.steps.size();
}

// The steps cancel_unfinished_steps moves to cancelled.
inline bool is_unfinished(StepStatus s) {
  return s != StepStatus::kCompleted && s != StepStatus::kFailed &&
         s != StepStatus::kCancelled;
}

// The error a transition writes, if any: its own, else none at all when
// the step completes (a failure of an earlier attempt is not the error of
// a step that succeeded; its events keep it).
inline std::optional<std::string> written_error(const StepTransition& t) {
  if (!t.error && t.to == StepStatus::kCompleted) return std::string();
  return t.error;
}

// Applies `t` to the step it matched: what every store's update writes.
inline void apply_step_transition(Step& step, const StepTransition& t) {
  auto set_if = [](std::optional<TimePoint>& field,
                   const std::optional<TimePoint>& value) {
    if (value) field = value;
  };
  step.status = t.to;
  if (t.attempts >= 0) step.attempts = t.attempts;
  set_if(step.invoked_on, t.invoked_on);
  set_if(step.completed_on, t.completed_on);
  set_if(step.succeeded_on, t.succeeded_on);
  set_if(step.failed_on, t.failed_on);
  set_if(step.retried_on, t.retried_on);
  set_if(step.cancelled_on, t.cancelled_on);
  if (auto error = written_error(t)) step.error = std::move(*error);
  if (t.output) step.output = *t.output;
}

// The event detail of a step transition: its own detail, else its error.
inline std::string transition_detail(const StepTransition& t) {
  if (!t.detail.empty() || !t.error) return t.detail;
  return *t.error;
}

inline bool guard_holds(const Run& run, const StepGuard& guard) {
  return has_step(run, guard.step) &&
         std::find(guard.any_of.begin(), guard.any_of.end(),
                   run.steps[guard.step].status) != guard.any_of.end();
}

// Whether the steps `t` queues are each listed once and not `t`'s own: the
// part of queue_matches that needs no run. A step listed twice or the own
// step makes the whole update not apply, as it would not be pending the
// second time (and a database update naming one field twice is refused).
inline bool queue_is_well_formed(const StepTransition& t) {
  for (std::size_t i = 0; i < t.queue.size(); ++i) {
    const int index = t.queue[i];
    if (index == t.step || std::find(t.queue.begin(), t.queue.begin() + i,
                                     index) != t.queue.begin() + i) {
      return false;
    }
  }
  return true;
}

// Whether every step `t` queues can be queued: well formed, and each a
// pending step of the run.
inline bool queue_matches(const Run& run, const StepTransition& t) {
  if (!queue_is_well_formed(t)) return false;
  return std::all_of(t.queue.begin(), t.queue.end(), [&](int index) {
    return has_step(run, index) &&
           run.steps[index].status == StepStatus::kPending;
  });
}

// Whether the whole of `t` applies to `run`: its own step's status and
// attempts, every guard, every step to queue, and with run_to a running
// run. When it does not, nothing of it applies.
inline bool step_update_matches(const Run& run, const StepTransition& t) {
  if (!has_step(run, t.step)) return false;
  const Step& step = run.steps[t.step];
  if (!transition_matches(step.status, step.attempts, t)) return false;
  for (const StepGuard& guard : t.guards) {
    if (!guard_holds(run, guard)) return false;
  }
  if (!queue_matches(run, t)) return false;
  return !t.run_to || run.status == RunStatus::kRunning;
}

// One status change made by a step update, as its event tells it.
struct StatusChange {
  int step;  // -1: the run
  int from;  // status code (StepStatus, or RunStatus for the run)
  int to;
  std::string detail;
};

// The word of a status code of StatusChange; "" for -1 (a creation).
inline std::string_view status_word(bool is_run, int code) {
  if (code < 0) return std::string_view();
  return is_run ? to_string(static_cast<RunStatus>(code))
                : to_string(static_cast<StepStatus>(code));
}

// The changes `t` makes to `run` (which it matches), in the order of their
// events: the step's own, one per queued step, then the run's.
inline std::vector<StatusChange> step_update_changes(const Run& run,
                                                     const StepTransition& t) {
  std::vector<StatusChange> changes;
  changes.reserve(1 + t.queue.size() + (t.run_to ? 1 : 0));
  changes.push_back({t.step, static_cast<int>(run.steps[t.step].status),
                     static_cast<int>(t.to), transition_detail(t)});
  for (int index : t.queue) {
    changes.push_back({index, static_cast<int>(StepStatus::kPending),
                       static_cast<int>(StepStatus::kQueued), std::string()});
  }
  if (t.run_to) {
    changes.push_back({-1, static_cast<int>(run.status),
                       static_cast<int>(*t.run_to),
                       t.run_error.value_or(std::string())});
  }
  return changes;
}

// Applies `t` (which matches) to `run` at `time`: the step, the steps it
// queues, the run's status and error, and the run's modified time.
inline void apply_step_update(Run& run, const StepTransition& t,
                              TimePoint time) {
  apply_step_transition(run.steps[t.step], t);
  for (int index : t.queue) run.steps[index].status = StepStatus::kQueued;
  if (t.run_to) {
    run.status = *t.run_to;
    if (t.run_error) run.error = *t.run_error;
  }
  run.modified_on = time;
}

// The detail of the events of steps cancelled with their run.
inline std::string cancelled_with_run_detail(const RunTransition& t) {
  std::string detail = "run ";
  detail += to_string(t.to);
  if (t.error && !t.error->empty()) detail += ": " + *t.error;
  return detail;
}

inline void check_run_id(const Run& run) {
  if (run.id.empty()) {
    throw ConfigurationError("cannot store a run without an id");
  }
}

inline void check_configuration_id(const Configuration& config) {
  if (config.id.empty()) {
    throw ConfigurationError("cannot store configuration '" + config.name +
                             "' without an id");
  }
}

[[noreturn]] inline void throw_duplicate_configuration_name(
    const std::string& name, const std::string& other_id) {
  throw ConfigurationError("a configuration named '" + name +
                           "' already exists (id " + other_id +
                           "); choose another name");
}

[[noreturn]] inline void throw_duplicate_run(const std::string& id) {
  throw ConfigurationError("a run with id '" + id +
                           "' already exists; give the new run its own id");
}

}  // namespace isoqube::detail
