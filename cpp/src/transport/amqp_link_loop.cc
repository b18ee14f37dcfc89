// The link's thread at work: it takes commands, reads frames and sleeps in
// poll() on the socket and the wake eventfd. Connecting and resuming are in
// amqp_link_recovery.cc.
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "isoqube/log.h"
#include "transport/amqp_broadcast.h"
#include "transport/amqp_link.h"

namespace isoqube::detail {
namespace {

// Frames read per turn before the queued commands get their turn again, so
// a flood of deliveries cannot hold back acks and publishes.
constexpr int kMaxFramesPerTurn = 256;
// A connection.close with this code is the broker going away (shutdown, an
// operator), not a reaction to what we sent.
constexpr int kConnectionForced = 320;

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

bool caused_by_request(const AmqpConnectionLost& e) {
  return e.by_broker() && e.code() != kConnectionForced;
}

}  // namespace

void AmqpLink::run(std::promise<void>& connected) {
  std::lock_guard<std::mutex> io(io_mutex_);  // released only in poll()
  std::string errors;
  try {
    if (!connect(&errors)) {
      throw TransportError("cannot connect to " + options_.masked_uri + ": " +
                           errors);
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    connected.set_exception(std::current_exception());
    return;
  }
  connected.set_value();
  while (!stopping_) {
    try {
      serve();
    } catch (const std::exception& e) {
      on_lost(e.what());
      reconnect();
    }
  }
  shut_down();
}

void AmqpLink::serve() {
  while (!stopping_) {
    if (!lost_elsewhere_.empty()) {
      throw AmqpConnectionLost(std::exchange(lost_elsewhere_, {}), false);
    }
    take_commands();
    expire_publishes();
    run_work();
    read_frames();
    check_heartbeat();
    amqp_connection_state_t state = connection_->state();
    if (wake_.pending() || amqp_frames_enqueued(state) ||
        amqp_data_in_buffer(state)) {
      continue;
    }
    wait_for_io();
  }
}

// The broker sends a heartbeat when it has nothing else to send, so two
// silent intervals mean it or the network is gone.
void AmqpLink::check_heartbeat() {
  const int heartbeat = connection_->heartbeat_seconds();
  if (heartbeat == 0 || std::chrono::steady_clock::now() - last_received_ <=
                            std::chrono::seconds(2 * heartbeat)) {
    return;
  }
  connection_->mark_lost();
  throw AmqpConnectionLost("no data and no heartbeat from " +
                               connection_->host().to_string() + " for " +
                               std::to_string(2 * heartbeat) + " s",
                           false);
}

void AmqpLink::take_commands() {
  wake_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  ordered_commands_ = 0;
  for (Command& command : commands_) {
    auto* publish = std::get_if<std::shared_ptr<PendingPublish>>(&command);
    if (publish) watch_deadline(*publish);
    work_.push_back(std::move(command));
  }
  commands_.clear();
}

void AmqpLink::watch_deadline(const std::shared_ptr<PendingPublish>& publish) {
  if (publish->deadline != PendingPublish::Clock::time_point::max()) {
    deadlines_.push_back(publish);
  }
}

// What a thread waiting for a publish does when publish_timeout runs out,
// for the publishes nobody waits for: they fail with the same error and are
// not sent (again). One the broker confirms later was published all the
// same; its duplicates are the orchestrator's to absorb.
void AmqpLink::expire_publishes() {
  const auto now = PendingPublish::Clock::now();
  while (!deadlines_.empty()) {
    PendingPublish& publish = *deadlines_.front();
    if (!publish.settled() && publish.deadline > now) return;
    if (!publish.settled()) {
      publish.abandoned = true;
      const std::string why = status();
      publish.fail(std::make_exception_ptr(TransportError(
          "publishing to '" + publish.message.to.name + "' on " +
          options_.masked_uri + " did not complete within " +
          std::to_string(options_.publish_timeout.count()) +
          " ms (publish_timeout_ms)" + (why.empty() ? "" : ": " + why))));
    }
    deadlines_.pop_front();
  }
}

// How long poll() may sleep so that the next publish to expire does so in
// time, and gathered broadcasts leave when due: `longest` (-1: forever)
// when nothing waits.
int AmqpLink::milliseconds_to_next_deadline(int longest) const {
  using std::chrono::milliseconds;
  const auto now = std::chrono::steady_clock::now();
  // A publish another thread sends meanwhile (send_here()) expires no
  // sooner than publish_timeout from now: waking then is in time for it.
  auto next = deadlines_.empty() ? now + options_.publish_timeout
                                 : deadlines_.front()->deadline;
  if (broadcast_count_ > 0) {
    next = std::min(next, broadcasts_since_ + kBroadcastLinger);
  }
  const int64_t left =
      std::chrono::duration_cast<milliseconds>(next - now).count() + 1;
  const int wait = static_cast<int>(std::max<int64_t>(0, left));
  return longest < 0 ? wait : std::min(longest, wait);
}

// Runs the queued commands in order. A command that fails with the
// connection stays at the front, to run again on the next connection,
// unless it is settled (it caused the failure, or it cannot be sent).
// Broadcasts are gathered and sent once they have waited kBroadcastLinger,
// but before any task, so that a listener started by a task hears only
// what was broadcast after it started.
void AmqpLink::run_work() {
  while (!work_.empty()) {
    Command& command = work_.front();
    if (auto* broadcast = std::get_if<BroadcastCommand>(&command)) {
      gather_broadcast(std::move(*broadcast));
      work_.pop_front();
      continue;
    }
    if (std::holds_alternative<std::shared_ptr<PendingTask>>(command)) {
      flush_broadcasts();
    }
    try {
      run_command(command);
    } catch (const AmqpConnectionLost& e) {
      auto* task = std::get_if<std::shared_ptr<PendingTask>>(&command);
      if (task && caused_by_request(e)) (*task)->fail(std::current_exception());
      const Pending* pending = pending_of(command);
      if (pending == nullptr || pending->settled()) work_.pop_front();
      throw;
    }
    work_.pop_front();
  }
  if (broadcasts_due()) flush_broadcasts();
}

void AmqpLink::gather_broadcast(BroadcastCommand&& broadcast) {
  if (broadcast_count_ == 0) {
    broadcasts_since_ = std::chrono::steady_clock::now();
  }
  broadcasts_[broadcast.channel].push_back(std::move(broadcast.json));
  ++broadcast_count_;
}

bool AmqpLink::broadcasts_due() const {
  return broadcast_count_ >= kMaxBroadcastBatch ||
         (broadcast_count_ > 0 &&
          std::chrono::steady_clock::now() - broadcasts_since_ >=
              kBroadcastLinger);
}

// Sends what was gathered; on a lost connection it is dropped.
void AmqpLink::flush_broadcasts() {
  if (broadcast_count_ == 0) return;
  std::map<std::string, std::vector<std::string>> batches;
  batches.swap(broadcasts_);
  end_broadcast_batch();
  send_broadcasts(batches);
}

// The next broadcast posted wakes the thread again; those posted since it
// last took its commands (without waking it) are taken now.
void AmqpLink::end_broadcast_batch() {
  broadcasts_.clear();
  broadcast_count_ = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  broadcast_batch_open_ = false;
  if (!commands_.empty()) wake_.notify();
}

Pending* AmqpLink::pending_of(Command& command) {
  return std::visit(
      Overloaded{
          [](std::shared_ptr<PendingPublish>& p) -> Pending* {
            return p.get();
          },
          [](std::shared_ptr<PendingTask>& t) -> Pending* { return t.get(); },
          [](auto&) -> Pending* { return nullptr; }},
      command);
}

void AmqpLink::run_command(Command& command) {
  std::visit(Overloaded{
                 [this](const std::shared_ptr<PendingPublish>& publish) {
                   send_publish(publish);
                 },
                 [this](const std::shared_ptr<PendingTask>& task) {
                   run_task_now(*task);
                 },
                 [this](const SettleCommand& settle) { run_settle(settle); },
                 [](const BroadcastCommand&) {},
             },
             command);
}

void AmqpLink::run_task_now(PendingTask& task) {
  if (task.abandoned || task.settled()) return;
  AmqpSession session{*connection_, *topology_};
  try {
    task.run(&session);
  } catch (const AmqpConnectionLost&) {
    throw;
  } catch (const AmqpChannelClosed&) {
    throw;
  } catch (...) {
    task.fail(std::current_exception());
    return;
  }
  task.succeed();
}

void AmqpLink::send_publish(const std::shared_ptr<PendingPublish>& publish) {
  if (publish->abandoned || publish->settled()) return;
  if (blocked_) {
    held_.push_back(publish);
    return;
  }
  AmqpTarget target;
  try {
    target = topology_->prepare(publish->message.to);
  } catch (const AmqpConnectionLost&) {
    throw;
  } catch (...) {
    publish->fail(std::current_exception());  // a declaration conflict
    return;
  }
  send_publish_to(publish, target);
}

void AmqpLink::send_publish_to(const std::shared_ptr<PendingPublish>& publish,
                               const AmqpTarget& target) {
  publish->exchange = target.exchange;
  AmqpPropertiesBuilder builder;
  const amqp_basic_properties_t properties =
      builder.build(publish->message.properties);
  const int status =
      connection_->publish(kConfirmChannel, amqp_bytes(target.exchange),
                           amqp_bytes(target.routing_key), /*mandatory=*/true,
                           properties, amqp_bytes(publish->message.body));
  if (status == AMQP_STATUS_TABLE_TOO_BIG) {
    // Nothing was written (AmqpConnection::publish()): this publish fails
    // for good, and the connection goes on.
    publish->fail(std::make_exception_ptr(
        MessageError("the message's headers do not fit in one AMQP frame")));
    return;
  }
  connection_->check_status(status,
                            "publishing to exchange '" + target.exchange + "'");
  confirms_.sent(publish);
}

void AmqpLink::send_broadcasts(
    const std::map<std::string, std::vector<std::string>>& batches) {
  if (blocked_) return;  // best-effort: a blocked broker reads nothing
  AmqpProperties properties;
  properties.content_type = std::string(kBroadcastContentType);
  properties.persistent = false;
  properties.app_id = origin_;
  AmqpPropertiesBuilder builder;
  const amqp_basic_properties_t amqp_properties = builder.build(properties);
  for (const auto& [channel, messages] : batches) {
    AmqpTarget target;
    try {
      target = topology_->prepare({Destination::Kind::kBroadcast, channel});
    } catch (const AmqpConnectionLost&) {
      throw;
    } catch (const std::exception& e) {
      logger("transport")
          ->error("{}: broadcast on '{}' dropped: {}", name_, channel,
                  e.what());
      continue;
    }
    for (std::size_t start = 0; start < messages.size();
         start += kMaxBroadcastBatch) {
      const std::size_t end =
          std::min(messages.size(), start + kMaxBroadcastBatch);
      const std::string body = encode_broadcast_batch(messages, start, end);
      const int status = connection_->publish(
          kBroadcastChannel, amqp_bytes(target.exchange), amqp_empty_bytes,
          /*mandatory=*/false, amqp_properties, amqp_bytes(body));
      connection_->check_status(status, "broadcasting on '" + channel + "'");
    }
  }
}

void AmqpLink::run_settle(const SettleCommand& settle) {
  // A delivery of a channel closed since (by us or with its connection)
  // is the broker's again: it redelivers it. Its tag could name another
  // message on a channel opened later under the same number.
  auto channel = channels_.find(settle.channel);
  if (channel == channels_.end() || !channel->second.open ||
      channel->second.epoch != settle.channel_epoch) {
    return;
  }
  const int status =
      settle.how == Settle::kAck
          ? amqp_basic_ack(connection_->state(), settle.channel,
                           settle.delivery_tag, 0)
          : amqp_basic_nack(connection_->state(), settle.channel,
                            settle.delivery_tag, 0, /*requeue=*/1);
  connection_->check_status(status, "acknowledging a delivery");
}

void AmqpLink::read_frames() {
  amqp_connection_state_t state = connection_->state();
  timeval immediately{0, 0};
  for (int i = 0; i < kMaxFramesPerTurn; ++i) {
    amqp_frame_t frame;
    const int status =
        amqp_simple_wait_frame_noblock(state, &frame, &immediately);
    if (status == AMQP_STATUS_TIMEOUT) return;
    connection_->check_status(status, "reading from the broker");
    last_received_ = std::chrono::steady_clock::now();
    dispatch(frame);
    amqp_maybe_release_buffers_on_channel(state, frame.channel);
  }
}

void AmqpLink::dispatch(const amqp_frame_t& frame) {
  if (frame.frame_type != AMQP_FRAME_METHOD ||
      AmqpContentAssembler::starts_content(frame)) {
    if (auto content = assembler_.feed(frame)) on_content(std::move(*content));
    return;
  }
  const amqp_method_t& method = frame.payload.method;
  switch (method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* ack = static_cast<const amqp_basic_ack_t*>(method.decoded);
      confirms_.acked(ack->delivery_tag, ack->multiple);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
      confirms_.nacked(nack->delivery_tag, nack->multiple);
      break;
    }
    case AMQP_BASIC_CANCEL_METHOD: {
      const auto* cancel =
          static_cast<const amqp_basic_cancel_t*>(method.decoded);
      restart_cancelled_consumer(to_string(cancel->consumer_tag));
      break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      connection_->on_close_method(frame.channel, method);
    case AMQP_CONNECTION_BLOCKED_METHOD:
      on_blocked(true);
      break;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      on_blocked(false);
      break;
    default:
      break;  // replies that synchronous calls left queued
  }
}

void AmqpLink::on_content(AmqpContent&& content) {
  if (content.kind == AmqpContent::Kind::kReturn) {
    confirms_.returned(content);
    return;
  }
  AmqpIncoming& message = content.message;
  message.generation = generation_;
  if (auto channel = channels_.find(message.channel);
      channel != channels_.end()) {
    message.channel_epoch = channel->second.epoch;
  }
  auto id = consumer_by_tag_.find(message.consumer_tag);
  if (id == consumer_by_tag_.end()) {
    // For a consumer stopped meanwhile: give it back rather than leave it
    // unacknowledged until the channel closes.
    if (message.channel != kBroadcastChannel) {
      amqp_basic_reject(connection_->state(), message.channel,
                        message.delivery_tag, /*requeue=*/1);
    }
    return;
  }
  // Held by value: the callback may stop its own consumer.
  std::shared_ptr<const Consumer> consumer = consumers_.at(id->second).spec;
  try {
    consumer->on_message(std::move(message));
  } catch (const std::exception& e) {
    logger("transport")
        ->error("{}: a consumer callback failed: {}", name_, e.what());
  }
}

void AmqpLink::on_blocked(bool blocked) {
  blocked_ = blocked;
  if (blocked) {
    logger("transport")
        ->warn(
            "{}: the broker blocked publishing (memory or disk alarm); "
            "publishes wait",
            name_);
    return;
  }
  logger("transport")->info("{}: the broker unblocked publishing", name_);
  while (!held_.empty()) {
    work_.push_front(std::move(held_.back()));
    held_.pop_back();
  }
}

void AmqpLink::wait_for_io() {
  const int heartbeat = connection_->heartbeat_seconds();
  // Waking at half the heartbeat interval gives rabbitmq-c (inside
  // amqp_simple_wait_frame_noblock) the chance to send ours in time.
  const int timeout_ms =
      milliseconds_to_next_deadline(heartbeat > 0 ? heartbeat * 1000 / 2 : -1);
  pollfd fds[2] = {{connection_->fd(), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
  // Meanwhile other threads may send on the connection (send_here()).
  polling_ = true;
  io_mutex_.unlock();
  const int ready = poll(fds, 2, timeout_ms);
  const int poll_errno = errno;
  io_mutex_.lock();
  polling_ = false;
  if (ready < 0 && poll_errno != EINTR) {
    throw AmqpConnectionLost(
        std::string("poll failed: ") + std::strerror(poll_errno), false);
  }
  // Data, a heartbeat, or an error that the next read reports.
  if (fds[0].revents != 0) last_received_ = std::chrono::steady_clock::now();
  check_heartbeat();
}

}  // namespace isoqube::detail
