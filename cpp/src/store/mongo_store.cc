#include "store/mongo_store.h"

#include <algorithm>
#include <random>
#include <utility>

#include "common/uri.h"
#include "isoqube/errors.h"
#include "store/store_rules.h"

namespace isoqube::detail {
namespace {

using namespace mongo_fields;

constexpr char kRuns[] = "Run";
constexpr char kConfigurations[] = "Configurations";
constexpr char kTopicsCollection[] = "Topics";
constexpr char kRetryOption[] = "isoqubeRetryMS";
// A run whose document keeps changing under a change of it is re-read and
// re-planned this often before the change gives up.
constexpr int kMaxRounds = 64;

BsonPtr id_filter(std::string_view id) {
  BsonPtr filter = new_bson();
  bson_append_utf8(filter.get(), kId, -1, id.data(),
                   static_cast<int>(id.size()));
  return filter;
}

BsonPtr without_events() {
  BsonPtr projection = new_bson();
  bson_append_int32(projection.get(), kEvents, -1, 0);
  return projection;
}

// Fills in each event's step name from the run's steps.
void name_steps(std::vector<Event>& events, const Run& run) {
  for (Event& event : events) {
    if (event.step >= 0 &&
        static_cast<std::size_t>(event.step) < run.steps.size()) {
      event.step_name = run.steps[event.step].spec.name;
    }
  }
}

Event run_event(int step, std::string_view from, std::string_view to,
                TimePoint time, std::string detail) {
  Event event;
  event.step = step;
  event.from = std::string(from);
  event.to = std::string(to);
  event.time = time;
  event.detail = std::move(detail);
  return event;
}

// The step update of `t` from the step's status `from` (everything else
// in `t` is checked by the filter, or was checked against the run).
RunUpdate plan_step_update(std::string_view run_id, const StepTransition& t,
                           StepStatus from) {
  RunUpdate u(run_id);
  u.require_step(t.step, from);
  if (t.expect_attempts >= 0) u.require_attempts(t.step, t.expect_attempts);
  for (const StepGuard& guard : t.guards) {
    u.require_step_in(guard.step, guard.any_of);
  }
  for (int index : t.queue) u.require_step(index, StepStatus::kPending);
  if (t.run_to) u.require_run(RunStatus::kRunning);

  const TimePoint time = now();
  u.set_step_status(t.step, t.to);
  if (t.attempts >= 0) u.set_step_attempts(t.step, t.attempts);
  const std::pair<StepTime, const std::optional<TimePoint>*> times[] = {
      {StepTime::kInvokedOn, &t.invoked_on},
      {StepTime::kCompletedOn, &t.completed_on},
      {StepTime::kSucceededOn, &t.succeeded_on},
      {StepTime::kFailedOn, &t.failed_on},
      {StepTime::kRetriedOn, &t.retried_on},
      {StepTime::kCancelledOn, &t.cancelled_on}};
  for (const auto& [field, value] : times) {
    if (*value) u.set_step_time(t.step, field, **value);
  }
  if (auto error = written_error(t)) u.set_step_error(t.step, *error);
  if (t.output) u.set_step_output(t.step, *t.output);
  u.add_event(run_event(t.step, to_string(from), to_string(t.to), time,
                        transition_detail(t)));
  for (int index : t.queue) {
    u.set_step_status(index, StepStatus::kQueued);
    u.add_event(run_event(index, to_string(StepStatus::kPending),
                          to_string(StepStatus::kQueued), time, {}));
  }
  if (t.run_to) {
    u.set_run_status(*t.run_to);
    if (t.run_error) u.set_run_error(*t.run_error);
    u.add_event(run_event(-1, to_string(RunStatus::kRunning),
                          to_string(*t.run_to), time,
                          t.run_error.value_or(std::string())));
  }
  u.set_modified(time);
  return u;
}

// `text` without the "name=value" query option.
std::string without_option(std::string_view text, std::string_view name) {
  const std::size_t query = text.find('?');
  if (query == std::string_view::npos) return std::string(text);
  std::string out(text.substr(0, query));
  std::string rest;
  std::size_t start = query + 1;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of("&;", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(start, end - start);
    const std::string_view key = part.substr(0, part.find('='));
    if (!part.empty() && key != name) {
      rest += rest.empty() ? "" : "&";
      rest += part;
    }
    start = end + 1;
  }
  if (!rest.empty()) out += "?" + rest;
  return out;
}

}  // namespace

MongoOptions mongo_store_options(std::string_view text) {
  MongoOptions options;
  const Uri uri = parse_uri(text);
  const auto retry = uri.query.find(kRetryOption);
  if (retry != uri.query.end()) {
    options.retry_for = milliseconds_option(uri, kRetryOption, retry->second);
  }
  options.uri = without_option(text, kRetryOption);
  return options;
}

EventStamps::EventStamps(Clock clock)
    : clock_(std::move(clock)),
      salt_(static_cast<int64_t>(std::random_device{}() % kStride)) {}

int64_t EventStamps::next(std::size_t count) {
  const int64_t n = static_cast<int64_t>(std::max<std::size_t>(count, 1));
  int64_t last = last_micros_.load();
  int64_t first = 0;
  do {
    first = std::max(to_micros(clock_()), last + 1);
  } while (!last_micros_.compare_exchange_weak(last, first + n - 1));
  return first * kStride + salt_;
}

void EventStamps::advance_past(int64_t seq) {
  const int64_t micros = seq / kStride;
  int64_t last = last_micros_.load();
  while (last < micros && !last_micros_.compare_exchange_weak(last, micros)) {
  }
}

MongoStore::MongoStore(const MongoOptions& options, EventStamps::Clock clock)
    : client_(options),
      retry_for_(options.retry_for),
      stamps_(std::move(clock)) {
  create_indexes();
}

void MongoStore::create_indexes() {
  // Explicit names make a second start a no-op (and tell in the database
  // tools whose indexes these are). One index per command: FerretDB 1.24
  // drops the connection when a command re-creates several existing ones.
  struct Index {
    const char* collection;
    const char* name;
    BsonPtr key;
    bool unique;
  };
  Index indexes[] = {
      {kRuns, "isoqube_runs_newest_first",
       BsonPtr(BCON_NEW("Micros.CreatedOn", BCON_INT32(-1), kCreatedSeq,
                        BCON_INT32(-1))),
       false},
      {kRuns, "isoqube_runs_by_status",
       BsonPtr(BCON_NEW(kStatus, BCON_INT32(1), "Micros.CreatedOn",
                        BCON_INT32(-1))),
       false},
      {kRuns, "isoqube_runs_by_event_seq",
       BsonPtr(BCON_NEW(kEventSeq, BCON_INT32(1))), false},
      {kConfigurations, "isoqube_configurations_by_name",
       BsonPtr(BCON_NEW(kName, BCON_INT32(1))), true},
  };
  for (const Index& index : indexes) {
    BsonPtr command = BsonPtr(BCON_NEW(
        "createIndexes", BCON_UTF8(index.collection), "indexes", "[", "{",
        "key", BCON_DOCUMENT(index.key.get()), "name", BCON_UTF8(index.name),
        "unique", BCON_BOOL(index.unique), "}", "]"));
    ++writes_;
    client_.run("creating indexes",
                [&](mongoc_client_t* client, int, Reply& r) {
                  return mongoc_client_write_command_with_opts(
                             client, client_.database().c_str(), command.get(),
                             nullptr, &r.reply, &r.error)
                             ? Attempt::kDone
                             : Attempt::kFailed;
                });
  }
}

std::vector<BsonPtr> MongoStore::find(const char* what, const char* collection,
                                      const bson_t* filter,
                                      const bson_t* opts) {
  std::vector<BsonPtr> out;
  ++reads_;
  client_.run(what, [&](mongoc_client_t* client, int, Reply& r) {
    out.clear();
    Collection c(client, client_.database(), collection);
    mongoc_cursor_t* cursor =
        mongoc_collection_find_with_opts(c.get(), filter, opts, nullptr);
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) out.emplace_back(bson_copy(doc));
    const bson_t* error_reply = nullptr;
    const bool failed =
        mongoc_cursor_error_document(cursor, &r.error, &error_reply);
    if (failed && error_reply != nullptr) bson_copy_to(error_reply, &r.reply);
    mongoc_cursor_destroy(cursor);
    return failed ? Attempt::kFailed : Attempt::kDone;
  });
  return out;
}

