// Where configurations, runs with their steps, registered topics and the
// event log live. The store is the single source of truth; the transport
// only carries work.
//
// Every run mutation is a conditional atomic update (compare-and-set on the
// step's status and attempt count) that also appends its events to the
// event log in the same transaction, so a duplicated or redelivered message
// never advances a run twice. Each mutation returns the events it appended,
// with their seqs: the store tells nobody else, its caller hands them on
// (the orchestrator to its RunEvents, see run.h).
//
// Implementations, chosen by URI scheme in open_store():
//   memory://                 in-process, for tests and benchmarks
//   sqlite:///path/file.db    the embedded default (WAL mode; several
//                             processes may read while one writes)
//   mongodb://host[:port]/Database[?options]
//                             MongoDB through mongo-c-driver, in the seed's
//                             collections and field names; see
//                             cpp/src/store/mongo_store.h
//
// Events: every event has a seq, unique in the store, and one run's events
// are read in the order they were committed. Read by seq over every run,
// an event may commit with a seq below one a reader has already been given,
// by up to late_event_seqs() (memory:// and sqlite:// never: their seqs
// follow the commits; mongodb://: its seqs come from the writers' clocks).
// A reader of every run's events that must miss nothing follows them with
// an EventFeed, which gets each event once whatever the store and however
// many processes write to it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "isoqube/configuration.h"
#include "isoqube/registry.h"
#include "isoqube/run.h"

namespace isoqube {

// A condition on another step of the run, checked with the transition.
struct StepGuard {
  int step = -1;
  std::vector<StepStatus> any_of;  // its status must be one of these
};

// A compare-and-set on one step of a run. Together with `guards`, `queue`
// and `run_to` it is one atomic update: everything applies or nothing does.
// This lets a worker complete its step, queue the successors that became
// ready and complete the run in one store round trip.
struct StepTransition {
  int step = -1;
  std::vector<StepStatus> from;  // expected current status (any of these)
  int expect_attempts = -1;      // expected attempt count; -1: any
  StepStatus to = StepStatus::kPending;
  int attempts = -1;  // new attempt count; -1: unchanged
  // Fields below are written when set; unset ones keep their value.
  std::optional<TimePoint> invoked_on;
  std::optional<TimePoint> completed_on;
  std::optional<TimePoint> succeeded_on;
  std::optional<TimePoint> failed_on;
  std::optional<TimePoint> retried_on;
  std::optional<TimePoint> cancelled_on;
  std::optional<std::string> error;
  std::optional<Json> output;
  std::string detail;  // goes into the event

  // Other steps' statuses this update relies on (for instance that a
  // sibling branch is still running, so that exactly one of two finishing
  // branches queues their join).
  std::vector<StepGuard> guards;
  // Steps moved from pending to queued by the same update; each must be
  // pending, listed once and not `step` itself. Their events follow the
  // step's own.
  std::vector<int> queue;
  // The run's new status when it changes with this step (its last step
  // completed; its step failed for good). Requires the run to be running.
  std::optional<RunStatus> run_to;
  std::optional<std::string> run_error;  // with run_to
};

// A compare-and-set on a run's status.
struct RunTransition {
  std::vector<RunStatus> from;
  RunStatus to = RunStatus::kRunning;
  std::optional<std::string> error;
  // Also move every step that is not completed or failed to cancelled.
  bool cancel_unfinished_steps = false;
};

// A step transition as the store applied it.
struct AppliedStep {
  Run run;  // the run as it is right after the update
  // What the update appended to the event log, in that order, with their
  // seqs: the step's own event, one per step it queued (in t.queue's
  // order), then the run's when its status changed.
  std::vector<Event> events;
};

// What queue_steps() moved.
struct QueuedSteps {
  std::vector<int> steps;     // the indexes moved, in the order listed
  std::vector<Event> events;  // pending -> queued, one per moved step
};

struct RunQuery {
  std::size_t limit = 100;
  std::size_t offset = 0;
  std::optional<RunStatus> status;
  std::string configuration;  // id or name; empty: all
};

// What a store has done, for benchmarks and metrics. A round trip is one
// request to a database server (or one transaction on SQLite).
struct StoreStats {
  uint64_t reads = 0;
  uint64_t writes = 0;
};

struct EventQuery {
  int64_t after_seq = 0;  // events with a greater seq
  std::string run_id;     // empty: all runs
  std::size_t limit = 1000;
};

class Store {
 public:
  virtual ~Store() = default;

