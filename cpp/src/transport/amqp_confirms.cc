#include "transport/amqp_confirms.h"

#include "isoqube/errors.h"

namespace isoqube::detail {

void AmqpConfirms::sent(std::shared_ptr<PendingPublish> publish) {
  publish->returned.clear();
  unconfirmed_.emplace(next_tag_++, std::move(publish));
}

template <typename Settle>
void AmqpConfirms::settle(uint64_t delivery_tag, bool multiple,
                          Settle settle_one) {
  auto end = unconfirmed_.upper_bound(delivery_tag);
  auto begin =
      multiple ? unconfirmed_.begin() : unconfirmed_.find(delivery_tag);
  if (begin == unconfirmed_.end()) return;
  for (auto it = begin; it != end; ++it) settle_one(*it->second);
  unconfirmed_.erase(begin, end);
}

void AmqpConfirms::acked(uint64_t delivery_tag, bool multiple) {
  settle(delivery_tag, multiple, [](PendingPublish& publish) {
    if (publish.returned.empty()) {
      publish.succeed();
    } else {
      publish.fail(std::make_exception_ptr(TransportError(publish.returned)));
    }
  });
}

void AmqpConfirms::nacked(uint64_t delivery_tag, bool multiple) {
  settle(delivery_tag, multiple, [](PendingPublish& publish) {
    publish.fail(std::make_exception_ptr(TransportError(
        "the broker refused the message to exchange '" + publish.exchange +
        "' (basic.nack: an internal error or a full queue that rejects "
        "publishes)")));
  });
}

// basic.return carries no confirm tag, so the publish is found by exchange
// and message id: the oldest unconfirmed one that matches. Two in flight
// with the same id to the same exchange are alike anyway.
void AmqpConfirms::returned(const AmqpContent& content) {
  const AmqpIncoming& message = content.message;
  for (auto& [tag, publish] : unconfirmed_) {
    if (!publish->returned.empty() || publish->exchange != message.exchange ||
        publish->message.properties.message_id !=
            message.properties.message_id) {
      continue;
    }
    publish->returned =
        "exchange '" + message.exchange + "' routed the message to no queue (" +
        std::to_string(content.reply_code) + " " + content.reply_text +
        "): nothing is subscribed to it yet, so it was not delivered";
    return;
  }
}

std::vector<std::shared_ptr<PendingPublish>> AmqpConfirms::take_unconfirmed() {
  std::vector<std::shared_ptr<PendingPublish>> out;
  out.reserve(unconfirmed_.size());
  for (auto& [tag, publish] : unconfirmed_) out.push_back(std::move(publish));
  unconfirmed_.clear();
  next_tag_ = 1;
  return out;
}

}  // namespace isoqube::detail
