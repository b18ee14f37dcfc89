#include "dispatch/step_context.h"

#include "isoqube/log.h"

namespace isoqube::detail {

StepContext::StepContext(Orchestrator& orchestrator, const Consumer& consumer,
                         const Envelope& envelope, const ClaimedStep* claimed)
    : orchestrator_(orchestrator),
      consumer_(consumer),
      logger_(consumer.service.empty() ? logger("consumer")
                                       : service_logger(consumer.service)) {
  const Json& m = envelope.message;
  ingestion_id_ = m.value("ingestionId", "");
  auto payload = m.find("payload");
  payload_ = payload != m.end() && payload->is_object() ? *payload
                                                        : Json::object();
  if (!claimed) return;
  const Run& run = claimed->run;
  const Step& step = run.steps[claimed->step];
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
  orchestrator_.publish(topic, std::move(payload), ingestion_id_);
}

bool StepContext::cancelled() const {
  return !run_id_.empty() && orchestrator_.is_cancelled(run_id_);
}

}  // namespace isoqube::detail
