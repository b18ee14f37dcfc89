#include "transport/amqp_publisher.h"

#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "transport/amqp_message.h"
#include "transport/amqp_table.h"

namespace isoqube::detail {

AmqpPublisher::AmqpPublisher(const AmqpOptions& options, std::string name)
    : options_(options), name_(std::move(name)) {}

void AmqpPublisher::send(AmqpConnection& connection, AmqpTopology& topology,
                         uint16_t channel,
                         const std::shared_ptr<PendingPublish>& publish) {
  if (publish->abandoned || publish->settled()) return;
  if (blocked_) {
    held_.push_back(publish);
    return;
  }
  AmqpTarget target;
  try {
    target = topology.prepare(publish->message.to);
  } catch (const AmqpConnectionLost&) {
    throw;
  } catch (...) {
    publish->fail(std::current_exception());  // a declaration conflict
    return;
  }
  send_to(connection, channel, publish, target);
}

void AmqpPublisher::send_to(AmqpConnection& connection, uint16_t channel,
                            const std::shared_ptr<PendingPublish>& publish,
                            const AmqpTarget& target) {
  publish->exchange = target.exchange;
  AmqpPropertiesBuilder builder;
  const amqp_basic_properties_t properties =
      builder.build(publish->message.properties);
  const int status = connection.publish(
      channel, amqp_bytes(target.exchange), amqp_bytes(target.routing_key),
      /*mandatory=*/true, properties, amqp_bytes(publish->message.body));
  if (status == AMQP_STATUS_TABLE_TOO_BIG) {
    // Nothing was written (AmqpConnection::publish()): this publish fails
    // for good, and the connection goes on.
    publish->fail(std::make_exception_ptr(
        MessageError("the message's headers do not fit in one AMQP frame")));
    return;
  }
  connection.check_status(status,
                          "publishing to exchange '" + target.exchange + "'");
  confirms_.sent(publish);
}

AmqpPublisher::Publishes AmqpPublisher::set_blocked(bool blocked) {
  blocked_ = blocked;
  if (blocked) {
    logger("transport")
        ->warn(
            "{}: the broker blocked publishing (memory or disk alarm); "
            "publishes wait",
            name_);
    return {};
  }
  logger("transport")->info("{}: the broker unblocked publishing", name_);
  Publishes held(held_.begin(), held_.end());
  held_.clear();
  return held;
}

void AmqpPublisher::watch_deadline(
    const std::shared_ptr<PendingPublish>& publish) {
  if (publish->deadline != PendingPublish::Clock::time_point::max()) {
    deadlines_.push_back(publish);
  }
}

// What a thread waiting for a publish does when publish_timeout runs out,
// for the publishes nobody waits for: they fail with the same error and are
// not sent (again). One the broker confirms later was published all the
// same; its duplicates are the orchestrator's to absorb.
void AmqpPublisher::expire(const std::function<std::string()>& why) {
  const auto now = PendingPublish::Clock::now();
  while (!deadlines_.empty()) {
    PendingPublish& publish = *deadlines_.front();
    if (!publish.settled() && publish.deadline > now) return;
    if (!publish.settled()) {
      publish.abandoned = true;
      const std::string status = why();
      publish.fail(std::make_exception_ptr(TransportError(
          "publishing to '" + publish.message.to.name + "' on " +
          options_.masked_uri + " did not complete within " +
          std::to_string(options_.publish_timeout.count()) +
          " ms (publish_timeout_ms)" + (status.empty() ? "" : ": " + status))));
    }
    deadlines_.pop_front();
  }
}

PendingPublish::Clock::time_point AmqpPublisher::next_deadline(
    PendingPublish::Clock::time_point otherwise) const {
  return deadlines_.empty() ? otherwise : deadlines_.front()->deadline;
}

AmqpPublisher::Publishes AmqpPublisher::take_to_resend() {
  blocked_ = false;
  Publishes publishes = confirms_.take_unconfirmed();
  publishes.insert(publishes.end(), held_.begin(), held_.end());
  held_.clear();
  return publishes;
}

void AmqpPublisher::fail_all(const std::exception_ptr& error) {
  for (auto& publish : confirms_.take_unconfirmed()) publish->fail(error);
  for (auto& publish : held_) publish->fail(error);
  held_.clear();
  deadlines_.clear();
}

}  // namespace isoqube::detail
