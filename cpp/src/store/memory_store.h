// The in-process store (URI "memory://"): everything in maps. For tests,
// benchmarks and single-process runs that need no history after exit.
//
// Thread-safe like every Store. Each run has a mutex of its own, so that
// transitions of different runs (and the copies of the runs they return)
// do not wait for each other; one mutex guards the maps and one the event
// log. Locks are taken in that order: maps, then a run, then the log.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "isoqube/store.h"

namespace isoqube::detail {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;

  void save_configuration(const Configuration& config) override;
  std::optional<Configuration> find_configuration(
      std::string_view id_or_name) override;
  std::vector<Configuration> list_configurations() override;

  std::vector<Event> create_run(const Run& run) override;
  std::optional<Run> find_run(std::string_view id) override;
  std::vector<Run> list_runs(const RunQuery& query) override;
  std::size_t count_runs() override;

  std::optional<AppliedStep> transition_step(std::string_view run_id,
                                             const StepTransition& t) override;
  QueuedSteps queue_steps(std::string_view run_id,
                          const std::vector<int>& steps) override;
  std::vector<Event> transition_run(std::string_view run_id,
                                    const RunTransition& t) override;

  std::vector<Event> events(const EventQuery& query) override;
  int64_t last_event_seq() override;
  // One read or write per call.
  StoreStats stats() const override;

  void save_topics(const std::vector<Topic>& topics) override;
  std::vector<Topic> list_topics() override;

 private:
  // A run and the mutex that guards its changing parts. Its id and step
  // specs never change after create_run, so the event log reads them
  // without the run's mutex.
  struct StoredRun {
    explicit StoredRun(const Run& r) : run(r) {}
    std::mutex mutex;
    Run run;
  };

  // The event log holds millions of entries in a long benchmark, so each
  // entry is kept compact: the run id and step name are borrowed from the
  // stored run (runs are never removed and their steps never change
  // length), statuses are small codes. Its seq is its index plus one.
  struct LoggedEvent {
    const Run* run;
    int step;
    int8_t from;  // status code; -1: none (creation)
    int8_t to;
    TimePoint time;
    std::string detail;
  };

  // Appends to the log under log_mutex_ and returns the event with its
  // seq, for the caller to return. Callers that change a run hold its
  // mutex, so that its events are logged in the order of its changes.
  Event log(const Run& run, int step, int from, int to, TimePoint time,
            std::string detail);
  // Requires log_mutex_ held.
  Event expand(const LoggedEvent& logged, int64_t seq) const;
  // The stored run, or nullptr; takes and releases mutex_. Stored runs
  // live as long as the store.
  StoredRun* find_stored(std::string_view id);

  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> writes_{0};

  std::mutex mutex_;  // guards the maps from here to log_mutex_
  std::map<std::string, Configuration, std::less<>> configurations_;   // id
  std::map<std::string, std::string, std::less<>> configuration_ids_;  // name
  // Keyed by a view of the run's own id, so lookups by string_view need no
  // allocation; the runs live on the heap and never move.
  std::unordered_map<std::string_view, std::unique_ptr<StoredRun>> runs_;
  // (created_on, insertion number) -> run, iterated backwards for newest
  // first; the insertion number breaks ties in creation order.
  std::map<std::pair<TimePoint, uint64_t>, StoredRun*> runs_by_age_;
  std::map<std::string, Topic, std::less<>> topics_;

  std::mutex log_mutex_;
  // A deque grows without copying what it holds: no pause under the lock.
  std::deque<LoggedEvent> events_;
};

}  // namespace isoqube::detail
