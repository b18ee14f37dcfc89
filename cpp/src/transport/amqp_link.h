// A link to the broker: one rabbitmq-c connection and the one I/O thread
// that owns it, its loop and its recovery, composing the parts that work on
// the connection for it: AmqpPublisher (publishes and their confirms),
// AmqpConsumers (consumers, deliveries, acks) and AmqpBroadcaster
// (broadcasts). AmqpLink is what other threads call. Other threads hand the
// thread publishes, acks, broadcasts and tasks through a queue and wake it with
// an eventfd; the thread sleeps in poll() on the socket and the eventfd, never
// in a timed loop.
//
// Sending here: while the thread sleeps in poll() the connection is free,
// and a thread that publishes to a declared topic or acks, with nothing
// queued before it, sends the frames itself under the link's I/O lock
// instead (send_here()): a step's successor then reaches the wire without
// waking the link's thread, and an ack without waking the consuming one.
// The I/O lock is the link thread's whenever it is awake; other threads
// only try it, so nobody waits for it but the link's thread, for one send.
//
// Channels of a connection:
//   1      declarations (AmqpTopology); reopened after a declaration error
//   2      publishes, in confirm mode; many in flight, each publisher thread
//          waits for its own confirm, or a callback gets it (publish_async)
//   3      broadcasts (transient, unconfirmed) and their listeners (no-ack)
//   4      temporary, for tasks that read queues (error_messages())
//   10...  one per consumer group (an inbox), with its prefetch
//
// Recovery: when the connection is lost (socket error, broker shutdown, no
// heartbeat for two intervals, a channel error), the thread logs it and
// connects again with doubling pauses (reconnect_min .. reconnect_max),
// trying the hosts in order starting after the one that was lost. It then
// declares the topology again, reopens the channels, resumes every consumer
// and sends again the publishes that were not confirmed. Acks of deliveries
// from an earlier connection are dropped: the broker delivers those
// messages again, marked redelivered. Broadcasts are dropped while there
// is no connection (they are best-effort); they wait a few milliseconds to
// travel together (amqp_broadcast.h), and close() sends those waiting.
//
// Owns: the connection, its topology and everything sent or received on
// it, through the parts above, which only the holder of the I/O lock uses.
// Invariants: the connection is used by one thread at a time, the holder of
// the I/O lock; the link's thread holds it whenever it is awake.
//
// Thread-safety: every public method may be called from any thread.
// Consumer callbacks run on the link's thread, under the I/O lock, and must
// not block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "transport/amqp_broadcaster.h"
#include "transport/amqp_connection.h"
#include "transport/amqp_consumers.h"
#include "transport/amqp_content.h"
#include "transport/amqp_message.h"
#include "transport/amqp_options.h"
#include "transport/amqp_publisher.h"
#include "transport/amqp_topology.h"
#include "transport/pending.h"
#include "transport/wake_fd.h"

namespace isoqube::detail {

// What a task gets: the link's open connection and its declarations.
struct AmqpSession {
  AmqpConnection& connection;
  AmqpTopology& topology;
};

class AmqpLink {
 public:
  using Consumer = AmqpConsumer;
  using Settle = AmqpConsumers::Settle;

  static constexpr uint16_t kTopologyChannel = 1;
  static constexpr uint16_t kConfirmChannel = 2;
  static constexpr uint16_t kBroadcastChannel = 3;
  static constexpr uint16_t kReaderChannel = 4;
  static constexpr uint16_t kFirstConsumerChannel = 10;

  // Connects to the first host that answers. Throws TransportError naming
  // the URI (password masked) and why each host failed, or
  // ConfigurationError for TLS files that cannot be used. `name` tells
  // links apart in logs.
  AmqpLink(const AmqpOptions& options, std::string name);
  // Closes the connection and stops the thread; publishes still waiting
  // fail, and later calls throw TransportError. Idempotent; not from a
  // consumer callback (the thread would wait for itself).
  void close();
  ~AmqpLink();
  AmqpLink(const AmqpLink&) = delete;
  AmqpLink& operator=(const AmqpLink&) = delete;

  // Publishes with a publisher confirm and waits for it, through outages,
  // up to publish_timeout. Throws TransportError (not confirmed, returned
  // unroutable, refused) or ConfigurationError (a declaration conflicts).
  void publish(AmqpOutgoing message);

  // Publishes the same way without waiting: `confirmed` is called once on
  // the link's thread (it must not block) with nullptr once the broker
  // confirmed, or with the error publish() would have thrown, also when
  // publish_timeout runs out. Throws TransportError when the link is
  // closed (then `confirmed` is never called).
  void publish_async(AmqpOutgoing message,
                     std::function<void(std::exception_ptr)> confirmed);

  // Queues a broadcast, one JSON value as text; see amqp_broadcast.h for
  // the batching.
  void broadcast(const std::string& channel, std::string json);
  // Unique to this link: its broadcasts carry it as their app-id.
  const std::string& origin() const { return origin_; }
  // Returns once the broadcasts queued before it are sent (or dropped,
  // without a connection) instead of waiting for their batch.
  void send_broadcasts_now();

  // Acks or requeues a delivery. Dropped when the channel it came on was
  // closed since (or its connection lost): delivery tags belong to one
  // opening of a channel, and the broker has given the message back.
  void settle(const AmqpIncoming& delivery, Settle how);

  // A channel for a consumer group with basic.qos `prefetch`, shared by its
  // consumers when `global`.
  uint16_t open_channel(uint16_t prefetch, bool global);
  // Closes it; the broker requeues what it had delivered unacknowledged.
  void close_channel(uint16_t channel);

