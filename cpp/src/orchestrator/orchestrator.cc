#include "orchestrator/orchestrator.h"

#include <algorithm>

#include "common/json_depth.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "message/host_info.h"
#include "message/step_message.h"
#include "orchestrator/confirm_countdown.h"
#include "orchestrator/step_outcome.h"

namespace isoqube {
namespace {

// Which process claimed a step ("on host:pid"), kept in the claim's event so
// that a run's history tells where each attempt ran.
const std::string& claimed_by() {
  static const std::string text =
      "on " + detail::host_info().machine_name + ":" +
      std::to_string(detail::host_info().process_id);
  return text;
}

// MassTransit's bus endpoint, which a message sent while no delivery is
// being handled names as its source: "<machine>_<process>_bus_<pid>".
const std::string& bus_name() {
  static const std::string name =
      detail::host_info().machine_name + "_" +
      detail::host_info().process_name + "_bus_" +
      std::to_string(detail::host_info().process_id);
  return name;
}

void check_payload(const Json& payload, const std::string& what) {
  if (!payload.is_object() && !payload.is_null()) {
    throw ConfigurationError(what + " must be a JSON object, not " +
                             std::string(payload.type_name()));
  }
  if (detail::deeper_than(payload, kMaxJsonDepth)) {
    throw ConfigurationError(what + " nests arrays and objects deeper than " +
                             std::to_string(kMaxJsonDepth) + " levels");
  }
}

bool all_completed(const Run& run) {
  return std::all_of(run.steps.begin(), run.steps.end(), [](const Step& s) {
    return s.status == StepStatus::kCompleted;
  });
}

// What a step message says: the run's payload under the step's.
detail::StepMessage step_message(const Run& run, int step, int attempt) {
  const StepSpec& spec = run.steps[step].spec;
  detail::StepMessage m;
  m.run_id = run.id;
  m.ingestion_id = run.ingestion_id;
  m.step = spec.name;
  m.step_index = step;
  m.attempt = attempt;
  m.payload = run.payload;
  m.payload.update(spec.payload);
  return m;
}

std::string entity_of(const StepSpec& spec, const Topic* topic) {
  return topic ? topic->entity_name : kebab_case(spec.topic);
}

// The change of a claimed step to `to`, at the claimed attempt.
StepTransition finish(const ClaimedStep& claimed, StepStatus from,
                      StepStatus to) {
  StepTransition t;
  t.step = claimed.step;
  t.from = {from};
  t.expect_attempts = claimed.attempt;
  t.to = to;
  t.completed_on = now();
  return t;
}

// A run whose first steps could not be published was never started: it is
// left pending (not failed: nothing ran), its steps queued, for resume() to
// publish; retrying start_run() instead starts another run, and this one
// never executes. Returns what the caller is told.
std::string leave_unstarted(Store& store, RunEvents& events, const Run& run,
                            const StepSpec& spec, const std::string& why) {
  RunTransition t;
  t.from = {RunStatus::kRunning};
  t.to = RunStatus::kPending;
  t.error = "not started: step '" + spec.name +
            "' could not be published: " + why +
            "; resume the run to publish it";
  events.emit(store.transition_run(run.id, t));
  logger("orchestrator")->warn("run {} {}", run.id, *t.error);
  return "run " + run.id + " was stored but not started, step '" + spec.name +
         "' could not be published: " + why +
         "; the run stays pending: resume it to publish it, or start another";
}

}  // namespace

Orchestrator::Orchestrator(Store& store, Transport& transport,
                           const Registry& registry, RunEvents& events)
    : store_(store),
      transport_(transport),
      registry_(registry),
      events_(events) {}

Run Orchestrator::start_run(const Configuration& config,
                            const RunOptions& options) {
  bool know_topics = registry_.has_topics();
  Configuration normalized =
      normalize(config, know_topics ? &registry_ : nullptr);
  check_payload(options.payload, "run payload");
  for (const StepSpec& spec : normalized.steps) {
    check_payload(spec.payload, "payload of step '" + spec.name + "'");
  }
  Run run;
  run.id = new_uuid();
  run.configuration_id = normalized.id;
  run.configuration_name = normalized.name;
  run.description = options.description;
  run.ingestion_id =
      options.ingestion_id.empty() ? new_uuid() : options.ingestion_id;
  run.status = RunStatus::kRunning;
  run.created_on = run.modified_on = now();
  run.payload = options.payload.is_null() ? Json::object() : options.payload;
  for (StepSpec& spec : normalized.steps) {
    Step step;
    step.spec = std::move(spec);
    run.steps.push_back(std::move(step));
  }
  events_.emit(store_.create_run(run));
  logger("orchestrator")
      ->info("run {} of '{}' started ({} steps)", run.id,
             run.configuration_name, run.steps.size());
  const QueuedSteps first =
      store_.queue_steps(run.id, detail::ready_steps(run));
  events_.emit(first.events);
  for (int index : first.steps) {
    const StepSpec& spec = run.steps[index].spec;
    try {
      transport_.publish(entity_of(spec, registry_.find_topic(spec.topic)),
                         step_envelope(run, index, 1));
    } catch (const TransportError& e) {
      throw TransportError(
          leave_unstarted(store_, events_, run, spec, e.what()));
    } catch (const Error& e) {
      leave_unstarted(store_, events_, run, spec, e.what());
      throw;
    }
  }
  return store_.find_run(run.id).value_or(run);
}

Run Orchestrator::rerun(std::string_view run_id, std::string description) {
  std::optional<Run> old = store_.find_run(run_id);
  if (!old) throw NotFoundError("no run with id '" + std::string(run_id) + "'");
  Configuration config;
  config.id = old->configuration_id;
  config.name = old->configuration_name;
  for (const Step& step : old->steps) config.steps.push_back(step.spec);
  RunOptions options;
  options.description =
      description.empty()
          ? "Re-run of " + old->id.substr(0, 8) +
                (old->description.empty() ? std::string()
                                          : ": " + old->description)
          : std::move(description);
  options.ingestion_id = old->ingestion_id;
  options.payload = old->payload;
  return start_run(config, options);
}

Run Orchestrator::resume(std::string_view run_id) {
  std::optional<Run> run = store_.find_run(run_id);
  if (!run) throw NotFoundError("no run with id '" + std::string(run_id) + "'");
  if (run->status != RunStatus::kFailed &&
      run->status != RunStatus::kCancelled &&
      run->status != RunStatus::kPending) {
    throw ConfigurationError("run " + run->id + " is " +
                             std::string(to_string(run->status)) +
                             "; only failed, cancelled or pending (never "
                             "started) runs can be resumed");
  }
  RunTransition back;
  back.from = {RunStatus::kFailed, RunStatus::kCancelled, RunStatus::kPending};
  back.to = RunStatus::kRunning;
  back.error = "";
  const std::vector<Event> running = store_.transition_run(run->id, back);
  events_.emit(running);
  if (running.empty()) {
    throw ConfigurationError("run " + run->id +
                             " changed while being resumed; try again");
  }
  for (std::size_t i = 0; i < run->steps.size(); ++i) {
    StepStatus s = run->steps[i].status;
    if (s != StepStatus::kFailed && s != StepStatus::kCancelled) continue;
    StepTransition reset;
    reset.step = static_cast<int>(i);
    reset.from = {s};
    reset.to = StepStatus::kPending;
    reset.attempts = 0;
    reset.error = "";
    reset.detail = "resumed";
    if (std::optional<AppliedStep> pending =
            store_.transition_step(run->id, reset)) {
      events_.emit(pending->events);
    }
  }
  std::optional<Run> resumed = store_.find_run(run->id);
  logger("orchestrator")->info("run {} resumed", run->id);
  advance(*resumed, true);
  return store_.find_run(run->id).value_or(*resumed);
}

bool Orchestrator::cancel(std::string_view run_id) {
  if (!store_.find_run(run_id)) {
    throw NotFoundError("no run with id '" + std::string(run_id) + "'");
  }
  RunTransition t;
  t.from = {RunStatus::kPending, RunStatus::kRunning};
  t.to = RunStatus::kCancelled;
  t.cancel_unfinished_steps = true;
  const std::vector<Event> cancelled = store_.transition_run(run_id, t);
  events_.emit(cancelled);
  if (cancelled.empty()) return false;
  logger("orchestrator")->info("run {} cancelled", run_id);
  return true;
}

bool Orchestrator::is_cancelled(std::string_view run_id) {
  std::optional<Run> run = store_.find_run(run_id);
  return !run || run->status == RunStatus::kCancelled;
}

void Orchestrator::publish(std::string_view topic_name, Json payload,
                           std::string ingestion_id,
                           const MessageCause* cause) {
  const Topic* topic = registry_.find_topic(topic_name);
  if (!topic) {
    throw NotFoundError("unknown topic '" + std::string(topic_name) + "'");
  }
  check_payload(payload, "payload of '" + topic->name + "'");
  Envelope e;
  address(e, topic->entity_name, cause);
  e.conversation_id = cause && !cause->conversation_id.empty()
                          ? cause->conversation_id
                          : e.message_id;
  e.message_type = {topic->urn()};
  detail::StepMessage m;  // outside any run
  m.ingestion_id = ingestion_id.empty() ? new_uuid() : std::move(ingestion_id);
  m.payload = payload.is_null() ? Json::object() : std::move(payload);
  e.message = detail::step_message_body(std::move(m), e.sent_time);
  transport_.publish(topic->entity_name, std::move(e));
}

void Orchestrator::address(Envelope& e, const std::string& destination,
                           const MessageCause* cause) const {
  e.message_id = new_uuid();
  e.sent_time = now();
  e.host = detail::host_json();
  e.destination_address = transport_.address(destination);
  if (cause && !cause->endpoint.empty()) {
    e.source_address = transport_.address(cause->endpoint);
  } else {
    e.source_address = transport_.address(bus_name()) + "?temporary=true";
  }
  e.initiator_id = cause ? cause->message_id : std::string();
}

Envelope Orchestrator::step_envelope(const Run& run, int step, int attempt,
                                     const MessageCause* cause) const {
  const StepSpec& spec = run.steps[step].spec;
  const Topic* topic = registry_.find_topic(spec.topic);
  Envelope e;
  address(e, entity_of(spec, topic), cause);
  e.correlation_id = run.id;
  e.conversation_id = run.id;
  // A topic this process does not know keeps the default namespace.
  e.message_type = {topic ? topic->urn()
                          : "urn:message:Isoqube.Topics:" + spec.topic};
  e.headers = {{"Isoqube-Step", spec.name}};
  e.message =
      detail::step_message_body(step_message(run, step, attempt), e.sent_time);
  return e;
}

void Orchestrator::publish_steps(const Run& run, const std::vector<int>& steps,
                                 const MessageCause* cause) {
  publish_each(run, steps, cause,
               [this](const std::string& entity, Envelope e) {
                 transport_.publish(entity, std::move(e));
               });
}

void Orchestrator::publish_steps(const Run& run, const std::vector<int>& steps,
                                 const MessageCause* cause,
                                 Transport::Confirmed confirmed) {
  if (steps.empty()) {
    confirmed(nullptr);
    return;
  }
  if (steps.size() > 1) {
    auto countdown = std::make_shared<detail::ConfirmCountdown>(
        steps.size(), std::move(confirmed));
    confirmed = [countdown](std::exception_ptr error) {
      countdown->settle(std::move(error));
    };
  }
  // On an error the countdown never reaches zero: `confirmed` is not called.
  publish_each(run, steps, cause, [&](const std::string& entity, Envelope e) {
    transport_.publish_async(entity, std::move(e), confirmed);
  });
}

void Orchestrator::publish_each(
    const Run& run, const std::vector<int>& steps, const MessageCause* cause,
    const std::function<void(const std::string&, Envelope)>& publish) {
  for (int index : steps) {
    const StepSpec& spec = run.steps[index].spec;
    const std::string entity =
        entity_of(spec, registry_.find_topic(spec.topic));
    try {
      publish(entity, step_envelope(run, index, 1, cause));
    } catch (const Error& e) {
      fail_unpublished(run, spec, e.what());
      throw;
    }
  }
}

// A step that cannot be handed to the transport fails its run with the
// reason; it stays queued, so resume() or a redelivery re-publishes it.
void Orchestrator::fail_unpublished(const Run& run, const StepSpec& spec,
                                    const std::string& why) {
  RunTransition t;
  t.from = {RunStatus::kRunning};
  t.to = RunStatus::kFailed;
  t.error = "could not publish step '" + spec.name + "': " + why;
  events_.emit(store_.transition_run(run.id, t));
}

// Queues and publishes every pending step whose dependencies are complete,
// and completes the run when nothing is left. With `republish_queued`, steps
// already queued are published again (recovery after a crash between
// queueing and publishing); their duplicates are absorbed by claim().
void Orchestrator::advance(const Run& run, bool republish_queued,
                           const MessageCause* cause) {
  if (run.status != RunStatus::kRunning) return;
  if (all_completed(run)) {
    RunTransition t;
    t.from = {RunStatus::kRunning};
    t.to = RunStatus::kCompleted;
    const std::vector<Event> completed = store_.transition_run(run.id, t);
    events_.emit(completed);
    if (completed.empty()) return;
    logger("orchestrator")->info("run {} completed", run.id);
    return;
  }
  const std::vector<int> ready = detail::ready_steps(run);
  std::vector<int> requeued;
  for (std::size_t i = 0; republish_queued && i < run.steps.size(); ++i) {
    if (run.steps[i].status == StepStatus::kQueued) {
      requeued.push_back(static_cast<int>(i));
    }
  }
  QueuedSteps won;
  if (!ready.empty()) won = store_.queue_steps(run.id, ready);
  events_.emit(won.events);
  won.steps.insert(won.steps.end(), requeued.begin(), requeued.end());
  publish_steps(run, won.steps, cause);
}

std::optional<ClaimedStep> Orchestrator::claim(const StepRef& ref,
                                               bool redelivered) {
  StepTransition t;
  t.step = ref.step;
  t.from = {StepStatus::kQueued, StepStatus::kRetrying};
  t.expect_attempts = ref.attempt - 1;
  t.to = StepStatus::kRunning;
  t.attempts = ref.attempt;
  if (ref.attempt == 1) t.invoked_on = now();
  t.detail = claimed_by();
  if (std::optional<AppliedStep> running =
          store_.transition_step(ref.run_id, t)) {
    events_.emit(running->events);
    return ClaimedStep{std::move(running->run), ref.step, ref.attempt, {}};
  }
  std::optional<Run> run = store_.find_run(ref.run_id);
  if (!run) throw NotFoundError("no run with id '" + ref.run_id + "'");
  if (ref.step < 0 || ref.step >= static_cast<int>(run->steps.size())) {
    throw MessageError("run " + ref.run_id + " has no step " +
                       std::to_string(ref.step));
  }
  const Step& step = run->steps[ref.step];
  if (step.status == StepStatus::kCompleted) {
    // A duplicate of a finished step: make sure its successors went out.
    advance(*run, true);
    return std::nullopt;
  }
  if (redelivered && step.status == StepStatus::kRunning &&
      step.attempts == ref.attempt) {
    // Whoever held this delivery died before acknowledging it.
    StepTransition take;
    take.step = ref.step;
    take.from = {StepStatus::kRunning};
    take.expect_attempts = ref.attempt;
    take.to = StepStatus::kRunning;
    take.detail = "taken over after redelivery " + claimed_by();
    if (std::optional<AppliedStep> taken =
            store_.transition_step(ref.run_id, take)) {
      events_.emit(taken->events);
      return ClaimedStep{std::move(taken->run), ref.step, ref.attempt, {}};
    }
  }
  return std::nullopt;
}

WaitingClaim Orchestrator::claim_waiting(const std::string& run_id,
                                         const std::string& topic,
                                         bool redelivered) {
  WaitingClaim found;
  std::optional<Run> run = store_.find_run(run_id);
  if (!run) return found;
  const Step* waiting = nullptr;
  bool has_topic = false;
  for (const Step& step : run->steps) {
    if (step.spec.topic != topic) continue;
    has_topic = true;
    const bool claimable = step.status == StepStatus::kQueued ||
                           step.status == StepStatus::kRetrying ||
                           (redelivered && step.status == StepStatus::kRunning);
    if (claimable) {
      waiting = &step;
      break;
    }
  }
  if (!has_topic) return found;
  found.outcome = WaitingClaim::Outcome::kStale;
  if (waiting == nullptr) return found;
  StepRef ref;
  ref.run_id = run_id;
  ref.step = static_cast<int>(waiting - run->steps.data());
  // A running step is taken over at its attempt; a waiting one is claimed
  // at the next.
  ref.attempt =
      waiting->attempts + (waiting->status == StepStatus::kRunning ? 0 : 1);
  found.step = claim(ref, redelivered);
  if (found.step) found.outcome = WaitingClaim::Outcome::kClaimed;
  return found;
}

// One store update completes the step, queues the steps that became ready
// and, with the last step, completes the run (see step_outcome.h); the
// queued steps are published after it.
void Orchestrator::complete(const ClaimedStep& claimed, Json output) {
  complete_step(claimed, std::move(output), nullptr);
}

void Orchestrator::complete(const ClaimedStep& claimed, Json output,
                            Transport::Confirmed confirmed) {
  if (!confirmed) throw ConfigurationError("complete() needs a callback");
  complete_step(claimed, std::move(output), std::move(confirmed));
}

void Orchestrator::complete_step(const ClaimedStep& claimed, Json output,
                                 Transport::Confirmed confirmed) {
  StepTransition t =
      finish(claimed, StepStatus::kRunning, StepStatus::kCompleted);
  t.succeeded_on = t.completed_on;
  t.output = std::move(output);
  std::optional<detail::RecordedOutcome> done =
      detail::record_outcome(store_, claimed, t, detail::plan_completion);
  if (done) events_.emit(done->events);
  // Nothing to publish, or published here and now.
  auto published = [&confirmed] {
    if (confirmed) confirmed(nullptr);
  };
  if (!done) {
    logger("orchestrator")
        ->debug(
            "completion of run {} step {} attempt {} not recorded: the "
            "step moved on (cancelled or taken over)",
            claimed.run.id, claimed.step, claimed.attempt);
    return published();
  }
  const Run& run = done->run;
  if (t.run_to) logger("orchestrator")->info("run {} completed", run.id);
  if (run.status != RunStatus::kRunning) {
    // Completed by this update, or failed meanwhile: then the steps just
    // queued wait for resume(), which publishes queued steps.
    if (!t.queue.empty()) {
      logger("orchestrator")
          ->debug("run {} is {}: {} step(s) queued, published on resume",
                  run.id, to_string(run.status), t.queue.size());
    }
    return published();
  }
  if (done->planned_on != RunStatus::kRunning) {
    // Planned on a run that was not running, which was resumed meanwhile.
    advance(run, false, &claimed.cause);
    return published();
  }
  if (confirmed) {
    publish_steps(run, t.queue, &claimed.cause, std::move(confirmed));
  } else {
    publish_steps(run, t.queue, &claimed.cause);
  }
}

Orchestrator::FailOutcome Orchestrator::fail(const ClaimedStep& claimed,
                                             const std::string& error,
                                             const std::string& endpoint) {
  const StepSpec& spec = claimed.run.steps[claimed.step].spec;
  if (claimed.attempt >= spec.retry.attempts) {
    return fail_step(claimed, StepStatus::kRunning, error);
  }
  StepTransition t;
  t.step = claimed.step;
  t.from = {StepStatus::kRunning};
  t.expect_attempts = claimed.attempt;
  t.to = StepStatus::kRetrying;
  t.retried_on = now();
  t.error = error;
  std::optional<AppliedStep> retrying =
      store_.transition_step(claimed.run.id, t);
  if (!retrying) return FailOutcome::kStale;
  events_.emit(retrying->events);
  auto delay = spec.retry.delay_before(claimed.attempt + 1);
  logger("orchestrator")
      ->warn("run {} step '{}' attempt {} of {} failed: {}; retrying in {} ms",
             claimed.run.id, spec.name, claimed.attempt, spec.retry.attempts,
             error, delay.count());
  try {
    Envelope retry = step_envelope(claimed.run, claimed.step,
                                   claimed.attempt + 1, &claimed.cause);
    retry.destination_address = transport_.address(endpoint);
    transport_.send_delayed(endpoint, std::move(retry), delay);
  } catch (const Error& e) {
    // Without its retry message the step would wait forever: fail it now.
    return fail_step(
        claimed, StepStatus::kRetrying,
        error + " (the retry could not be scheduled: " + e.what() + ")");
  }
  return FailOutcome::kRetrying;
}

// Fails the step (expected in `from` at the claimed attempt) and its run, in
// one store update.
Orchestrator::FailOutcome Orchestrator::fail_step(const ClaimedStep& claimed,
                                                  StepStatus from,
                                                  const std::string& error) {
  const StepSpec& spec = claimed.run.steps[claimed.step].spec;
  const std::string reason = "step '" + spec.name + "' failed after " +
                             std::to_string(claimed.attempt) + " attempt" +
                             (claimed.attempt == 1 ? "" : "s") + ": " + error;
  StepTransition t = finish(claimed, from, StepStatus::kFailed);
  t.failed_on = t.completed_on;
  t.error = error;
  std::optional<detail::RecordedOutcome> done = detail::record_outcome(
      store_, claimed, t, [&reason](const Run& snapshot, StepTransition& t) {
        detail::plan_failure(snapshot, reason, t);
      });
  if (!done) return FailOutcome::kStale;
  events_.emit(done->events);
  if (t.run_to) {
    logger("orchestrator")->error("run {} failed: {}", claimed.run.id, reason);
  } else if (done->run.status == RunStatus::kRunning) {
    // Planned on a run that was not running, which was resumed meanwhile.
    RunTransition r;
    r.from = {RunStatus::kRunning};
    r.to = RunStatus::kFailed;
    r.error = reason;
    const std::vector<Event> failed = store_.transition_run(claimed.run.id, r);
    events_.emit(failed);
    if (!failed.empty()) {
      logger("orchestrator")
          ->error("run {} failed: {}", claimed.run.id, reason);
    }
  }
  return FailOutcome::kFailed;
}

}  // namespace isoqube