  // Insert or replace by id (an empty id is an error: callers assign one).
  // Throws ConfigurationError when another configuration has the same name.
  virtual void save_configuration(const Configuration& config) = 0;
  virtual std::optional<Configuration> find_configuration(
      std::string_view id_or_name) = 0;
  virtual std::vector<Configuration> list_configurations() = 0;

  // Stores the run and all its steps at once, or nothing (throws StoreError
  // or ConfigurationError on a duplicate id). Returns the one event it
  // appended: the run's creation (from "" to its status).
  virtual std::vector<Event> create_run(const Run& run) = 0;
  virtual std::optional<Run> find_run(std::string_view id) = 0;
  // Newest first.
  virtual std::vector<Run> list_runs(const RunQuery& query) = 0;
  virtual std::size_t count_runs() = 0;

  // Applies the transition if the step's current status is one of `from`,
  // its attempt count matches, every guard holds, every step in `queue` is
  // pending and (with run_to) the run is running. Also sets the run's
  // modified time and appends the events (see AppliedStep). Returns the run
  // after the update with those events, or nullopt when anything did not
  // match (or the run does not exist): then nothing was appended.
  virtual std::optional<AppliedStep> transition_step(
      std::string_view run_id, const StepTransition& t) = 0;

  // Moves each listed step from pending to queued, in one transaction, and
  // appends an event per step moved. The others (not pending, not a step,
  // listed twice, or no such run) are left out of the result.
  virtual QueuedSteps queue_steps(std::string_view run_id,
                                  const std::vector<int>& steps) = 0;

  // Applies the run transition if its status is one of `from`. Returns the
  // events it appended: the run's, then (cancel_unfinished_steps) one per
  // step cancelled, in step order; empty when it did not apply.
  virtual std::vector<Event> transition_run(std::string_view run_id,
                                            const RunTransition& t) = 0;

  virtual std::vector<Event> events(const EventQuery& query) = 0;
  // The seq of the newest event (0: none yet), where a reader of every
  // run's events starts to follow only what happens from now on.
  virtual int64_t last_event_seq() = 0;
  // How far below the greatest seq events() has given an event of another
  // run may still be committed, in seq units (0: never). See EventFeed.
  virtual int64_t late_event_seqs() const { return 0; }

  // Round trips since the store was opened. Every call is at least one;
  // transition_step is one, whatever it changes.
  virtual StoreStats stats() const { return {}; }

  // Registered topics, kept so other processes (CLI, controlcenter) can list
  // them. Upserts by name.
  virtual void save_topics(const std::vector<Topic>& topics) = 0;
  virtual std::vector<Topic> list_topics() = 0;
};

// Every run's events after a seq, each exactly once, in the order they
// become readable: what a reader of the whole log (the controlcenter) needs.
// Each read re-reads the store's late_event_seqs() behind the greatest seq
// delivered and drops what it delivered before, so an event committed late
// with a seq below one already delivered comes with the next read (its seq
// is then below seq()). Each read is oldest seq first.
//
// Holds no store: each read names it, so a feed may outlive an engine.
// Memory: the identities of the events delivered within that window.
// Thread-safety: one thread at a time.
class EventFeed {
 public:
  // Follows the events with a greater seq than `after_seq`; events with a
  // seq up to it are never delivered, even when committed later.
  explicit EventFeed(int64_t after_seq = 0);

  // The events not delivered yet, at most `limit` (the rest come with the
  // next read). Throws what store.events() throws, delivering nothing.
  std::vector<Event> read(Store& store, std::size_t limit = 1000);
  // The greatest seq delivered (after_seq before the first event).
  int64_t seq() const { return seq_; }

 private:
  using Key = std::pair<int64_t, std::string>;  // seq and run id
  const int64_t floor_;
  int64_t seq_;
  std::set<Key> delivered_;  // with a seq in the window behind seq_
};

// Opens the store named by `uri`. Throws ConfigurationError for an unknown
// scheme or malformed URI, StoreError when the store cannot be opened.
std::unique_ptr<Store> open_store(std::string_view uri);

}  // namespace isoqube