  // Declares and starts a consumer (kept across reconnects); returns its id.
  uint64_t add_consumer(Consumer consumer);
  // Stops it; no callback of it runs after this returns.
  void remove_consumer(uint64_t id);

  // Runs `fn` on the link's thread with the connection, waiting (through
  // outages, up to publish_timeout) for it; rethrows what it throws.
  template <typename R>
  R call(std::function<R(AmqpSession&)> fn);

  // After close(): nothing of the connection is left to clean up.
  bool closed() const { return stopping_.load(); }

  // Counts connections made; deliveries carry the one they came on.
  uint64_t generation() const { return generation_.load(); }
  const AmqpOptions& options() const { return options_; }

 private:
  class PendingTask : public Pending {
   public:
    PendingTask(std::function<void(AmqpSession*)> run, bool offline)
        : run(std::move(run)), offline(offline) {}
    // Gets nullptr when `offline` and there is no connection. Must be
    // idempotent: after a connection loss it runs again.
    const std::function<void(AmqpSession*)> run;
    const bool offline;
  };
  struct BroadcastCommand {
    std::string channel;
    std::string json;
  };
  using SettleCommand = AmqpConsumers::SettleCommand;
  using Command = std::variant<std::shared_ptr<PendingPublish>,
                               std::shared_ptr<PendingTask>, BroadcastCommand,
                               SettleCommand>;

  // amqp_link.cc: the side other threads call.
  void post(Command command);
  // Sends a publish or an ack on the calling thread when the link's thread
  // sleeps with a working connection and nothing is queued before it;
  // false when it must be posted instead.
  bool send_here(Command& command);
  // True on the link's thread and on a thread that uses the connection
  // outside it (send_here()): it holds the I/O lock.
  bool holds_io() const;
  void run_task(std::function<void(AmqpSession*)> run, bool offline,
                const std::string& what);
  // Waits for `result` up to publish_timeout; raises `abandoned` and throws
  // TransportError saying `what` when it runs out.
  void wait(std::future<void>& result, std::atomic<bool>& abandoned,
            const std::string& what) const;
  std::string status() const;
  void set_status(std::string status);

  // amqp_link_loop.cc: the link's thread at work.
  void run(std::promise<void>& connected);
  void serve();
  void take_commands();
  int milliseconds_to_next_deadline(int longest) const;
  void run_work();
  void flush_broadcasts();
  void end_broadcast_batch();
  void run_command(Command& command);
  // The publish or task waiting on a command; nullptr for acks and
  // broadcasts, which nobody waits for.
  static Pending* pending_of(Command& command);
  void run_task_now(PendingTask& task);
  // Puts publishes back at the front of the work, in their order.
  void requeue_first(const AmqpPublisher::Publishes& publishes);
  // Reads what has arrived, up to a limit (a frame begun may be left, for
  // poll() to wake on the rest).
  void read_frames();
  void dispatch(const amqp_frame_t& frame);
  void on_content(AmqpContent&& content);
  void check_heartbeat();
  void wait_for_io();

  // amqp_link_recovery.cc: the link's thread connecting and resuming.
  bool connect(std::string* errors);
  void restore();
  void on_lost(const std::string& reason);
  void reconnect();
  void pause(std::chrono::milliseconds duration);
  void run_offline_commands();
  void send_last_broadcasts();
  void shut_down();

  const AmqpOptions options_;
  const std::string name_;
  const std::string origin_;
  WakeFd wake_;

  // Shared between threads.
  mutable std::mutex mutex_;
  std::deque<Command> commands_;  // guarded by mutex_
  // Guarded by mutex_: the commands_ other than broadcasts, which keep no
  // order with publishes and acks (and wait in commands_ for their batch).
  std::size_t ordered_commands_ = 0;
  std::string status_;   // guarded by mutex_: why offline
  bool closed_ = false;  // guarded by mutex_
  // Guarded by mutex_: a broadcast was posted since the thread last ended a
  // batch (sent or dropped it), and the thread knows it will wake for it.
  bool broadcast_batch_open_ = false;
  std::atomic<bool> stopping_{false};
  std::once_flag close_once_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> next_consumer_id_{1};
  std::thread::id thread_id_;

  // The connection and everything below it but thread_ belong to whoever
  // holds io_mutex_: the link's thread, all the time but while it sleeps in
  // poll(), and then a thread in send_here(), which only tries it.
  std::mutex io_mutex_;
  bool polling_ = false;  // the link's thread sleeps in poll(), connected
  // Why a send by another thread failed: the link's thread takes it as a
  // lost connection when it wakes.
  std::string lost_elsewhere_;
  std::unique_ptr<AmqpConnection> connection_;
  std::unique_ptr<AmqpTopology> topology_;
  AmqpContentAssembler assembler_;
  std::deque<Command> work_;  // taken from commands_, not done yet
  AmqpPublisher publisher_;
  // Its channel numbers from any thread (they are guarded by its own lock).
  AmqpConsumers consumers_;
  AmqpBroadcaster broadcaster_;
  std::size_t host_index_ = 0;  // of the host connected to, or tried next
  std::chrono::steady_clock::time_point last_received_;

  std::thread thread_;  // last: starts once everything above exists
};

template <typename R>
R AmqpLink::call(std::function<R(AmqpSession&)> fn) {
  auto result = std::make_shared<std::optional<R>>();
  run_task([fn = std::move(fn),
            result](AmqpSession* session) { result->emplace(fn(*session)); },
           false, "a broker call");
  return std::move(**result);
}

}  // namespace isoqube::detail