void MongoStore::save_configuration(const Configuration& config) {
  check_configuration_id(config);
  BsonPtr doc = configuration_document(config, topic_descriptions());
  BsonPtr filter = id_filter(config.id);
  BsonPtr opts = BsonPtr(BCON_NEW("upsert", BCON_BOOL(true)));
  bool duplicate_name = false;
  ++writes_;
  client_.run(
      "saving a configuration", [&](mongoc_client_t* client, int, Reply& r) {
        Collection c(client, client_.database(), kConfigurations);
        if (mongoc_collection_replace_one(c.get(), filter.get(), doc.get(),
                                          opts.get(), &r.reply, &r.error)) {
          return Attempt::kDone;
        }
        duplicate_name = is_duplicate_key(r.error);
        return duplicate_name ? Attempt::kDone : Attempt::kFailed;
      });
  if (!duplicate_name) return;
  BsonPtr by_name = BsonPtr(BCON_NEW("Name", BCON_UTF8(config.name.c_str())));
  const auto others =
      find("reading configurations", kConfigurations, by_name.get(), nullptr);
  throw_duplicate_configuration_name(
      config.name, others.empty()
                       ? std::string("unknown")
                       : configuration_from_document(others.front().get()).id);
}

std::optional<Configuration> MongoStore::find_configuration(
    std::string_view id_or_name) {
  const std::string key(id_or_name);
  BsonPtr filter =
      BsonPtr(BCON_NEW("$or", "[", "{", kId, BCON_UTF8(key.c_str()), "}", "{",
                       "Name", BCON_UTF8(key.c_str()), "}", "]"));
  const auto found =
      find("reading a configuration", kConfigurations, filter.get(), nullptr);
  std::optional<Configuration> by_name;
  for (const BsonPtr& doc : found) {
    Configuration config = configuration_from_document(doc.get());
    if (config.id == key) return config;
    by_name = std::move(config);
  }
  return by_name;
}

