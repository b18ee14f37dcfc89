#include "dispatch/worker.h"

#include <algorithm>
#include <chrono>

#include "common/utf8.h"
#include "dispatch/step_context.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"

namespace isoqube {
namespace {

constexpr std::chrono::milliseconds kReceivePoll{100};
constexpr std::chrono::milliseconds kRequeuePause{200};

Fault fault_of(std::string message, std::string exception_type,
               int retry_count = 0) {
  Fault fault;
  fault.message = std::move(message);
  fault.exception_type = std::move(exception_type);
  fault.retry_count = retry_count;
  return fault;
}

// A consumer that failed, named as MassTransit's fault headers name the
// consumer and message types.
Fault consumer_fault(const Consumer& consumer, const std::string& error,
                     int retry_count) {
  Fault fault = fault_of(consumer.name + " failed: " + error,
                         "isoqube.ConsumerError", retry_count);
  fault.consumer_type = consumer.name;
  fault.message_type = consumer.topic;
  return fault;
}

std::string what(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

bool Worker::serves(const Consumer& consumer,
                    const std::vector<std::string>& services) {
  return services.empty() || std::find(services.begin(), services.end(),
                                       consumer.service) != services.end();
}

Worker::Worker(Transport& transport, Orchestrator& orchestrator,
               const Registry& registry, WorkerOptions options)
    : transport_(transport),
      orchestrator_(orchestrator),
      registry_(registry),
      options_(std::move(options)) {}

Worker::~Worker() { stop(); }

void Worker::start() {
  if (running_) return;
  if (options_.concurrency < 1) {
    throw ConfigurationError("worker concurrency must be at least 1, not " +
                             std::to_string(options_.concurrency));
  }
  consumers_.clear();
  message_types_.clear();
  std::vector<Binding> bindings;
  for (const Consumer* consumer : registry_.consumers()) {
    if (!serves(*consumer, options_.services)) continue;
    const Topic* topic = registry_.find_topic(consumer->topic);
    consumers_.push_back(consumer);
    message_types_.push_back(topic->urn());
    bindings.push_back({consumer->endpoint, {topic->entity_name}});
  }
  if (consumers_.empty()) {
    throw ConfigurationError(
        "no registered consumer belongs to the worker's services");
  }
  std::size_t prefetch =
      options_.prefetch ? options_.prefetch
                        : 2 * static_cast<std::size_t>(options_.concurrency) +
                              WorkerOptions::kConfirmWindow;
  inbox_ = transport_.subscribe(bindings, prefetch);
  running_ = true;
  for (int i = 0; i < options_.concurrency; ++i) {
    threads_.emplace_back([this] { loop(); });
  }
  logger("dispatch")
      ->debug("worker started: {} consumers, {} threads", consumers_.size(),
              options_.concurrency);
}

void Worker::stop() {
  if (!running_.exchange(false)) return;
  inbox_->close();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  {
    // Settled within the transport's publish timeout, confirmed or not.
    std::unique_lock<std::mutex> lock(unsettled_->mutex);
    unsettled_->none.wait(lock, [this] { return unsettled_->count == 0; });
  }
  inbox_.reset();
  logger("dispatch")->debug("worker stopped");
}

void Worker::loop() {
  while (running_) {
    std::optional<Delivery> delivery = inbox_->receive(kReceivePoll);
    if (delivery) handle(std::move(*delivery));
  }
}

// Runs one delivery to the end: route, run, settle. Nothing escapes: a
// consumer's exception is the step's failure; a message that can never be
// handled goes to the error queue; a failure of the store or transport
// gives the message back.
void Worker::handle(Delivery delivery) {
  try {
    const Consumer& consumer = consumer_of(delivery);
    const Route routed = route(consumer, delivery);
    if (routed.stale) {
      ++skipped_;
      delivery.ack();
      return;
    }
    settle(consumer, routed, run(consumer, *delivery.envelope, routed),
           delivery);
  } catch (const MessageError& e) {
    reject(delivery, fault_of(e.what(), "isoqube.MessageError"), true);
  } catch (const NotFoundError& e) {
    reject(delivery, fault_of(e.what(), "isoqube.NotFoundError"), true);
  } catch (const std::exception& e) {
    logger("dispatch")
        ->error("message {} on '{}' given back after an error: {}",
                delivery.envelope->message_id, delivery.endpoint, e.what());
    // Store or transport trouble: pause this thread a little so a lasting
    // outage is not a hot loop of redeliveries.
    std::this_thread::sleep_for(kRequeuePause);
    delivery.requeue();
  }
}

// The endpoint's consumer, when the message is of its topic's type.
const Consumer& Worker::consumer_of(const Delivery& delivery) const {
  const auto found = std::find_if(
      consumers_.begin(), consumers_.end(),
      [&](const Consumer* c) { return c->endpoint == delivery.endpoint; });
  if (found == consumers_.end()) {
    throw MessageError("no consumer on endpoint '" + delivery.endpoint + "'");
  }
  check_message_type(message_types_[found - consumers_.begin()],
                     *delivery.envelope, delivery.endpoint);
  return **found;
}

// What the attempt's outcome means for the delivery: a step that succeeded
// is completed (acked once its successors are confirmed); one that failed
// is retried or failed for good (then the message goes to the error queue,
// as MassTransit puts it there after its last retry); a message outside
// any run is acked, or rejected when its consumer failed.
void Worker::settle(const Consumer& consumer, const Route& routed,
                    Attempt attempt, const Delivery& delivery) {
  if (!routed.claimed) {
    if (attempt.error.empty()) {
      delivery.ack();
      return;
    }
    logger("dispatch")
        ->error("{} failed on {}: {}", consumer.name, consumer.topic,
                attempt.error);
    reject(delivery, consumer_fault(consumer, attempt.error, 0), false);
    return;
  }
  const ClaimedStep& claimed = *routed.claimed;
  if (attempt.error.empty()) {
    complete(claimed, std::move(attempt.output), delivery);
  } else if (orchestrator_.fail(claimed, attempt.error, consumer.endpoint) ==
             Orchestrator::FailOutcome::kFailed) {
    // The failure is recorded before the message leaves.
    reject(delivery, consumer_fault(consumer, attempt.error, claimed.attempt),
           false);
  } else {
    delivery.ack();  // a retry of the step is scheduled
  }
}

// `log`: say why here (a consumer's failure was logged where it happened).
void Worker::reject(const Delivery& delivery, const Fault& fault, bool log) {
  if (log) {
    logger("dispatch")
        ->error("message {} on '{}' rejected: {}",
                delivery.envelope->message_id, delivery.endpoint,
                fault.message);
  }
  ++rejected_;
  delivery.reject(fault);
}

// An Isoqube step message claims the step it names. A contract of another
// system (a MassTransit or seed service) whose correlation id names a run
// claims the run's step of this topic that waits for it, and is otherwise
// a message outside any run, as is a message that names no run.
Worker::Route Worker::route(const Consumer& consumer,
                            const Delivery& delivery) {
  const StepRef ref = step_ref(*delivery.envelope);
  Route routed;
  routed.contract = !ref.names_step;
  if (ref.names_step && ref.step >= 0) {
    routed.claimed = orchestrator_.claim(ref, delivery.redelivered);
    routed.stale = !routed.claimed;
  } else if (!ref.names_step && !ref.run_id.empty()) {
    WaitingClaim waiting = orchestrator_.claim_waiting(
        ref.run_id, consumer.topic, delivery.redelivered);
    routed.stale = waiting.outcome == WaitingClaim::Outcome::kStale;
    routed.claimed = std::move(waiting.step);
  }
  if (routed.claimed) {
    routed.claimed->cause = {delivery.envelope->message_id,
                             delivery.envelope->conversation_id,
                             delivery.endpoint};
  }
  return routed;
}

Worker::Attempt Worker::run(const Consumer& consumer, const Envelope& envelope,
                            const Route& routed) {
  detail::StepContext context(orchestrator_, consumer, envelope,
                              routed.claimed ? &*routed.claimed : nullptr,
                              routed.contract);
  Attempt attempt;
  try {
    attempt.output = consumer.handler(context);
    attempt.error = detail::unstorable(attempt.output);
  } catch (const std::exception& e) {
    // Any bytes; shown, stored and sent as text from here on.
    attempt.error = detail::valid_utf8(e.what());
  } catch (...) {
    attempt.error = "unknown exception";
  }
  if (attempt.error.empty()) {
    ++handled_;
  } else {
    ++failed_;
  }
  return attempt;
}

// Acks once the steps that the completion made ready are confirmed, from
// the transport's thread, while this thread goes on to its next delivery:
// a worker thread never waits for the broker. A failed confirm gives the
// delivery back; its redelivery publishes the queued steps again
// (Orchestrator::claim).
void Worker::complete(const ClaimedStep& claimed, Json output,
                      const Delivery& delivery) {
  {
    std::lock_guard<std::mutex> lock(unsettled_->mutex);
    ++unsettled_->count;
  }
  auto settled = [unsettled = unsettled_] {
    std::lock_guard<std::mutex> lock(unsettled->mutex);
    if (--unsettled->count == 0) unsettled->none.notify_all();
  };
  try {
    orchestrator_.complete(
        claimed, std::move(output),
        [settled, ack = delivery.ack, requeue = delivery.requeue,
         id = delivery.envelope->message_id,
         endpoint = delivery.endpoint](std::exception_ptr error) {
          if (error) {
            logger("dispatch")
                ->error("message {} on '{}' given back: {}", id, endpoint,
                        what(error));
            requeue();
          } else {
            ack();
          }
          settled();
        });
  } catch (...) {
    settled();
    throw;
  }
}

// A message whose type the endpoint's consumer does not handle (published
// straight to the endpoint by another system, or a topic renamed since) is
// not guessed at: it goes to the error queue, as MassTransit would skip it.
void Worker::check_message_type(const std::string& urn,
                                const Envelope& envelope,
                                const std::string& endpoint) const {
  const std::vector<std::string>& types = envelope.message_type;
  if (std::find(types.begin(), types.end(), urn) != types.end()) return;
  std::string got;
  for (const std::string& type : types) got += (got.empty() ? "" : ", ") + type;
  throw MessageError("endpoint '" + endpoint + "' consumes " + urn +
                     ", not a message of type [" + got + "]");
}

WorkerStats Worker::stats() const {
  return {handled_.load(), failed_.load(), skipped_.load(), rejected_.load()};
}

std::vector<std::string> Worker::endpoints() const {
  std::vector<std::string> names;
  for (const Consumer* c : consumers_) names.push_back(c->endpoint);
  return names;
}

}  // namespace isoqube
