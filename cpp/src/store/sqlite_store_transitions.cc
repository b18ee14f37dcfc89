// SqliteStore's compare-and-set updates of steps and runs, and the events
// they append. Whether an update applies is decided on the cached run by
// the rules every store shares (store_rules.h); the SQL then repeats each
// expectation in its WHERE clause, so that a cache that disagrees with the
// file is caught (StaleCache) instead of written over.
#include <string>
#include <utility>

#include "store/sqlite_codec.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "store/store_rules.h"

namespace isoqube::detail {

std::optional<AppliedStep> SqliteStore::transition_step(
    std::string_view run_id, const StepTransition& t) {
  std::optional<AppliedStep> result;
  write("transition_step", [&] { result = transition_step_locked(run_id, t); });
  return result;
}

std::optional<AppliedStep> SqliteStore::transition_step_locked(
    std::string_view run_id, const StepTransition& t) {
  Run* run = run_locked(run_id);
  if (run == nullptr || !step_update_matches(*run, t)) return std::nullopt;
  check_guards_locked(run_id, *run, t.guards);
  std::vector<StatusChange> changes = step_update_changes(*run, t);
  const TimePoint time = now();
  std::optional<std::string> output;
  if (t.output) output = encode_output(*t.output);
  {
    const Step& step = run->steps[t.step];
    StatementUse update = db_->prepare(kUpdateStep);
    bind_step_update(*update, run_id, step.status, step.attempts, t, output);
    update->run();
  }
  if (db_->changes() != 1) throw StaleCache();
  for (int index : t.queue) queue_step_locked(run_id, index);
  if (t.run_to) {
    update_run_status_locked(run_id, run->status, *t.run_to, t.run_error, time);
  } else {
    touch_run_locked(run_id, time);
  }
  std::vector<Event> events;
  events.reserve(changes.size());
  for (StatusChange& change : changes) {
    events.push_back(append_change_locked(*run, std::move(change), time));
  }
  apply_step_update(*run, t, time);
  // Cached as a read of the column would return it.
  if (output) run->steps[t.step].output = decode_output(*output);
  return AppliedStep{*run, std::move(events)};
}

// The cached run and the file agree on every step a guard names (the
// cache is checked at BEGIN, so a difference means a bug or a file changed
// by hand; either way the transaction is tried again on a fresh read).
void SqliteStore::check_guards_locked(std::string_view run_id, const Run& run,
                                      const std::vector<StepGuard>& guards) {
  for (const StepGuard& guard : guards) {
    StatementUse select = db_->prepare(kSelectStepState);
    select->bind(1, run_id);
    select->bind(2, static_cast<int64_t>(guard.step));
    if (!select->step() ||
        select->text(1) != to_string(run.steps[guard.step].status)) {
      throw StaleCache();
    }
  }
}

QueuedSteps SqliteStore::queue_steps(std::string_view run_id,
                                     const std::vector<int>& steps) {
  QueuedSteps queued;
  write("queue_steps", [&] {
    queued = QueuedSteps();
    Run* run = run_locked(run_id);
    if (run == nullptr) return;
    const TimePoint time = now();
    for (int index : steps) {
      // Not a step, or not pending (also when listed twice).
      if (!has_step(*run, index)) continue;
      Step& step = run->steps[index];
      if (step.status != StepStatus::kPending) continue;
      queue_step_locked(run_id, index);
      step.status = StepStatus::kQueued;
      queued.steps.push_back(index);
      queued.events.push_back(append_event_locked(run_id, index, step.spec.name,
                                                  "pending", "queued", time,
                                                  std::string()));
    }
    if (queued.steps.empty()) return;
    touch_run_locked(run_id, time);
    run->modified_on = time;
  });
  return queued;
}

void SqliteStore::queue_step_locked(std::string_view run_id, int index) {
  {
    StatementUse update = db_->prepare(kQueueStep);
    update->bind(1, run_id);
    update->bind(2, static_cast<int64_t>(index));
    update->run();
  }
  if (db_->changes() != 1) throw StaleCache();
}

std::vector<Event> SqliteStore::transition_run(std::string_view run_id,
                                               const RunTransition& t) {
  std::vector<Event> events;
  write("transition_run", [&] {
    events.clear();
    Run* run = run_locked(run_id);
    if (run == nullptr || !run_transition_matches(run->status, t)) return;
    const TimePoint time = now();
    update_run_status_locked(run_id, run->status, t.to, t.error, time);
    events.push_back(append_event_locked(
        run_id, -1, std::string(), to_string(run->status), to_string(t.to),
        time, t.error.value_or(std::string())));
    run->status = t.to;
    if (t.error) run->error = *t.error;
    run->modified_on = time;
    if (t.cancel_unfinished_steps) {
      cancel_unfinished_steps_locked(*run, time, cancelled_with_run_detail(t),
                                     events);
    }
  });
  return events;
}

void SqliteStore::update_run_status_locked(
    std::string_view run_id, RunStatus from, RunStatus to,
    const std::optional<std::string>& error, TimePoint time) {
  {
    StatementUse update = db_->prepare(kUpdateRunStatus);
    update->bind(1, run_id);
    update->bind(2, to_string(to));
    update->bind(3, error);
    update->bind(4, to_micros(time));
    update->bind(5, to_string(from));
    update->run();
  }
  if (db_->changes() != 1) throw StaleCache();
}

void SqliteStore::cancel_unfinished_steps_locked(Run& run, TimePoint time,
                                                 const std::string& detail,
                                                 std::vector<Event>& events) {
  for (std::size_t i = 0; i < run.steps.size(); ++i) {
    Step& step = run.steps[i];
    if (!is_unfinished(step.status)) continue;
    const std::string_view from = to_string(step.status);
    {
      StatementUse update = db_->prepare(kCancelStep);
      update->bind(1, run.id);
      update->bind(2, static_cast<int64_t>(i));
      update->bind(3, to_micros(time));
      update->bind(4, from);
      update->run();
    }
    if (db_->changes() != 1) throw StaleCache();
    events.push_back(append_event_locked(run.id, static_cast<int>(i),
                                         step.spec.name, from, "cancelled",
                                         time, detail));
    step.status = StepStatus::kCancelled;
    step.cancelled_on = time;
  }
}

Event SqliteStore::append_change_locked(const Run& run, StatusChange change,
                                        TimePoint time) {
  const bool is_run = change.step < 0;
  return append_event_locked(
      run.id, change.step,
      is_run ? std::string() : run.steps[change.step].spec.name,
      status_word(is_run, change.from), status_word(is_run, change.to), time,
      std::move(change.detail));
}

}  // namespace isoqube::detail