std::vector<Configuration> MongoStore::list_configurations() {
  BsonPtr filter = new_bson();
  BsonPtr opts = BsonPtr(BCON_NEW("sort", "{", "Name", BCON_INT32(1), "}"));
  std::vector<Configuration> out;
  for (const BsonPtr& doc : find("listing configurations", kConfigurations,
                                 filter.get(), opts.get())) {
    out.push_back(configuration_from_document(doc.get()));
  }
  return out;
}

std::vector<Event> MongoStore::create_run(const Run& run) {
  check_run_id(run);
  Event created = run_event(-1, {}, to_string(run.status), now(), {});
  created.run_id = run.id;
  created.seq = stamps_.next(1);
  BsonPtr doc = run_document(run, created, topic_descriptions());
  bool duplicate = false;
  bool retried = false;
  client_.run("creating a run",
              [&](mongoc_client_t* client, int attempt, Reply& r) {
                ++writes_;
                retried = attempt > 0;
                Collection c(client, client_.database(), kRuns);
                if (mongoc_collection_insert_one(c.get(), doc.get(), nullptr,
                                                 &r.reply, &r.error)) {
                  return Attempt::kDone;
                }
                duplicate = is_duplicate_key(r.error);
                return duplicate ? Attempt::kDone : Attempt::kFailed;
              });
  if (duplicate) {
    // A retried insert whose first attempt went through finds its own run.
    const BsonPtr stored = retried ? read_run(run.id, false) : nullptr;
    bson_iter_t seq;
    if (!stored || !bson_iter_init_find(&seq, stored.get(), kCreatedSeq) ||
        bson_iter_as_int64(&seq) != created.seq) {
      throw_duplicate_run(run.id);
    }
  }
  return {std::move(created)};
}

BsonPtr MongoStore::read_run(std::string_view run_id, bool with_events) {
  BsonPtr filter = id_filter(run_id);
  BsonPtr opts = new_bson();
  if (!with_events) {
    BsonPtr projection = without_events();
    bson_append_document(opts.get(), "projection", -1, projection.get());
  }
  auto found = find("reading a run", kRuns, filter.get(), opts.get());
  if (found.empty()) return nullptr;
  return std::move(found.front());
}

std::optional<Run> MongoStore::find_run(std::string_view id) {
  BsonPtr doc = read_run(id, false);
  if (!doc) return std::nullopt;
  return run_from_document(doc.get());
}

