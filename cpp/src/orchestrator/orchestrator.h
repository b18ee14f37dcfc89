// The run and step state machine: start, advance, retry, fail, cancel,
// re-run, resume.
//
// There is no central coordinator: whoever starts a run creates it whole in
// the store and publishes its first ready steps; the worker that wins a
// step's completion transition publishes the steps that became ready. Every
// transition is a compare-and-set in the store, so duplicated, redelivered or
// out-of-order messages never advance a run twice. A redelivered message for
// a step already completed re-publishes its successors that are still
// queued, so no crash point loses a run.
//
// Run events: each store change returns the events it committed, and the
// orchestrator hands them to its RunEvents right after the change, before
// its next store change or publish.
//
// Thread-safety: all methods may be called concurrently from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/configuration.h"
#include "isoqube/json.h"
#include "isoqube/message.h"
#include "isoqube/registry.h"
#include "isoqube/run.h"
#include "isoqube/store.h"
#include "isoqube/transport.h"

namespace isoqube {

// A step attempt this worker won the right to execute.
struct ClaimedStep {
  Run run;  // as it was right after the claim
  int step = -1;
  int attempt = 0;
  // The delivery that claimed it: the messages the attempt causes (its
  // successors, its retry) name it as their initiator and source.
  MessageCause cause;
};

// What claim_waiting() found for a contract naming a run.
struct WaitingClaim {
  enum class Outcome {
    kClaimed,  // `step` holds the claimed step
    kOutside,  // no such run, or the run has no step of the topic
    kStale,    // the run's steps of the topic wait for nothing
  };
  Outcome outcome = Outcome::kOutside;
  std::optional<ClaimedStep> step;
};

class Orchestrator {
 public:
  // All four must outlive the orchestrator.
  Orchestrator(Store& store, Transport& transport, const Registry& registry,
               RunEvents& events);

  // Validates and snapshots `config` into a new run, stores it whole, marks
  // it running and publishes its root steps. Throws ConfigurationError.
  // When a root step cannot be published (the broker is unreachable for
  // longer than its publish timeout, nothing is bound to the topic), throws
  // TransportError (MessageError for a message over the limit) naming the
  // run, which is left pending, never started and not failed: resume()
  // publishes it; starting again makes another run, and this one never
  // executes.
  Run start_run(const Configuration& config, const RunOptions& options);

  // A new run of the same configuration snapshot. Throws NotFoundError.
  Run rerun(std::string_view run_id, std::string description = "");

  // Re-executes a failed or cancelled run from its unfinished steps, keeping
  // completed ones, or starts a pending one (see start_run). Throws
  // NotFoundError, or ConfigurationError when the run is not failed,
  // cancelled or pending; TransportError when a step cannot be published
  // (the run is then failed, with the reason, and may be resumed again).
  Run resume(std::string_view run_id);

  // Cancels a pending or running run; its unfinished steps become
  // cancelled. Returns false when the run was already finished. Throws
  // NotFoundError.
  bool cancel(std::string_view run_id);

  // Publishes a topic outside any run; `cause`, when given, is the message
  // being handled. Throws NotFoundError for an unknown topic,
  // ConfigurationError for a payload that is not an object or nests deeper
  // than kMaxJsonDepth.
  void publish(std::string_view topic, Json payload,
               std::string ingestion_id = "",
               const MessageCause* cause = nullptr);

  // Worker side. Moves the step referenced by a delivered message to running
  // for this attempt. Returns nullopt when the message is stale or a
  // duplicate (then it may re-publish successors of a completed step, see
  // above). `redelivered`: the transport delivered it before without an
  // ack, so a step found running at this attempt is taken over.
  std::optional<ClaimedStep> claim(const StepRef& ref, bool redelivered);

  // Worker side, for a contract of another system (StepRef::names_step
  // false) whose correlation id is `run_id`: claims, as claim() does, the
  // first step of the run whose topic is `topic` and that waits for a
  // message (queued or retrying), or takes over such a step found running
  // when `redelivered`. A MassTransit or seed service advances a run this
  // way.
  WaitingClaim claim_waiting(const std::string& run_id,
                             const std::string& topic, bool redelivered);

  // Records the attempt's success and publishes the steps that became ready;
  // completes the run when every step is completed.
  void complete(const ClaimedStep& claimed, Json output);

  // The same without waiting for the transport's confirms: returns once the
  // step is recorded and the steps that became ready are handed over, and
  // calls `confirmed` once they are all confirmed (nullptr) or one of them
  // failed (its error), on a transport thread or before returning (see
  // Transport::publish_async). Throws as complete() does when it fails
  // before that; `confirmed` is then never called. A failed confirm leaves
  // the steps queued: giving the delivery back makes its redelivery
  // publish them again (claim()).
  void complete(const ClaimedStep& claimed, Json output,
                Transport::Confirmed confirmed);

  enum class FailOutcome {
    kRetrying,  // a retry is scheduled
    kFailed,    // the step (and its run) failed for good
    kStale,     // nothing recorded: the step moved on meanwhile
  };

  // Records the attempt's failure: schedules a retry when the step's policy
  // allows one (to `endpoint`, after the policy's delay), otherwise fails the
  // step and the run with the error.
  FailOutcome fail(const ClaimedStep& claimed, const std::string& error,
                   const std::string& endpoint);

  // True when the run is cancelled (or gone).
  bool is_cancelled(std::string_view run_id);

  // The envelope of a step message; `cause`: the message being handled.
  Envelope step_envelope(const Run& run, int step, int attempt,
                         const MessageCause* cause = nullptr) const;

 private:
  // Fills what every message this process sends has (ids, time, host,
  // addresses, initiator) for a message to `destination`.
  void address(Envelope& e, const std::string& destination,
               const MessageCause* cause) const;
  void publish_steps(const Run& run, const std::vector<int>& steps,
                     const MessageCause* cause = nullptr);
  void publish_steps(const Run& run, const std::vector<int>& steps,
                     const MessageCause* cause, Transport::Confirmed confirmed);
  // Both complete()s: an empty `confirmed` publishes and waits.
  void complete_step(const ClaimedStep& claimed, Json output,
                     Transport::Confirmed confirmed);
  // Hands each step's message to `publish` (entity, envelope); a step
  // that cannot be handed over fails the run (fail_unpublished), and the
  // error goes on to the caller.
  void publish_each(
      const Run& run, const std::vector<int>& steps, const MessageCause* cause,
      const std::function<void(const std::string&, Envelope)>& publish);
  void fail_unpublished(const Run& run, const StepSpec& spec,
                        const std::string& why);
  void advance(const Run& run, bool republish_queued,
               const MessageCause* cause = nullptr);
  FailOutcome fail_step(const ClaimedStep& claimed, StepStatus from,
                        const std::string& error);

  Store& store_;
  Transport& transport_;
  const Registry& registry_;
  RunEvents& events_;
};

}  // namespace isoqube
