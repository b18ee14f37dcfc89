#include "isoqube/engine.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "dispatch/worker.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "orchestrator/orchestrator.h"

namespace isoqube {
namespace {

std::string resolve_uri(const std::string& given, const char* variable,
                        std::string_view fallback) {
  if (!given.empty()) return given;
  const char* from_env = std::getenv(variable);
  if (from_env && *from_env) return from_env;
  return std::string(fallback);
}

// While another process's workers may be moving a run (a shared SQLite
// file), wait() also re-reads the store at this interval.
constexpr std::chrono::milliseconds kWaitPoll{250};

constexpr std::string_view kRunEventsChannel = "run-events";

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(std::move(options)),
      transport_uri_(resolve_uri(options_.transport, "ISOQUBE_TRANSPORT",
                                 kDefaultTransportUri)),
      store_uri_(
          resolve_uri(options_.store, "ISOQUBE_STORE", kDefaultStoreUri)),
      id_(new_uuid()) {
  if (options_.concurrency < 1) {
    throw ConfigurationError("concurrency must be at least 1, not " +
                             std::to_string(options_.concurrency));
  }
  store_ = open_store(store_uri_);
  transport_ = open_transport(transport_uri_);
  if (transport_->distributed()) {
    // Our own events reach deliver() through emit().
    remote_events_ =
        transport_->listen(kRunEventsChannel, BroadcastsFrom::kOthers,
                           [this](const Json& m) { on_remote_events(m); });
  }
  RunEvents& events = *this;
  orchestrator_ =
      std::make_unique<Orchestrator>(*store_, *transport_, registry_, events);
  if (options_.register_static) registry_.add_static("");
}

Engine::~Engine() {
  stop();
  remote_events_.reset();
  std::lock_guard<std::mutex> lock(events_mutex_);
  for (auto& stream : streams_) stream->close();
}

// A worker subscribes the endpoints of the consumers registered when it
// starts, and the registry must not change under it: new consumers need a
// new worker. Stopped outside mutex_, as stop() does, since handlers may
// call the engine.
void Engine::load_module(const std::string& path) {
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!start_called_) {
      isoqube::load_module(path, registry_);
      return;
    }
    worker = std::move(worker_);
  }
  if (worker) worker->stop();
  worker.reset();
  try {
    isoqube::load_module(path, registry_);
  } catch (...) {
    start();
    throw;
  }
  start();
}

void Engine::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  start_called_ = true;
  if (worker_) return;
  start_worker();
}

void Engine::start_worker() {
  store_->save_topics(registry_.topics());
  bool any = false;
  for (const Consumer* c : registry_.consumers()) {
    any = any || Worker::serves(*c, options_.services);
  }
  if (!any) {
    logger("engine")->debug("no consumers to run in this process");
    return;
  }
  WorkerOptions worker_options;
  worker_options.concurrency = options_.concurrency;
  worker_options.services = options_.services;
  auto worker = std::make_unique<Worker>(*transport_, *orchestrator_, registry_,
                                         worker_options);
  worker->start();
  worker_ = std::move(worker);
}

void Engine::stop() {
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    start_called_ = false;
    worker = std::move(worker_);
  }
  if (worker) worker->stop();
}

bool Engine::started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return worker_ != nullptr;
}

std::optional<WorkerStats> Engine::worker_stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!worker_) return std::nullopt;
  return worker_->stats();
}

Configuration Engine::save_configuration(Configuration config) {
  bool know_topics = registry_.has_topics();
  config = normalize(std::move(config), know_topics ? &registry_ : nullptr);
  if (config.id.empty()) {
    // Saving by name replaces the configuration of that name.
    std::optional<Configuration> existing =
        store_->find_configuration(config.name);
    config.id =
        existing && existing->name == config.name ? existing->id : new_uuid();
  }
  store_->save_configuration(config);
  return config;
}

std::optional<Configuration> Engine::find_configuration(
    std::string_view id_or_name) {
  return store_->find_configuration(id_or_name);
}

std::vector<Configuration> Engine::list_configurations() {
  return store_->list_configurations();
}

Run Engine::start_run(std::string_view configuration,
                      const RunOptions& options) {
  std::optional<Configuration> config =
      store_->find_configuration(configuration);
  if (!config) {
    throw NotFoundError("no configuration named or with id '" +
                        std::string(configuration) + "'");
  }
  return start_run(*config, options);
}

Run Engine::start_run(const Configuration& configuration,
                      const RunOptions& options) {
  require_executable("a run of '" + configuration.name + "'",
                     configuration.steps);
  return orchestrator_->start_run(configuration, options);
}

namespace {

Run stored_run(Store& store, std::string_view run_id) {
  std::optional<Run> run = store.find_run(run_id);
  if (!run) throw NotFoundError("no run with id '" + std::string(run_id) + "'");
  return *run;
}

std::vector<StepSpec> specs_of(const Run& run, bool unfinished_only) {
  std::vector<StepSpec> specs;
  for (const Step& step : run.steps) {
    if (unfinished_only && step.status == StepStatus::kCompleted) continue;
    specs.push_back(step.spec);
  }
  return specs;
}

}  // namespace

