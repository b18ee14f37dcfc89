// Publishing with confirms for one link (AmqpLink): sends publishes on the
// confirm channel, settles them as the broker confirms, nacks or returns
// them (AmqpConfirms), holds them while the broker blocks publishing, and
// fails those nobody waits for once their deadline passes. Internal.
//
// Owns: the publishes sent and not yet confirmed on the current connection,
// those held while blocked, and those with a deadline until settled.
// Thread: whoever holds the link's I/O lock: the link's thread, or a thread
// sending a publish itself (AmqpLink::send_here()); not thread-safe.
// Invariants: a publish is in at most one of unconfirmed and held; after a
// connection is lost, take_to_resend() leaves neither with anything, and
// the link sends those again, unconfirmed first, in the order they were
// sent.
#pragma once

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport/amqp_confirms.h"
#include "transport/amqp_connection.h"
#include "transport/amqp_options.h"
#include "transport/amqp_topology.h"

namespace isoqube::detail {

class AmqpPublisher {
 public:
  using Publishes = std::vector<std::shared_ptr<PendingPublish>>;

  // `name` names the link in logs.
  AmqpPublisher(const AmqpOptions& options, std::string name);

  // Declares what the publish goes to and sends it on `channel`; holds it
  // while blocked. A declaration conflict fails the publish; a lost
  // connection throws.
  void send(AmqpConnection& connection, AmqpTopology& topology,
            uint16_t channel, const std::shared_ptr<PendingPublish>& publish);
  // Sends it to a target declared already.
  void send_to(AmqpConnection& connection, uint16_t channel,
               const std::shared_ptr<PendingPublish>& publish,
               const AmqpTarget& target);

  // The broker's basic.ack, basic.nack and basic.return.
  void acked(uint64_t tag, bool multiple) { confirms_.acked(tag, multiple); }
  void nacked(uint64_t tag, bool multiple) { confirms_.nacked(tag, multiple); }
  void returned(const AmqpContent& content) { confirms_.returned(content); }

  // connection.blocked and .unblocked. Unblocking returns the publishes
  // held meanwhile, oldest first, to be sent before anything else.
  Publishes set_blocked(bool blocked);
  bool blocked() const { return blocked_; }

  // Keeps a publish that has a deadline until it is settled or expires.
  void watch_deadline(const std::shared_ptr<PendingPublish>& publish);
  // Fails the publishes whose deadline passed with the error a waiting
  // thread would throw; `why` tells what the link is doing, if anything.
  void expire(const std::function<std::string()>& why);
  // The next deadline; `otherwise` when no publish has one.
  PendingPublish::Clock::time_point next_deadline(
      PendingPublish::Clock::time_point otherwise) const;

  // The connection is lost: the publishes to send again on the next one,
  // unconfirmed ones first, then held ones, each oldest first.
  Publishes take_to_resend();
  // The link is closing: every publish sent or held fails with `error`.
  void fail_all(const std::exception_ptr& error);

 private:
  const AmqpOptions& options_;
  const std::string name_;
  AmqpConfirms confirms_;
  std::deque<std::shared_ptr<PendingPublish>> held_;  // while blocked
  // Publishes with a deadline, in the order of their deadlines (all have
  // the same timeout), until they are settled or expire.
  std::deque<std::shared_ptr<PendingPublish>> deadlines_;
  bool blocked_ = false;  // connection.blocked: the broker reads no publishes
};

}  // namespace isoqube::detail