std::vector<Run> MongoStore::list_runs(const RunQuery& query) {
  BsonPtr filter = new_bson();
  if (query.status) append_status(filter.get(), kStatus, *query.status);
  if (!query.configuration.empty()) {
    const char* c = query.configuration.c_str();
    BsonPtr either =
        BsonPtr(BCON_NEW("$or", "[", "{", kConfigurationId, BCON_UTF8(c), "}",
                         "{", kConfigurationName, BCON_UTF8(c), "}", "]"));
    bson_concat(filter.get(), either.get());
  }
  BsonPtr opts =
      BsonPtr(BCON_NEW("sort", "{", "Micros.CreatedOn", BCON_INT32(-1),
                       kCreatedSeq, BCON_INT32(-1), "}", "skip",
                       BCON_INT64(static_cast<int64_t>(query.offset)), "limit",
                       BCON_INT64(static_cast<int64_t>(query.limit))));
  BsonPtr projection = without_events();
  bson_append_document(opts.get(), "projection", -1, projection.get());
  std::vector<Run> out;
  if (query.limit == 0) return out;
  for (const BsonPtr& doc :
       find("listing runs", kRuns, filter.get(), opts.get())) {
    out.push_back(run_from_document(doc.get()));
  }
  return out;
}

std::size_t MongoStore::count_runs() {
  int64_t count = 0;
  BsonPtr filter = new_bson();
  ++reads_;
  client_.run("counting runs", [&](mongoc_client_t* client, int, Reply& r) {
    Collection c(client, client_.database(), kRuns);
    count = mongoc_collection_count_documents(c.get(), filter.get(), nullptr,
                                              nullptr, &r.reply, &r.error);
    return count < 0 ? Attempt::kFailed : Attempt::kDone;
  });
  return static_cast<std::size_t>(count);
}

