#include "store/memory_store.h"

#include <utility>

#include "store/store_rules.h"

namespace isoqube::detail {
namespace {

bool matches_query(const Run& run, const RunQuery& query) {
  if (query.status && run.status != *query.status) return false;
  return query.configuration.empty() ||
         run.configuration_id == query.configuration ||
         run.configuration_name == query.configuration;
}

}  // namespace

void MemoryStore::save_configuration(const Configuration& config) {
  ++writes_;
  check_configuration_id(config);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto named = configuration_ids_.find(config.name);
  if (named != configuration_ids_.end() && named->second != config.id) {
    throw_duplicate_configuration_name(config.name, named->second);
  }
  const auto old = configurations_.find(config.id);
  if (old != configurations_.end()) configuration_ids_.erase(old->second.name);
  configurations_.insert_or_assign(config.id, config);
  configuration_ids_.insert_or_assign(config.name, config.id);
}

std::optional<Configuration> MemoryStore::find_configuration(
    std::string_view id_or_name) {
  ++reads_;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = configurations_.find(id_or_name);
  if (it == configurations_.end()) {
    const auto named = configuration_ids_.find(id_or_name);
    if (named == configuration_ids_.end()) return std::nullopt;
    it = configurations_.find(named->second);
  }
  return it->second;
}

std::vector<Configuration> MemoryStore::list_configurations() {
  ++reads_;
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Configuration> out;
  out.reserve(configuration_ids_.size());
  for (const auto& [name, id] : configuration_ids_) {
    out.push_back(configurations_.at(id));
  }
  return out;
}

std::vector<Event> MemoryStore::create_run(const Run& run) {
  ++writes_;
  check_run_id(run);
  auto stored = std::make_unique<StoredRun>(run);
  std::lock_guard<std::mutex> lock(mutex_);
  StoredRun* kept = stored.get();
  if (!runs_.try_emplace(kept->run.id, std::move(stored)).second) {
    throw_duplicate_run(run.id);
  }
  runs_by_age_.emplace(
      std::make_pair(kept->run.created_on, runs_by_age_.size()), kept);
  // Logged before the maps are released: no transition of the run can be
  // logged before its creation.
  return {log(kept->run, -1, -1, static_cast<int>(kept->run.status), now(),
              std::string())};
}

std::optional<Run> MemoryStore::find_run(std::string_view id) {
  ++reads_;
  StoredRun* stored = find_stored(id);
  if (stored == nullptr) return std::nullopt;
  std::lock_guard<std::mutex> lock(stored->mutex);
  return stored->run;
}

std::vector<Run> MemoryStore::list_runs(const RunQuery& query) {
  ++reads_;
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Run> out;
  std::size_t skipped = 0;
  for (auto it = runs_by_age_.rbegin();
       it != runs_by_age_.rend() && out.size() < query.limit; ++it) {
    std::lock_guard<std::mutex> run_lock(it->second->mutex);
    const Run& run = it->second->run;
    if (!matches_query(run, query)) continue;
    if (skipped++ < query.offset) continue;
    out.push_back(run);
  }
  return out;
}

std::size_t MemoryStore::count_runs() {
  ++reads_;
  std::lock_guard<std::mutex> lock(mutex_);
  return runs_.size();
}

std::optional<AppliedStep> MemoryStore::transition_step(
    std::string_view run_id, const StepTransition& t) {
  ++writes_;
  StoredRun* stored = find_stored(run_id);
  if (stored == nullptr) return std::nullopt;
  std::lock_guard<std::mutex> lock(stored->mutex);
  Run& run = stored->run;
  if (!step_update_matches(run, t)) return std::nullopt;
  std::vector<StatusChange> changes = step_update_changes(run, t);
  const TimePoint time = now();
  apply_step_update(run, t, time);
  std::vector<Event> events;
  events.reserve(changes.size());
  for (StatusChange& change : changes) {
    events.push_back(log(run, change.step, change.from, change.to, time,
                         std::move(change.detail)));
  }
  // The one copy of the run: the caller's snapshot.
  return AppliedStep{run, std::move(events)};
}

QueuedSteps MemoryStore::queue_steps(std::string_view run_id,
                                     const std::vector<int>& steps) {
  ++writes_;
  QueuedSteps queued;
  StoredRun* stored = find_stored(run_id);
  if (stored == nullptr) return queued;
  std::lock_guard<std::mutex> lock(stored->mutex);
  Run& run = stored->run;
  const TimePoint time = now();
  for (int index : steps) {
    if (!has_step(run, index)) continue;
    Step& step = run.steps[index];
    if (step.status != StepStatus::kPending) continue;
    step.status = StepStatus::kQueued;
    queued.steps.push_back(index);
    queued.events.push_back(
        log(run, index, static_cast<int>(StepStatus::kPending),
            static_cast<int>(StepStatus::kQueued), time, std::string()));
  }
  if (!queued.steps.empty()) run.modified_on = time;
  return queued;
}

std::vector<Event> MemoryStore::transition_run(std::string_view run_id,
                                               const RunTransition& t) {
  ++writes_;
  std::vector<Event> events;
  StoredRun* stored = find_stored(run_id);
  if (stored == nullptr) return events;
  std::lock_guard<std::mutex> lock(stored->mutex);
  Run& run = stored->run;
  if (!run_transition_matches(run.status, t)) return events;
  const TimePoint time = now();
  const int from = static_cast<int>(run.status);
  run.status = t.to;
  if (t.error) run.error = *t.error;
  run.modified_on = time;
  events.push_back(log(run, -1, from, static_cast<int>(t.to), time,
                       t.error.value_or(std::string())));
  if (!t.cancel_unfinished_steps) return events;
  const std::string detail = cancelled_with_run_detail(t);
  for (std::size_t i = 0; i < run.steps.size(); ++i) {
    Step& step = run.steps[i];
    if (!is_unfinished(step.status)) continue;
    const int step_from = static_cast<int>(step.status);
    step.status = StepStatus::kCancelled;
    step.cancelled_on = time;
    events.push_back(log(run, static_cast<int>(i), step_from,
                         static_cast<int>(StepStatus::kCancelled), time,
                         detail));
  }
  return events;
}

std::vector<Event> MemoryStore::events(const EventQuery& query) {
  ++reads_;
  std::lock_guard<std::mutex> lock(log_mutex_);
  std::vector<Event> out;
  const std::size_t start =
      query.after_seq < 0 ? 0 : static_cast<std::size_t>(query.after_seq);
  for (std::size_t i = start; i < events_.size() && out.size() < query.limit;
       ++i) {
    const LoggedEvent& logged = events_[i];
    if (!query.run_id.empty() && logged.run->id != query.run_id) continue;
    out.push_back(expand(logged, static_cast<int64_t>(i) + 1));
  }
  return out;
}

int64_t MemoryStore::last_event_seq() {
  ++reads_;
  std::lock_guard<std::mutex> lock(log_mutex_);
  return static_cast<int64_t>(events_.size());
}

void MemoryStore::save_topics(const std::vector<Topic>& topics) {
  ++writes_;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Topic& topic : topics) topics_.insert_or_assign(topic.name, topic);
}

