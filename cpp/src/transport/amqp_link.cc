// The side of AmqpLink that other threads call: they queue commands and
// wait for their outcome. The link's thread is in amqp_link_loop.cc and
// amqp_link_recovery.cc.
#include "transport/amqp_link.h"

#include <amqp.h>

#include <optional>

#include "isoqube/log.h"
#include "isoqube/time.h"

namespace isoqube::detail {
namespace {

// The link whose connection this thread uses outside the link's thread, in
// send_here(): a callback run there (a publish that failed before it was
// sent) that publishes or acks on the same link must post, not try the lock
// the thread holds, and a task it asks for runs there and then.
thread_local const AmqpLink* using_here = nullptr;

// Marks the thread as using the link's connection while it exists.
class UsingHere {
 public:
  explicit UsingHere(const AmqpLink* link) { using_here = link; }
  ~UsingHere() { using_here = nullptr; }
  UsingHere(const UsingHere&) = delete;
  UsingHere& operator=(const UsingHere&) = delete;
};

}  // namespace

AmqpLink::AmqpLink(const AmqpOptions& options, std::string name)
    : options_(options),
      name_(std::move(name)),
      origin_(new_uuid()),
      publisher_(options_, name_),
      consumers_(kFirstConsumerChannel, kBroadcastChannel, name_),
      broadcaster_(origin_, name_) {
  std::promise<void> connected;
  std::future<void> result = connected.get_future();
  thread_ = std::thread([this, &connected] { run(connected); });
  thread_id_ = thread_.get_id();
  try {
    result.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

AmqpLink::~AmqpLink() { close(); }

void AmqpLink::close() {
  std::call_once(close_once_, [this] {
    stopping_ = true;
    wake_.notify();
    thread_.join();
  });
}

void AmqpLink::post(Command command) {
  const bool broadcast = std::holds_alternative<BroadcastCommand>(command);
  if (!broadcast && send_here(command)) return;
  bool wake = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) {
      throw TransportError("the transport to " + options_.masked_uri +
                           " is closed");
    }
    commands_.push_back(std::move(command));
    if (!broadcast) {
      ++ordered_commands_;
    } else {
      // The first broadcast of a batch wakes the link's thread, which then
      // wakes by itself once the batch has lingered and takes the later
      // ones with it: they need not wake it (three a step, each a wake-up
      // of a sleeping thread).
      wake = !broadcast_batch_open_;
      broadcast_batch_open_ = true;
    }
  }
  if (wake) wake_.notify();
}

// Spares a wake-up of the link's thread per publish and per ack: one run
// at a time, a step took 0.654 -> 0.591 ms (p50) on 2 cores, and 200 runs
// at once made 5-8 % more steps a second (benchmarks/HISTORY.md, "After
// sending on the calling thread").
bool AmqpLink::send_here(Command& command) {
  auto* publish = std::get_if<std::shared_ptr<PendingPublish>>(&command);
  auto* settle = std::get_if<SettleCommand>(&command);
  if ((publish == nullptr && settle == nullptr) || holds_io()) return false;
  std::unique_lock<std::mutex> io(io_mutex_, std::try_to_lock);
  if (!io.owns_lock() || !polling_ || publisher_.blocked() || !work_.empty() ||
      !lost_elsewhere_.empty()) {
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Closed: post() says so.
    if (closed_ || ordered_commands_ > 0) return false;
  }
  std::optional<AmqpTarget> target;
  if (publish) {
    target = topology_->declared_target((*publish)->message.to);
    if (!target) return false;  // declaring is the link thread's work
    publisher_.watch_deadline(*publish);
  }
  try {
    UsingHere here(this);
    if (publish) {
      publisher_.send_to(*connection_, kConfirmChannel, *publish, *target);
    } else {
      consumers_.settle(*connection_, *settle);
    }
  } catch (const std::exception& e) {
    // The link's thread reconnects, and sends the publish again unless it
    // failed for good; an ack is dropped with its connection.
    lost_elsewhere_ = e.what();
    if (publish && !(*publish)->settled()) work_.push_front(*publish);
    wake_.notify();
    return true;
  }
  // Frames read while sending (none, as a rule) would not wake poll().
  amqp_connection_state_t state = connection_->state();
  if (amqp_frames_enqueued(state) || amqp_data_in_buffer(state)) {
    wake_.notify();
  }
  return true;
}

bool AmqpLink::holds_io() const {
  return using_here == this || std::this_thread::get_id() == thread_id_;
}

void AmqpLink::wait(std::future<void>& result, std::atomic<bool>& abandoned,
                    const std::string& what) const {
  if (result.wait_for(options_.publish_timeout) != std::future_status::ready) {
    abandoned = true;
    const std::string why = status();
    throw TransportError(
        what + " on " + options_.masked_uri + " did not complete within " +
        std::to_string(options_.publish_timeout.count()) +
        " ms (publish_timeout_ms)" + (why.empty() ? "" : ": " + why));
  }
  result.get();
}

void AmqpLink::publish(AmqpOutgoing message) {
  const std::string what = "publishing to '" + message.to.name + "'";
  auto publish = std::make_shared<PendingPublish>(std::move(message));
  std::future<void> result = publish->result();
  post(publish);
  wait(result, publish->abandoned, what);
}

void AmqpLink::publish_async(
    AmqpOutgoing message, std::function<void(std::exception_ptr)> confirmed) {
  auto publish = std::make_shared<PendingPublish>(std::move(message));
  publish->then(std::move(confirmed));
  publish->deadline = PendingPublish::Clock::now() + options_.publish_timeout;
  post(publish);
}

void AmqpLink::broadcast(const std::string& channel, std::string json) {
  post(BroadcastCommand{channel, std::move(json)});
}

// Tasks go after the broadcasts queued before them (run_work()), so a task
// that does nothing is enough.
void AmqpLink::send_broadcasts_now() {
  run_task([](AmqpSession*) {}, true, "sending broadcasts");
}

void AmqpLink::settle(const AmqpIncoming& delivery, Settle how) {
  post(SettleCommand{delivery.channel, delivery.channel_epoch,
                     delivery.delivery_tag, how});
}

void AmqpLink::run_task(std::function<void(AmqpSession*)> run, bool offline,
                        const std::string& what) {
  if (holds_io()) {
    // Called from a consumer callback: waiting for ourselves would never
    // end, so the task runs here and now.
    if (connection_ && topology_) {
      AmqpSession session{*connection_, *topology_};
      run(&session);
    } else if (offline) {
      run(nullptr);
    } else {
      throw TransportError(what + ": not connected to " + options_.masked_uri);
    }
    return;
  }
  auto task = std::make_shared<PendingTask>(std::move(run), offline);
  std::future<void> result = task->result();
  post(task);
  wait(result, task->abandoned, what);
}

uint16_t AmqpLink::open_channel(uint16_t prefetch, bool global) {
  const uint16_t number = consumers_.reserve_channel_number();
  try {
    run_task(
        [this, number, prefetch, global](AmqpSession* session) {
          consumers_.open_channel(session->connection, number, prefetch,
                                  global);
        },
        false, "opening a consumer channel");
  } catch (...) {
    // The task may still run later; closing after it keeps the number
    // from being handed out while the broker has the channel open.
    try {
      close_channel(number);
    } catch (const std::exception& e) {
      logger("transport")
          ->debug("{}: channel {} not closed: {}", name_, number, e.what());
    }
    throw;
  }
  return number;
}

void AmqpLink::close_channel(uint16_t channel) {
  run_task(
      [this, channel](AmqpSession* session) {
        consumers_.close_channel(session ? &session->connection : nullptr,
                                 channel);
      },
      true, "closing a consumer channel");
  consumers_.release_channel_number(channel);
}

uint64_t AmqpLink::add_consumer(Consumer consumer) {
  const uint64_t id = next_consumer_id_++;
  auto spec = std::make_shared<const Consumer>(std::move(consumer));
  run_task(
      [this, id, spec](AmqpSession* session) {
        consumers_.add(id, spec, session->connection, session->topology);
      },
      false, "starting a consumer");
  return id;
}

void AmqpLink::remove_consumer(uint64_t id) {
  run_task(
      [this, id](AmqpSession* session) {
        consumers_.remove(id, session ? &session->connection : nullptr);
      },
      true, "stopping a consumer");
}

std::string AmqpLink::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void AmqpLink::set_status(std::string status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = std::move(status);
}

}  // namespace isoqube::detail
