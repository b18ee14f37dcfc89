// Rules every Store implementation applies the same way, so that the stores
// differ only in where they keep things. Internal.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

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

// The steps cancel_unfinished_steps moves to cancelled.
inline bool is_unfinished(StepStatus s) {
  return s != StepStatus::kCompleted && s != StepStatus::kFailed &&
         s != StepStatus::kCancelled;
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
  if (t.error) step.error = *t.error;
  if (t.output) step.output = *t.output;
}

// The event detail of a step transition: its own detail, else its error.
inline std::string transition_detail(const StepTransition& t) {
  if (!t.detail.empty() || !t.error) return t.detail;
  return *t.error;
}

// The detail of the events of steps cancelled with their run.
inline std::string cancelled_with_run_detail(const RunTransition& t) {
  std::string detail = "run ";
  detail += to_string(t.to);
  if (t.error && !t.error->empty()) detail += ": " + *t.error;
  return detail;
}

// An index that is not a step of the run matches no transition: a message
// naming a step that does not exist is the caller's to report.
inline bool has_step(const Run& run, int step) {
  return step >= 0 && static_cast<std::size_t>(step) < run.steps.size();
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
