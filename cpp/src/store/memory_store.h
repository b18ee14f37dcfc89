// The in-process store (URI "memory://"): everything in maps guarded by one
// mutex. For tests, benchmarks and single-process runs that need no history
// after exit. Thread-safe like every Store.
#pragma once

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

  void create_run(const Run& run) override;
  std::optional<Run> find_run(std::string_view id) override;
  std::vector<Run> list_runs(const RunQuery& query) override;
  std::size_t count_runs() override;

  std::optional<Run> transition_step(std::string_view run_id,
                                     const StepTransition& t) override;
  std::vector<int> queue_steps(std::string_view run_id,
                               const std::vector<int>& steps) override;
  bool transition_run(std::string_view run_id,
                      const RunTransition& t) override;

  std::vector<Event> events(const EventQuery& query) override;

  void save_topics(const std::vector<Topic>& topics) override;
  std::vector<Topic> list_topics() override;

 private:
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

  // All require mutex_ held. log_locked returns the appended event with its
  // seq, for notify() after the lock is released.
  Event log_locked(const Run& run, int step, int from, int to,
                   TimePoint time, std::string detail);
  Run* find_run_locked(std::string_view id);
  Event expand(const LoggedEvent& logged, int64_t seq) const;

  std::mutex mutex_;
  std::map<std::string, Configuration, std::less<>> configurations_;  // id
  std::map<std::string, std::string, std::less<>> configuration_ids_;  // name
  // Keyed by a view of the run's own id, so lookups by string_view need no
  // allocation; the runs live on the heap and never move.
  std::unordered_map<std::string_view, std::unique_ptr<Run>> runs_;
  // (created_on, insertion number) -> run, iterated backwards for newest
  // first; the insertion number breaks ties in creation order.
  std::map<std::pair<TimePoint, uint64_t>, const Run*> runs_by_age_;
  // A deque grows without copying what it holds: no pause under the lock.
  std::deque<LoggedEvent> events_;
  std::map<std::string, Topic, std::less<>> topics_;
};

}  // namespace isoqube::detail
