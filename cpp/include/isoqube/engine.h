// The engine: builds transport, store, orchestrator and worker from URIs and
// owns their lifetime. This is the API the Python package and the CLI use.
//
// URIs come from the options, else from ISOQUBE_TRANSPORT / ISOQUBE_STORE,
// else the embedded defaults (memory:// and sqlite://isoqube.db in the
// working folder).
//
// Run events: the engine is its orchestrator's RunEvents. The events of
// every transition this process commits are pushed to its subscribers, on
// the thread that committed it (see RunEvents); on a distributed transport
// (a broker) they are also broadcast on the `run-events` channel, and the
// events other processes broadcast reach this process's subscribers and
// wait() too (the seed's EventNotification), on a transport thread.
//
// Who executes a run: the workers of every process sharing the transport.
// On a transport only this process reads (memory://) that is this engine's
// worker alone, so start_run(), rerun() and resume() refuse at once, with
// ConfigurationError and before anything is stored, a run that some step's
// topic has no consumer for among this engine's started consumers (of its
// services), naming the topics; and a run of an engine not started. On a
// broker other processes may consume, so nothing is checked beforehand: a
// step whose topic no endpoint is bound to anywhere fails when it is
// published (the first steps: start_run() throws; later ones fail the run
// with the reason), while a bound endpoint whose workers are all stopped
// keeps its messages until one starts.
//
// Thread-safety: every method may be called from any thread, except that
// topics and consumers are registered, and modules loaded, while no other
// call is made on the engine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/configuration.h"
#include "isoqube/consumer.h"
#include "isoqube/registry.h"
#include "isoqube/run.h"
#include "isoqube/store.h"
#include "isoqube/transport.h"

namespace isoqube {

inline constexpr std::string_view kDefaultTransportUri = "memory://";
// A file in the working folder ("sqlite://" + relative path).
inline constexpr std::string_view kDefaultStoreUri = "sqlite://isoqube.db";

struct EngineOptions {
  std::string transport;  // empty: $ISOQUBE_TRANSPORT, else memory://
  std::string store;      // empty: $ISOQUBE_STORE, else sqlite://isoqube.db
  int concurrency = 4;    // worker pool threads
  // Services whose consumers this engine's worker runs; empty: all.
  std::vector<std::string> services;
  // Register every ISOQUBE_TOPIC / ISOQUBE_CONSUMER linked into the program.
  bool register_static = true;
};

// A live feed of events, filled by the engine as transitions commit.
// Bounded: when the reader falls behind by more than `capacity` events, the
// oldest are dropped and counted in dropped().
class EventStream {
 public:
  explicit EventStream(std::string run_id, std::size_t capacity = 100000);
  // Next event, or nullopt after `timeout` or once closed and drained.
  std::optional<Event> next(std::chrono::milliseconds timeout);
  void close();
  uint64_t dropped() const;

  // Engine side.
  void push(const Event& event);
  const std::string& run_id() const { return run_id_; }

 private:
  const std::string run_id_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool closed_ = false;
  uint64_t dropped_ = 0;
};

class Orchestrator;  // cpp/src/orchestrator/orchestrator.h
class Worker;        // cpp/src/dispatch/worker.h

class Engine : private RunEvents {
 public:
  // Opens transport and store. Throws ConfigurationError for bad URIs or
  // options, TransportError / StoreError when they cannot be opened.
  explicit Engine(EngineOptions options = {});
  ~Engine() override;  // stops

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Registry& registry() { return registry_; }
  Store& store() { return *store_; }
  Transport& transport() { return *transport_; }
  const std::string& transport_uri() const { return transport_uri_; }
  const std::string& store_uri() const { return store_uri_; }

  // Loads a C++ consumer module (shared library) and registers its topics
  // and consumers. Throws ModuleError naming the path and the loader's
  // reason. On a started engine the worker is stopped (its in-flight
  // handlers finish) and started again with the new consumers, also when
  // loading fails.
  void load_module(const std::string& path);

  // Saves the registered topics to the store and starts the worker (when
  // any consumer matches). Idempotent.
  void start();
  // Stops the worker after in-flight handlers finish. Idempotent.
  void stop();
  bool started() const;
  std::optional<WorkerStats> worker_stats() const;

  // Normalizes, validates against the registered topics, assigns an id when
  // empty, and saves. Throws ConfigurationError.
  Configuration save_configuration(Configuration config);
  std::optional<Configuration> find_configuration(std::string_view id_or_name);
  std::vector<Configuration> list_configurations();

  // Starts a run of a saved configuration (by id or name). Throws
  // NotFoundError, ConfigurationError (also for a run nothing can execute,
  // see above), TransportError when its first steps cannot be published
  // (the run is then left pending: see Orchestrator::start_run).
  Run start_run(std::string_view configuration, const RunOptions& options);
  // Starts a run of an unsaved configuration (validated; not saved).
  Run start_run(const Configuration& configuration, const RunOptions& options);
  // As start_run(); see Orchestrator::rerun and resume.
  Run rerun(std::string_view run_id, std::string description = "");
  Run resume(std::string_view run_id);
  bool cancel(std::string_view run_id);

  std::optional<Run> find_run(std::string_view run_id);
  std::vector<Run> list_runs(const RunQuery& query = {});

  // Blocks until the run is completed, failed or cancelled, and returns it.
  // Throws NotFoundError, or TimeoutError after `timeout`.
  Run wait(std::string_view run_id, std::chrono::milliseconds timeout);

  // Publishes a topic outside any run: its consumers run, nothing is
  // tracked. Throws NotFoundError for an unknown topic.
  void publish(std::string_view topic, Json payload,
               std::string ingestion_id = "");

  // A live feed of events committed by this process and, on a distributed
  // transport, by every process sharing it (run_id empty: all runs).
  std::shared_ptr<EventStream> subscribe(std::string run_id = "");
  void unsubscribe(const std::shared_ptr<EventStream>& stream);

 private:
  // Throws ConfigurationError when this process alone executes runs and
  // cannot execute these steps of `what` (a run of ...).
  void require_executable(const std::string& what,
                          const std::vector<StepSpec>& steps) const;
  void start_worker();  // with mutex_ held
  // RunEvents: broadcast to other processes, then deliver here.
  void emit(const std::vector<Event>& events) override;
  void on_remote_events(const Json& message);
  void deliver(const Event& event);

  EngineOptions options_;
  std::string transport_uri_;
  std::string store_uri_;
  Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Orchestrator> orchestrator_;
  std::unique_ptr<Worker> worker_;
  const std::string id_;  // tells this engine's broadcasts from others'
  std::unique_ptr<Listening> remote_events_;

  mutable std::mutex mutex_;   // worker_, start_called_
  bool start_called_ = false;  // start() was called, and stop() not since
  // streams_ and run_events_: a lock of their own, as deliver() runs on
  // transport threads and in emit() while start() holds mutex_ and waits
  // for the transport.
  mutable std::mutex events_mutex_;
  std::condition_variable run_changed_;
  std::vector<std::shared_ptr<EventStream>> streams_;
  uint64_t run_events_ = 0;  // run-level events seen, for wait()
};

}  // namespace isoqube