Run Engine::rerun(std::string_view run_id, std::string description) {
  if (!transport_->distributed()) {
    const Run old = stored_run(*store_, run_id);
    require_executable("a re-run of run " + old.id, specs_of(old, false));
  }
  return orchestrator_->rerun(run_id, std::move(description));
}

Run Engine::resume(std::string_view run_id) {
  if (!transport_->distributed()) {
    const Run run = stored_run(*store_, run_id);
    require_executable("run " + run.id, specs_of(run, true));
  }
  return orchestrator_->resume(run_id);
}

// Steps no started consumer of this engine handles would wait, queued, for
// ever on a transport nobody else reads: say so now, and store nothing.
void Engine::require_executable(const std::string& what,
                                const std::vector<StepSpec>& steps) const {
  if (transport_->distributed()) return;
  std::string missing;
  std::set<std::string> named;
  for (const StepSpec& spec : steps) {
    const auto consumers = registry_.consumers_of(spec.topic);
    const bool served =
        std::any_of(consumers.begin(), consumers.end(), [&](const Consumer* c) {
          return Worker::serves(*c, options_.services);
        });
    if (served || !named.insert(spec.topic).second) continue;
    missing += (missing.empty() ? "'" : ", '") + spec.topic + "'";
    if (!spec.name.empty() && spec.name != spec.topic) {
      missing += " (step '" + spec.name + "')";
    }
  }
  std::string why;
  if (!missing.empty()) {
    why = "no consumer of " + missing + " is registered" +
          (options_.services.empty() ? std::string()
                                     : " in this engine's services");
  } else if (!started()) {
    why = "the engine is not started (call start() first)";
  } else {
    return;
  }
  throw ConfigurationError("nothing in this process can execute " + what +
                           ": " + why + "; on " + transport_uri_ +
                           " only the process that starts a run executes it");
}

bool Engine::cancel(std::string_view run_id) {
  return orchestrator_->cancel(run_id);
}

std::optional<Run> Engine::find_run(std::string_view run_id) {
  return store_->find_run(run_id);
}

std::vector<Run> Engine::list_runs(const RunQuery& query) {
  return store_->list_runs(query);
}

Run Engine::wait(std::string_view run_id, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(events_mutex_);
      seen = run_events_;
    }
    std::optional<Run> run = store_->find_run(run_id);
    if (!run)
      throw NotFoundError("no run with id '" + std::string(run_id) + "'");
    if (is_terminal(run->status)) return *run;
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      throw TimeoutError("run " + run->id + " is still " +
                         std::string(to_string(run->status)) + " after " +
                         std::to_string(timeout.count()) + " ms");
    }
    std::unique_lock<std::mutex> lock(events_mutex_);
    run_changed_.wait_for(
        lock, std::min<std::chrono::steady_clock::duration>(left, kWaitPoll),
        [&] { return run_events_ != seen; });
  }
}

void Engine::publish(std::string_view topic, Json payload,
                     std::string ingestion_id) {
  orchestrator_->publish(topic, std::move(payload), std::move(ingestion_id));
}

std::shared_ptr<EventStream> Engine::subscribe(std::string run_id) {
  auto stream = std::make_shared<EventStream>(std::move(run_id));
  std::lock_guard<std::mutex> lock(events_mutex_);
  streams_.push_back(stream);
  return stream;
}

void Engine::unsubscribe(const std::shared_ptr<EventStream>& stream) {
  stream->close();
  std::lock_guard<std::mutex> lock(events_mutex_);
  streams_.erase(std::remove(streams_.begin(), streams_.end(), stream),
                 streams_.end());
}

// The events of a change this process made, on the thread that made it.
void Engine::emit(const std::vector<Event>& events) {
  for (const Event& event : events) {
    if (remote_events_) {
      // Written straight to text: several events a step.
      transport_->broadcast_text(
          kRunEventsChannel,
          "{\"event\":" + to_json_text(event) + ",\"origin\":\"" + id_ + "\"}");
    }
    deliver(event);
  }
}

// Events other processes committed; our own came through emit() already.
void Engine::on_remote_events(const Json& message) {
  try {
    if (message.value("origin", "") == id_) return;
    deliver(event_from_json(message.at("event")));
  } catch (const std::exception& e) {
    logger("engine")->warn("ignored a malformed run event broadcast: {}",
                           e.what());
  }
}

void Engine::deliver(const Event& event) {
  std::lock_guard<std::mutex> lock(events_mutex_);
  for (auto& stream : streams_) {
    if (stream->run_id().empty() || stream->run_id() == event.run_id) {
      stream->push(event);
    }
  }
  if (event.step < 0) {
    ++run_events_;
    run_changed_.notify_all();
  }
}

}  // namespace isoqube
