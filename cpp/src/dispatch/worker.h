// The dispatch worker: binds registered consumers to the transport and runs
// their handlers on a pool of threads.
//
// Each consumer gets its endpoint (queue) bound to its topic. A pool thread
// receives a delivery, claims the step through the orchestrator, runs the
// handler, records the outcome and hands over the steps that became ready;
// the delivery is acknowledged only once the transport confirmed them,
// while the thread goes on to its next delivery.
// Handler exceptions are caught on the pool thread and become step
// failures; nothing escapes a worker thread. Undecodable messages and
// messages for unknown runs go to the endpoint's error queue with the reason.
//
// Thread-safety: start() and stop() from one controlling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "isoqube/consumer.h"
#include "isoqube/registry.h"
#include "isoqube/transport.h"
#include "orchestrator/orchestrator.h"

namespace isoqube {

struct WorkerOptions {
  int concurrency = 4;  // pool threads; >= 1
  // Services whose consumers this worker runs; empty: all registered ones.
  std::vector<std::string> services;
  // Unacknowledged deliveries held at once (on RabbitMQ: per endpoint); 0:
  // twice the concurrency plus kConfirmWindow. A delivery stays
  // unacknowledged until the steps it queued are confirmed, after its
  // thread moved on; without the window, fast handlers would wait for the
  // broker's confirms instead of running.
  std::size_t prefetch = 0;
  static constexpr std::size_t kConfirmWindow = 16;
};

class Worker {
 public:
  // All references must outlive the worker.
  Worker(Transport& transport, Orchestrator& orchestrator,
         const Registry& registry, WorkerOptions options);
  ~Worker();  // stops

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Subscribes and starts the pool. Throws ConfigurationError when options
  // are invalid or no registered consumer matches the services.
  void start();
  // Lets in-flight handlers finish and their confirms arrive (or fail),
  // then joins the pool. Undelivered messages stay in the transport.
  void stop();

  bool running() const { return running_; }
  // Whether a worker with these services runs `consumer` (empty: all).
  static bool serves(const Consumer& consumer,
                     const std::vector<std::string>& services);
  WorkerStats stats() const;
  // Endpoint names this worker consumes.
  std::vector<std::string> endpoints() const;

 private:
  // Where a delivery goes: the step attempt it claimed, none (a message
  // outside any run), or nowhere (`stale`: a duplicate, or a message for a
  // step that moved on).
  struct Route {
    bool stale = false;
    bool contract = false;  // a message without Isoqube's step fields
    std::optional<ClaimedStep> claimed;
  };

  // What the handler made of the delivery: its output, or why it failed.
  struct Attempt {
    Json output;
    std::string error;  // empty: succeeded
  };

  void loop();
  // route -> run -> settle; each below.
  void handle(Delivery delivery);
  const Consumer& consumer_of(const Delivery& delivery) const;
  Route route(const Consumer& consumer, const Delivery& delivery);
  Attempt run(const Consumer& consumer, const Envelope& envelope,
              const Route& routed);
  void settle(const Consumer& consumer, const Route& routed, Attempt attempt,
              const Delivery& delivery);
  void complete(const ClaimedStep& claimed, Json output,
                const Delivery& delivery);
  void reject(const Delivery& delivery, const Fault& fault, bool log);
  void check_message_type(const std::string& urn, const Envelope& envelope,
                          const std::string& endpoint) const;

  Transport& transport_;
  Orchestrator& orchestrator_;
  const Registry& registry_;
  WorkerOptions options_;
  std::vector<const Consumer*> consumers_;
  // The message type URN of each of consumers_' topics, built once.
  std::vector<std::string> message_types_;
  std::unique_ptr<Inbox> inbox_;
  std::vector<std::thread> threads_;
  // Completions whose confirms are awaited; stop() waits for them. Shared
  // with the callbacks, which the transport may run late.
  struct Unsettled {
    std::mutex mutex;
    std::condition_variable none;
    int count = 0;  // guarded by mutex
  };
  std::shared_ptr<Unsettled> unsettled_ = std::make_shared<Unsettled>();
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> handled_{0}, failed_{0}, skipped_{0}, rejected_{0};
};

}  // namespace isoqube
