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
    publisher_.expire([this] { return status(); });
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
    if (publish) publisher_.watch_deadline(*publish);
    work_.push_back(std::move(command));
  }
  commands_.clear();
}

// How long poll() may sleep so that the next publish to expire does so in
// time, and gathered broadcasts leave when due: `longest` (-1: forever)
// when nothing waits.
int AmqpLink::milliseconds_to_next_deadline(int longest) const {
  using std::chrono::milliseconds;
  const auto now = std::chrono::steady_clock::now();
  // A publish another thread sends meanwhile (send_here()) expires no
  // sooner than publish_timeout from now: waking then is in time for it.
  auto next = publisher_.next_deadline(now + options_.publish_timeout);
  if (!broadcaster_.empty()) {
    next = std::min(next, broadcaster_.since() + kBroadcastLinger);
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
      broadcaster_.gather(broadcast->channel, std::move(broadcast->json));
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
  if (broadcaster_.due()) flush_broadcasts();
}

// Sends what was gathered; on a lost connection it is dropped.
// A blocked broker reads nothing: they are dropped too (best-effort).
void AmqpLink::flush_broadcasts() {
  if (broadcaster_.empty()) return;
  const AmqpBroadcaster::Batches batches = broadcaster_.take();
  end_broadcast_batch();
  if (publisher_.blocked()) return;
  broadcaster_.send(*connection_, *topology_, kBroadcastChannel, batches);
}

// The next broadcast posted wakes the thread again; those posted since it
// last took its commands (without waking it) are taken now.
void AmqpLink::end_broadcast_batch() {
  broadcaster_.take();
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
                   publisher_.send(*connection_, *topology_, kConfirmChannel,
                                   publish);
                 },
                 [this](const std::shared_ptr<PendingTask>& task) {
                   run_task_now(*task);
                 },
                 [this](const SettleCommand& settle) {
                   consumers_.settle(*connection_, settle);
                 },
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

void AmqpLink::requeue_first(const AmqpPublisher::Publishes& publishes) {
  for (auto it = publishes.rbegin(); it != publishes.rend(); ++it) {
    work_.push_front(*it);
  }
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
      publisher_.acked(ack->delivery_tag, ack->multiple);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
      publisher_.nacked(nack->delivery_tag, nack->multiple);
      break;
    }
    case AMQP_BASIC_CANCEL_METHOD: {
      const auto* cancel =
          static_cast<const amqp_basic_cancel_t*>(method.decoded);
      consumers_.restart_cancelled(to_string(cancel->consumer_tag),
                                   *connection_, *topology_);
      break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      connection_->on_close_method(frame.channel, method);
    case AMQP_CONNECTION_BLOCKED_METHOD:
      requeue_first(publisher_.set_blocked(true));
      break;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      requeue_first(publisher_.set_blocked(false));
      break;
    default:
      break;  // replies that synchronous calls left queued
  }
}

void AmqpLink::on_content(AmqpContent&& content) {
  if (content.kind == AmqpContent::Kind::kReturn) {
    publisher_.returned(content);
    return;
  }
  consumers_.deliver(std::move(content.message), *connection_, generation_);
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
