// The Context handed to a consumer for one delivery. Internal to dispatch.
#pragma once

#include <memory>
#include <string>

#include "isoqube/consumer.h"
#include "orchestrator/orchestrator.h"

namespace isoqube::detail {

class StepContext final : public Context {
 public:
  // `claimed` is null for messages outside runs. The payload is the step
  // message's `payload`; for a `contract` of another system (a message
  // without Isoqube's step fields), the message object itself, over the
  // claimed step's configured payload.
  StepContext(Orchestrator& orchestrator, const Consumer& consumer,
              const Envelope& envelope, const ClaimedStep* claimed,
              bool contract = false);

  const std::string& run_id() const override { return run_id_; }
  const std::string& ingestion_id() const override { return ingestion_id_; }
  const std::string& step() const override { return step_; }
  const std::string& topic() const override { return consumer_.topic; }
  const std::string& consumer() const override { return consumer_.name; }
  int attempt() const override { return attempt_; }
  const Json& payload() const override { return payload_; }
  const Json& inputs() const override { return inputs_; }
  spdlog::logger& log() const override { return *logger_; }
  void publish(const std::string& topic, Json payload) override;
  bool cancelled() const override;

 private:
  Orchestrator& orchestrator_;
  const Consumer& consumer_;
  MessageCause cause_;  // of what the handler publishes
  std::string run_id_;
  std::string ingestion_id_;
  std::string step_;
  int attempt_ = 1;
  Json payload_;
  Json inputs_ = Json::object();
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace isoqube::detail
