#include "transport/amqp_broadcaster.h"

#include <algorithm>

#include "isoqube/log.h"
#include "transport/amqp_broadcast.h"
#include "transport/amqp_message.h"

namespace isoqube::detail {

AmqpBroadcaster::AmqpBroadcaster(std::string origin, std::string name)
    : origin_(std::move(origin)), name_(std::move(name)) {}

void AmqpBroadcaster::gather(const std::string& channel, std::string json) {
  if (count_ == 0) since_ = Clock::now();
  gathered_[channel].push_back(std::move(json));
  ++count_;
}

bool AmqpBroadcaster::due() const {
  return count_ >= kMaxBroadcastBatch ||
         (count_ > 0 && Clock::now() - since_ >= kBroadcastLinger);
}

AmqpBroadcaster::Batches AmqpBroadcaster::take() {
  Batches batches;
  batches.swap(gathered_);
  count_ = 0;
  return batches;
}

void AmqpBroadcaster::send(AmqpConnection& connection, AmqpTopology& topology,
                           uint16_t channel, const Batches& batches) const {
  AmqpProperties properties;
  properties.content_type = std::string(kBroadcastContentType);
  properties.persistent = false;
  properties.app_id = origin_;
  AmqpPropertiesBuilder builder;
  const amqp_basic_properties_t amqp_properties = builder.build(properties);
  for (const auto& [name, messages] : batches) {
    AmqpTarget target;
    try {
      target = topology.prepare({Destination::Kind::kBroadcast, name});
    } catch (const AmqpConnectionLost&) {
      throw;
    } catch (const std::exception& e) {
      logger("transport")
          ->error("{}: broadcast on '{}' dropped: {}", name_, name, e.what());
      continue;
    }
    for (std::size_t start = 0; start < messages.size();
         start += kMaxBroadcastBatch) {
      const std::size_t end =
          std::min(messages.size(), start + kMaxBroadcastBatch);
      const std::string body = encode_broadcast_batch(messages, start, end);
      const int status = connection.publish(
          channel, amqp_bytes(target.exchange), amqp_empty_bytes,
          /*mandatory=*/false, amqp_properties, amqp_bytes(body));
      connection.check_status(status, "broadcasting on '" + name + "'");
    }
  }
}

}  // namespace isoqube::detail