std::vector<Topic> MemoryStore::list_topics() {
  ++reads_;
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Topic> out;
  out.reserve(topics_.size());
  for (const auto& [name, topic] : topics_) out.push_back(topic);
  return out;
}

MemoryStore::StoredRun* MemoryStore::find_stored(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = runs_.find(id);
  return it == runs_.end() ? nullptr : it->second.get();
}

StoreStats MemoryStore::stats() const {
  return {reads_.load(std::memory_order_relaxed),
          writes_.load(std::memory_order_relaxed)};
}

Event MemoryStore::log(const Run& run, int step, int from, int to,
                       TimePoint time, std::string detail) {
  std::lock_guard<std::mutex> lock(log_mutex_);
  events_.push_back(LoggedEvent{&run, step, static_cast<int8_t>(from),
                                static_cast<int8_t>(to), time,
                                std::move(detail)});
  return expand(events_.back(), static_cast<int64_t>(events_.size()));
}

Event MemoryStore::expand(const LoggedEvent& logged, int64_t seq) const {
  const bool is_run = logged.step < 0;
  Event event;
  event.seq = seq;
  event.run_id = logged.run->id;
  event.step = logged.step;
  if (!is_run) event.step_name = logged.run->steps[logged.step].spec.name;
  event.from = std::string(status_word(is_run, logged.from));
  event.to = std::string(status_word(is_run, logged.to));
  event.time = logged.time;
  event.detail = logged.detail;
  return event;
}

}  // namespace isoqube::detail
