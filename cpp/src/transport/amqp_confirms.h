// Publisher confirms: which publishes of a connection the broker has not
// yet taken responsibility for, and settling them as basic.ack, basic.nack
// and basic.return arrive (https://www.rabbitmq.com/confirms.html).
// Internal.
//
// Publishes are mandatory: one that reaches no queue comes back as
// basic.return before its basic.ack, and then fails instead of vanishing.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transport/amqp_content.h"
#include "transport/amqp_message.h"
#include "transport/pending.h"

namespace isoqube::detail {

// One publish, shared by the thread waiting for it and the link thread.
// Once abandoned, the link neither sends it nor sends it again after a
// reconnect.
class PendingPublish : public Pending {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PendingPublish(AmqpOutgoing message) : message(std::move(message)) {}

  const AmqpOutgoing message;
  // For a publish nobody waits for (its outcome goes to then()): when the
  // link gives up on it, as a waiting thread would. max(): never.
  Clock::time_point deadline = Clock::time_point::max();

  // For the holder of the link's I/O lock: the exchange it was sent to on the
  // current connection, and why the broker returned it, if it did.
  std::string exchange;
  std::string returned;
};

// Single-threaded: used by whoever holds the link's I/O lock (amqp_link.h),
// one per connection.
class AmqpConfirms {
 public:
  // Records a publish just sent on the confirm channel.
  void sent(std::shared_ptr<PendingPublish> publish);
  void acked(uint64_t delivery_tag, bool multiple);
  void nacked(uint64_t delivery_tag, bool multiple);
  void returned(const AmqpContent& content);

  // On connection loss: the publishes never confirmed, oldest first, to be
  // sent again on the next connection, whose numbering starts afresh.
  std::vector<std::shared_ptr<PendingPublish>> take_unconfirmed();
  std::size_t in_flight() const { return unconfirmed_.size(); }

 private:
  template <typename Settle>
  void settle(uint64_t delivery_tag, bool multiple, Settle settle_one);

  uint64_t next_tag_ = 1;  // confirm tags count from 1 after confirm.select
  std::map<uint64_t, std::shared_ptr<PendingPublish>> unconfirmed_;
};

}  // namespace isoqube::detail
