// The MongoDB store (URI "mongodb://…" or "mongodb+srv://…", any options
// mongo-c-driver knows), in the seed's collections: Configurations, Run
// (one document per run, its steps in Topics[], its events in Events[]) and
// Topics. See mongo_codec.h for the documents and docs/mongodb.md for
// running it.
//
// Every change to a run is one guarded findAndModify (mongo_update.h): a
// step transition, with the successors it queues and the run status it
// sets, costs one round trip, and of racing or duplicated transitions
// exactly one applies. Transient server failures are retried with backoff
// (MongoClient::run); an attempt whose reply was lost is recognised by its
// first event's seq, so nothing is applied twice.
//
// Event seqs are time stamps: microseconds since the epoch times 1024 plus
// a salt of this store's (so two stores hardly ever give the same seq),
// kept above every seq the store has seen. A run's events are kept in the
// order they were committed, and a reader of one run's events gets them
// in that order, from the one after the seq it names: it misses nothing.
// Over every run, seqs are not in commit order: a writer stamps its events
// before it commits them (and keeps the stamps while it retries), and
// writers' clocks differ. So an event may become readable after one with a
// greater seq; late_event_seqs() bounds how much lower its seq can be:
// the retry time (isoqubeRetryMS) plus kLateCommitAllowance for clocks
// apart and a commit's way to the server. EventFeed re-reads that window.
// Clocks of the writers' hosts must agree within that allowance (NTP).
//
// Thread-safety: any thread; the driver's client pool hands each call a
// connection of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/store.h"
#include "store/mongo_client.h"
#include "store/mongo_codec.h"
#include "store/mongo_update.h"

namespace isoqube::detail {

// Reads the store's own URI option (isoqubeRetryMS) and leaves the rest
// to the driver. Throws ConfigurationError naming the URI.
MongoOptions mongo_store_options(std::string_view uri);

// Event seqs: see the header comment.
class EventStamps {
 public:
  static constexpr int64_t kStride = 1024;
  using Clock = std::function<TimePoint()>;
  explicit EventStamps(Clock clock);
  // The first of `count` seqs, each kStride above the one before.
  int64_t next(std::size_t count);
  // Makes every later seq greater than `seq`.
  void advance_past(int64_t seq);

 private:
  const Clock clock_;
  std::atomic<int64_t> last_micros_{0};
  const int64_t salt_;
};

class MongoStore final : public Store {
 public:
  // See the header comment.
  static constexpr std::chrono::seconds kLateCommitAllowance{30};

  // Connects, checks the server answers, creates the indexes (idempotent).
  // `clock` stamps the events (tests give writers clocks apart).
  explicit MongoStore(const MongoOptions& options,
                      EventStamps::Clock clock = &now);

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
  int64_t late_event_seqs() const override;
  StoreStats stats() const override;

  void save_topics(const std::vector<Topic>& topics) override;
  std::vector<Topic> list_topics() override;

 private:
  struct Applied {
    Run run;  // after the change
    RunUpdate update;
  };
  // Stamps and sends the update; nullopt when it did not apply.
  std::optional<Applied> try_update(std::string_view run_id, RunUpdate update);
  // Plans a change from the run as it is (nullopt: nothing to change).
  using Planner = std::function<std::optional<RunUpdate>(const Run& current)>;
  // Reads the run, plans, tries; again while the run changes in between.
  std::optional<Applied> apply_planned(std::string_view run_id,
                                       const Planner& plan);
  // The events the applied update appended, their steps named.
  static std::vector<Event> events_of(const Applied& applied);
  // One findAndModify; the run document after it, or null.
  BsonPtr find_and_modify(const RunUpdate& update, bool& retried);
  // The Run document, or null; with or without its Events.
  BsonPtr read_run(std::string_view run_id, bool with_events);
  // Every result of a find on `collection`.
  std::vector<BsonPtr> find(const char* what, const char* collection,
                            const bson_t* filter, const bson_t* opts);
  void create_indexes();
  TopicDescriptions topic_descriptions();
  void remember_topics(const std::vector<Topic>& topics);

  MongoClient client_;
  const std::chrono::milliseconds retry_for_;
  EventStamps stamps_;
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> writes_{0};
  std::mutex topics_mutex_;
  TopicDescriptions topics_;
};

}  // namespace isoqube::detail