BsonPtr MongoStore::find_and_modify(const RunUpdate& update, bool& retried) {
  BsonPtr filter = update.filter();
  BsonPtr change = update.update();
  BsonPtr result;
  client_.run(
      "changing a run", [&](mongoc_client_t* client, int attempt, Reply& r) {
        ++writes_;
        retried = retried || attempt > 0;
        Collection c(client, client_.database(), kRuns);
        mongoc_find_and_modify_opts_t* opts = mongoc_find_and_modify_opts_new();
        // No projection leaving the Events out: FerretDB 1.x refuses "fields"
        // in findAndModify.
        mongoc_find_and_modify_opts_set_update(opts, change.get());
        mongoc_find_and_modify_opts_set_flags(
            opts, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
        const bool ok = mongoc_collection_find_and_modify_with_opts(
            c.get(), filter.get(), opts, &r.reply, &r.error);
        mongoc_find_and_modify_opts_destroy(opts);
        if (!ok) return Attempt::kFailed;
        bson_iter_t value;
        if (bson_iter_init_find(&value, &r.reply, "value") &&
            BSON_ITER_HOLDS_DOCUMENT(&value)) {
          uint32_t length = 0;
          const uint8_t* data = nullptr;
          bson_iter_document(&value, &length, &data);
          result.reset(bson_new_from_data(data, length));
        }
        return Attempt::kDone;
      });
  return result;
}

std::optional<MongoStore::Applied> MongoStore::try_update(
    std::string_view run_id, RunUpdate update) {
  update.stamp(stamps_.next(update.event_count()), EventStamps::kStride);
  bool retried = false;
  if (BsonPtr after = find_and_modify(update, retried)) {
    return Applied{run_from_document(after.get()), std::move(update)};
  }
  if (!retried) return std::nullopt;
  // A lost reply may have hidden that this very update went through.
  BsonPtr doc = read_run(run_id, true);
  if (doc && update.applied_in(doc.get())) {
    return Applied{run_from_document(doc.get()), std::move(update)};
  }
  return std::nullopt;
}

std::optional<MongoStore::Applied> MongoStore::apply_planned(
    std::string_view run_id, const Planner& plan) {
  for (int round = 0; round < kMaxRounds; ++round) {
    BsonPtr doc = read_run(run_id, false);
    if (!doc) return std::nullopt;
    stamps_.advance_past(event_seq_of(doc.get()));
    const Run current = run_from_document(doc.get());
    std::optional<RunUpdate> update = plan(current);
    if (!update) return std::nullopt;
    // Not applied: the run changed since it was read; plan again.
    if (auto applied = try_update(run_id, std::move(*update))) return applied;
  }
  throw StoreError("MongoDB store '" + client_.masked_uri() + "': run '" +
                   std::string(run_id) + "' kept changing under an update (" +
                   std::to_string(kMaxRounds) + " tries)");
}

std::vector<Event> MongoStore::events_of(const Applied& applied) {
  std::vector<Event> events = applied.update.events();
  name_steps(events, applied.run);
  return events;
}

std::optional<AppliedStep> MongoStore::transition_step(
    std::string_view run_id, const StepTransition& t) {
  const bool guards_can_hold = std::all_of(
      t.guards.begin(), t.guards.end(),
      [](const StepGuard& g) { return g.step >= 0 && !g.any_of.empty(); });
  if (t.step < 0 || !guards_can_hold || !queue_is_well_formed(t)) {
    ++writes_;  // as if asked: the answer is known without asking
    return std::nullopt;
  }
  // One update per status the step may be in, most likely first (the
  // event names the status it left, so each is its own update). Usually
  // the first applies or nothing does: one round trip.
  for (StepStatus from : t.from) {
    if (auto applied = try_update(run_id, plan_step_update(run_id, t, from))) {
      std::vector<Event> events = events_of(*applied);
      return AppliedStep{std::move(applied->run), std::move(events)};
    }
  }
  if (t.from.empty()) ++writes_;
  return std::nullopt;
}

namespace {

// Moves the listed steps that are pending (all of them, when `current` is
// not known) to queued; `moved` gets their indexes.
std::optional<RunUpdate> plan_queue(std::string_view run_id,
                                    const std::vector<int>& steps,
                                    const Run* current,
                                    std::vector<int>& moved) {
  moved.clear();
  for (int index : steps) {
    if (index < 0 ||
        std::find(moved.begin(), moved.end(), index) != moved.end()) {
      continue;
    }
    if (current != nullptr &&
        (!has_step(*current, index) ||
         current->steps[index].status != StepStatus::kPending)) {
      continue;
    }
    moved.push_back(index);
  }
  if (moved.empty()) return std::nullopt;
  RunUpdate u(run_id);
  const TimePoint time = now();
  for (int index : moved) {
    u.require_step(index, StepStatus::kPending);
    u.set_step_status(index, StepStatus::kQueued);
    u.add_event(run_event(index, to_string(StepStatus::kPending),
                          to_string(StepStatus::kQueued), time, {}));
  }
  u.set_modified(time);
  return u;
}

}  // namespace

QueuedSteps MongoStore::queue_steps(std::string_view run_id,
                                    const std::vector<int>& steps) {
  std::vector<int> moved;
  // Blind first: usually every listed step is pending.
  std::optional<RunUpdate> blind = plan_queue(run_id, steps, nullptr, moved);
  if (!blind) return {};
  std::optional<Applied> applied = try_update(run_id, std::move(*blind));
  if (!applied) {
    applied = apply_planned(run_id, [&](const Run& current) {
      return plan_queue(run_id, steps, &current, moved);
    });
  }
  if (!applied) return {};
  return QueuedSteps{std::move(moved), events_of(*applied)};
}

std::vector<Event> MongoStore::transition_run(std::string_view run_id,
                                              const RunTransition& t) {
  // Which steps to cancel, and the status the run leaves, are known only
  // from the run.
  auto applied = apply_planned(
      run_id, [&](const Run& current) -> std::optional<RunUpdate> {
        if (!run_transition_matches(current.status, t)) return std::nullopt;
        RunUpdate u(run_id);
        const TimePoint time = now();
        u.require_run(current.status);
        u.set_run_status(t.to);
        if (t.error) u.set_run_error(*t.error);
        u.add_event(run_event(-1, to_string(current.status), to_string(t.to),
                              time, t.error.value_or(std::string())));
        if (t.cancel_unfinished_steps) {
          const std::string detail = cancelled_with_run_detail(t);
          for (std::size_t i = 0; i < current.steps.size(); ++i) {
            const StepStatus status = current.steps[i].status;
            if (!is_unfinished(status)) continue;
            const int index = static_cast<int>(i);
            u.require_step(index, status);
            u.set_step_status(index, StepStatus::kCancelled);
            u.set_step_time(index, StepTime::kCancelledOn, time);
            u.add_event(run_event(index, to_string(status),
                                  to_string(StepStatus::kCancelled), time,
                                  detail));
          }
        }
        u.set_modified(time);
        return u;
      });
  if (!applied) return {};
  return events_of(*applied);
}

std::vector<Event> MongoStore::events(const EventQuery& query) {
  std::vector<Event> out;
  if (query.limit == 0) return out;
  std::vector<BsonPtr> docs;
  if (!query.run_id.empty()) {
    BsonPtr doc = read_run(query.run_id, true);
    if (doc) docs.push_back(std::move(doc));
  } else {
    // Every run with an event after the seq (EventSeq is its newest).
    BsonPtr filter = BsonPtr(
        BCON_NEW(kEventSeq, "{", "$gt", BCON_INT64(query.after_seq), "}"));
    BsonPtr opts = BsonPtr(BCON_NEW("projection", "{", kEvents, BCON_INT32(1),
                                    kTopics, BCON_INT32(1), "}"));
    docs = find("reading events", kRuns, filter.get(), opts.get());
  }
  for (const BsonPtr& doc : docs) {
    std::vector<Event> events =
        events_from_document(doc.get(), query.after_seq);
    out.insert(out.end(), std::make_move_iterator(events.begin()),
               std::make_move_iterator(events.end()));
  }
  if (query.run_id.empty()) {  // one run's are in commit order already
    std::sort(out.begin(), out.end(),
              [](const Event& a, const Event& b) { return a.seq < b.seq; });
  }
  if (out.size() > query.limit) out.resize(query.limit);
  return out;
}

int64_t MongoStore::last_event_seq() {
  BsonPtr filter = new_bson();
  BsonPtr opts = BsonPtr(BCON_NEW("sort", "{", kEventSeq, BCON_INT32(-1), "}",
                                  "limit", BCON_INT64(1), "projection", "{",
                                  kEventSeq, BCON_INT32(1), "}"));
  const auto found =
      find("reading the newest event", kRuns, filter.get(), opts.get());
  return found.empty() ? 0 : event_seq_of(found.front().get());
}

int64_t MongoStore::late_event_seqs() const {
  const auto late = std::chrono::duration_cast<std::chrono::microseconds>(
      retry_for_ + kLateCommitAllowance);
  return late.count() * EventStamps::kStride;
}

StoreStats MongoStore::stats() const {
  return {reads_.load(std::memory_order_relaxed),
          writes_.load(std::memory_order_relaxed)};
}

void MongoStore::save_topics(const std::vector<Topic>& topics) {
  BsonPtr opts = BsonPtr(BCON_NEW("upsert", BCON_BOOL(true)));
  for (const Topic& topic : topics) {
    BsonPtr doc = topic_document(topic);
    BsonPtr filter = id_filter(topic.name);
    ++writes_;
    client_.run("saving topics", [&](mongoc_client_t* client, int, Reply& r) {
      Collection c(client, client_.database(), kTopicsCollection);
      return mongoc_collection_replace_one(c.get(), filter.get(), doc.get(),
                                           opts.get(), &r.reply, &r.error)
                 ? Attempt::kDone
                 : Attempt::kFailed;
    });
  }
  remember_topics(topics);
}

std::vector<Topic> MongoStore::list_topics() {
  BsonPtr filter = new_bson();
  BsonPtr opts = BsonPtr(BCON_NEW("sort", "{", kId, BCON_INT32(1), "}"));
  std::vector<Topic> out;
  for (const BsonPtr& doc :
       find("listing topics", kTopicsCollection, filter.get(), opts.get())) {
    out.push_back(topic_from_document(doc.get()));
  }
  remember_topics(out);
  return out;
}

TopicDescriptions MongoStore::topic_descriptions() {
  std::lock_guard<std::mutex> lock(topics_mutex_);
  return topics_;
}

void MongoStore::remember_topics(const std::vector<Topic>& topics) {
  std::lock_guard<std::mutex> lock(topics_mutex_);
  for (const Topic& topic : topics) topics_[topic.name] = topic.description;
}

}  // namespace isoqube::detail
