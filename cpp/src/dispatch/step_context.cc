#include "dispatch/step_context.h"

#include <utility>

#include "isoqube/log.h"
#include "message/step_message.h"

namespace isoqube::detail {

StepContext::StepContext(Orchestrator& orchestrator, const Consumer& consumer,
                         const Envelope& envelope, const ClaimedStep* claimed,
                         bool contract)
    : orchestrator_(orchestrator),
      consumer_(consumer),
      cause_{envelope.message_id, envelope.conversation_id, consumer.endpoint},
      logger_(consumer.service.empty() ? logger("consumer")
                                       : service_logger(consumer.service)) {
  MessageInput input = message_input(envelope, contract);
  payload_ = std::move(input.payload);
  ingestion_id_ = std::move(input.ingestion_id);
  if (!claimed) return;
  const Run& run = claimed->run;
  const Step& step = run.steps[claimed->step];
  if (contract) {
    Json configured = run.payload;
    configured.update(step.spec.payload);
    configured.update(payload_);
    payload_ = std::move(configured);
    if (ingestion_id_.empty()) ingestion_id_ = run.ingestion_id;
  }
  run_id_ = run.id;
  step_ = step.spec.name;
  attempt_ = claimed->attempt;
  if (step.spec.after) {
    for (const std::string& name : *step.spec.after) {
      int index = run.step_index(name);
      if (index >= 0) inputs_[name] = run.steps[index].output;
    }
  }
}

void StepContext::publish(const std::string& topic, Json payload) {
  orchestrator_.publish(topic, std::move(payload), ingestion_id_, &cause_);
}

bool StepContext::cancelled() const {
  return !run_id_.empty() && orchestrator_.is_cancelled(run_id_);
}

}  // namespace isoqube::detail
