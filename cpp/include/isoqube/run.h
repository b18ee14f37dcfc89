// Runs, their steps and the events their transitions emit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/configuration.h"
#include "isoqube/json.h"
#include "isoqube/time.h"

namespace isoqube {

// pending -> running -> completed | failed | cancelled; failed -> running on
// resume.
enum class RunStatus { kPending, kRunning, kCompleted, kFailed, kCancelled };

// pending -> queued -> running -> completed
//                      running -> retrying -> running
//                      running -> failed;  any unfinished -> cancelled;
//                      failed -> queued on resume.
enum class StepStatus {
  kPending,
  kQueued,
  kRunning,
  kRetrying,
  kCompleted,
  kFailed,
  kCancelled
};

std::string_view to_string(RunStatus s);
std::string_view to_string(StepStatus s);
// Throw ConfigurationError on unknown text.
RunStatus run_status_from_string(std::string_view s);
StepStatus step_status_from_string(std::string_view s);

bool is_terminal(RunStatus s);

// The seed's TopicRun: one step of a run with its timestamps.
struct Step {
  StepSpec spec;
  StepStatus status = StepStatus::kPending;
  int attempts = 0;                       // attempts started so far
  std::optional<TimePoint> invoked_on;    // first attempt started
  std::optional<TimePoint> completed_on;  // finished, successfully or not
  std::optional<TimePoint> succeeded_on;
  std::optional<TimePoint> failed_on;
  std::optional<TimePoint> retried_on;  // last retry scheduled
  std::optional<TimePoint> cancelled_on;
  std::string error;  // last failure text
  Json output;        // what the consumer returned (null until completed)
};

struct Run {
  std::string id;  // UUID, also the correlation id of its messages
  std::string configuration_id;
  std::string configuration_name;
  std::string description;
  std::string ingestion_id;
  RunStatus status = RunStatus::kPending;
  TimePoint created_on{};
  TimePoint modified_on{};
  std::string error;  // why it failed
  Json payload = Json::object();
  std::vector<Step> steps;

  // Index of the step with that name, or -1.
  int step_index(std::string_view name) const;
};

// One transition, as emitted live and kept in the store's event log.
struct Event {
  int64_t seq = 0;  // store-assigned, increasing; 0 before it is stored
  std::string run_id;
  int step = -1;  // -1: the run itself
  std::string step_name;
  std::string from;  // old status ("" for creation)
  std::string to;    // new status
  TimePoint time{};
  std::string detail;  // error text, consumer name, ...
};

Json to_json(const Step& step);
Json to_json(const Run& run);
Json to_json(const Event& event);
// to_json(event).dump(), written directly (run events sent live, several
// per step); strings that are not UTF-8 get replacement characters.
std::string to_json_text(const Event& event);

// The inverses of to_json(), for stores and bindings that keep runs as JSON.
// Throw ConfigurationError naming the offending field.
Step step_from_json(const Json& j);
Run run_from_json(const Json& j);
Event event_from_json(const Json& j);

// What a run starts with, beside its configuration (Engine::start_run).
struct RunOptions {
  std::string description;
  std::string ingestion_id;  // external id; default: a new UUID
  Json payload = Json::object();
};

// Where the orchestrator hands the events of every store change it makes
// (the engine broadcasts them to other processes and delivers them to its
// EventStreams). emit() is called on the thread that made the change:
// the caller's for start_run(), rerun(), resume() and cancel(); the
// worker's pool thread for claim(), claim_waiting(), complete() and fail().
// Several threads may call it at once, for different changes; one change's
// events come in one call, in commit order, with their seqs (possibly none:
// a change that did not apply). What emit() throws reaches the caller of
// the orchestrator's method, the change being committed already.
class RunEvents {
 public:
  virtual ~RunEvents() = default;
  virtual void emit(const std::vector<Event>& events) = 0;
};

}  // namespace isoqube
