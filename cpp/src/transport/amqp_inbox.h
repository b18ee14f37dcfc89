// The RabbitMQ transport's Inbox: one channel of the consuming link with
// the inbox's prefetch, one consumer per endpoint, and the deliveries that
// arrive, decoded on the receiving thread. Internal.
//
// The link's thread queues what it reads (AmqpLink::Consumer::on_message)
// and wakes one thread waiting in receive() for each delivery.
//
// Messages that do not decode (bad JSON, no envelope, an unsupported
// content type, over kMaxMessageBytes) never reach the caller of
// receive(): they are moved to `<endpoint>_error` with the reason, and
// receive() goes on to the next message.
//
// Thread-safety: receive() and close() from any thread; a Delivery's ack,
// reject and requeue from any thread, also after the inbox is gone.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "isoqube/transport.h"
#include "transport/amqp_link.h"

namespace isoqube::detail {

struct AmqpCounters {
  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> rejected{0};
};

// How deliveries are settled: on the link they came from, the error queue
// publish on the publishing link. Shared by the transport, its inboxes and
// the deliveries, which may outlive both.
class AmqpSettler {
 public:
  AmqpSettler(std::shared_ptr<AmqpLink> publisher,
              std::shared_ptr<AmqpLink> consumer,
              std::shared_ptr<AmqpCounters> counters);

  void ack(const AmqpIncoming& message);
  void requeue(const AmqpIncoming& message);
  // Publishes the message to `<endpoint>_error` with the fault (confirmed;
  // its input address is the endpoint's unless it names one),
  // then acks it; without the message's own headers when they and the
  // fault's do not fit in one frame. If that publish fails, requeues it
  // instead and logs why: the message is never lost.
  void reject(const AmqpIncoming& message, const std::string& endpoint,
              Fault fault);

  AmqpLink& consumer() { return *consumer_; }
  AmqpCounters& counters() { return *counters_; }

 private:
  void settle(const AmqpIncoming& message, AmqpLink::Settle how);

  std::shared_ptr<AmqpLink> publisher_;
  std::shared_ptr<AmqpLink> consumer_;
  std::shared_ptr<AmqpCounters> counters_;
};

class AmqpInbox final : public Inbox {
 public:
  // Declares the endpoints and starts consuming. `global`: the prefetch is
  // shared by all endpoints (classic queues); otherwise it applies to each
  // (quorum queues cannot share one). Throws TransportError or
  // ConfigurationError; nothing is left consuming then.
  AmqpInbox(std::shared_ptr<AmqpSettler> settler,
            const std::vector<Binding>& bindings, uint16_t prefetch,
            bool global);
  // Stops the consumers and closes the channel: what was delivered and not
  // acknowledged goes back to the queues.
  ~AmqpInbox() override;

  std::optional<Delivery> receive(std::chrono::milliseconds timeout) override;
  void close() override;

 private:
  struct Arrived {
    std::string endpoint;
    AmqpIncoming message;
  };
  // Filled by the link's thread, emptied by receive().
  struct Arrivals {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Arrived> queue;
    bool closed = false;
  };
  static void arrive(Arrivals& arrivals, std::string endpoint,
                     AmqpIncoming&& message);

  std::optional<Arrived> next(std::chrono::steady_clock::time_point deadline);
  std::optional<Delivery> accept(Arrived arrived);
  Delivery make_delivery(Envelope envelope, Arrived arrived);
  void stop();

  std::shared_ptr<AmqpSettler> settler_;
  std::shared_ptr<Arrivals> arrivals_;
  uint16_t channel_ = 0;
  std::vector<uint64_t> consumers_;
};

}  // namespace isoqube::detail
