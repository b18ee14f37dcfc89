// The broker's ceiling on this machine, measured with rabbitmq-c alone under
// the guarantees Isoqube gives: durable queues, persistent messages,
// pipelined publisher confirms, manual acks with a prefetch. It is the
// baseline benchmarks/broker.py sets Isoqube and Celery against, so it does
// not use Isoqube's transport.
//
//   amqp_ceiling URI throughput MESSAGES [WINDOW] [PREFETCH]
//   amqp_ceiling URI latency HOPS
//   amqp_ceiling URI chains RUNS [IN_FLIGHT] [PREFETCH]
//   (each mode also as MODE+masstransit)
//
// throughput  A producer publishes MESSAGES keeping at most WINDOW (default
//             500) unconfirmed, while a consumer with prefetch PREFETCH
//             (default 500) acks each one; each on its own connection and
//             thread. messages/s from the first publish to the last ack.
// latency     One hop at a time: publish, wait for the delivery and the
//             confirm, ack. p50/p99 of publish → delivery (the hop) and of
//             publish → confirm.
// chains      RUNS chains of 10 hops through 10 queues, at most IN_FLIGHT
//             (default 200) unfinished: every delivery publishes the next
//             hop and is acked only once that publish is confirmed, which is
//             what one Isoqube step costs on the wire. One connection and
//             thread (consumers on one channel, confirmed publishes on
//             another), prefetch PREFETCH (default 100) per queue. hops/s,
//             per-hop latency (one delivery to the chain's next) and
//             per-step latency (a chain's first publish to its last
//             delivery, / 10).
//
// Prints one JSON object. Bodies are 512 bytes, about an Isoqube step
// envelope; messages go through the default exchange straight to the queue,
// or with MODE+masstransit through MassTransit's two fanout exchanges per
// queue, as Isoqube's transport routes them (the broker's ceiling under the
// topology Isoqube must keep for MassTransit services).
//
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <future>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "amqp_session.h"
#include "bench_stats.h"

namespace {

using bench::AmqpEvent;
using bench::AmqpSession;
using bench::PendingConfirms;
using Clock = std::chrono::steady_clock;

constexpr amqp_channel_t kConsumeChannel = 1;
constexpr amqp_channel_t kPublishChannel = 2;
constexpr std::size_t kBodyBytes = 512;
constexpr int kHops = 10;
constexpr int kWarmupHops = 50;
// Work is outstanding whenever a driver waits, so a broker silent this long
// is stuck, and the benchmark says so instead of hanging.
constexpr auto kStallTimeout = std::chrono::seconds(60);

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

double seconds_since(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

// The next delivery or confirm. Throws when `abort` is set (the other side
// failed) or the broker stays silent for kStallTimeout.
AmqpEvent next_event(AmqpSession& session,
                     const std::atomic<bool>* abort = nullptr) {
  auto deadline = Clock::now() + kStallTimeout;
  for (;;) {
    AmqpEvent event = session.next(std::chrono::milliseconds(100));
    if (event.kind == AmqpEvent::Kind::kDelivery ||
        event.kind == AmqpEvent::Kind::kConfirm) {
      return event;
    }
    if (abort != nullptr && *abort) throw std::runtime_error("aborted");
    if (Clock::now() > deadline) {
      throw std::runtime_error("the broker sent nothing for 60 s");
    }
  }
}

// Acks every delivery, `messages` in all; returns when the last was acked,
// and deletes the queue.
Clock::time_point consume_all(const std::string& uri, const std::string& queue,
                              long messages, uint16_t prefetch,
                              std::promise<void>& ready,
                              const std::atomic<bool>& abort) {
  std::unique_ptr<AmqpSession> connected;
  try {
    connected = std::make_unique<AmqpSession>(uri);
    connected->open_channel(kConsumeChannel);
    connected->consume(kConsumeChannel, queue, prefetch);
  } catch (...) {
    ready.set_exception(std::current_exception());
    throw;
  }
  AmqpSession& session = *connected;
  ready.set_value();
  for (long acked = 0; acked < messages;) {
    AmqpEvent event = next_event(session, &abort);
    if (event.kind != AmqpEvent::Kind::kDelivery) continue;
    session.ack(kConsumeChannel, event.delivery_tag);
    ++acked;
  }
  Clock::time_point finished = Clock::now();
  session.delete_queue(kConsumeChannel, queue);
  return finished;
}

// Publishes `messages` with at most `window` awaiting their confirm.
void publish_all(const std::string& uri, const std::string& queue,
                 long messages, std::size_t window) {
  AmqpSession session(uri);
  session.open_channel(kPublishChannel);
  session.confirm_select(kPublishChannel);
  const std::string body(kBodyBytes, 'x');
  PendingConfirms pending;
  for (long i = 0; i < messages || pending.size() > 0;) {
    if (i < messages && pending.size() < window) {
      pending.add(session.publish(kPublishChannel, queue, body), 0);
      ++i;
      continue;
    }
    AmqpEvent event = next_event(session);
    pending.confirm(event.sequence, event.multiple);
  }
}

int run_throughput(const std::string& uri, long messages, std::size_t window,
                   uint16_t prefetch) {
  const std::string queue = "isoqube-bench-ceiling";
  {
    AmqpSession setup(uri);
    setup.open_channel(kConsumeChannel);
    setup.declare_queue(kConsumeChannel, queue);
  }

  std::promise<void> ready;
  std::atomic<bool> abort{false};
  auto consumer =
      std::async(std::launch::async, consume_all, uri, queue, messages,
                 prefetch, std::ref(ready), std::cref(abort));
  ready.get_future().get();
  Clock::time_point started = Clock::now();
  double publish_seconds = 0;
  try {
    publish_all(uri, queue, messages, window);
    publish_seconds = seconds_since(started);
  } catch (...) {
    abort = true;
    throw;
  }
  double seconds =
      std::chrono::duration<double>(consumer.get() - started).count();
  std::printf(
      "{\"mode\": \"throughput\", \"messages\": %ld, \"window\": %zu, "
      "\"prefetch\": %u, \"body_bytes\": %zu, \"seconds\": %.3f, "
      "\"messages_per_s\": %.0f, \"confirmed_per_s\": %.0f, "
      "\"peak_rss_mb\": %.1f}\n",
      messages, window, prefetch, kBodyBytes, seconds, messages / seconds,
      messages / publish_seconds, bench::peak_rss_mb());
  return 0;
}

int run_latency(const std::string& uri, long hops) {
  const std::string queue = "isoqube-bench-latency";
  AmqpSession session(uri);
  session.open_channel(kConsumeChannel);
  session.open_channel(kPublishChannel);
  session.declare_queue(kConsumeChannel, queue);
  session.consume(kConsumeChannel, queue, 1);
  session.confirm_select(kPublishChannel);
  const std::string body(kBodyBytes, 'x');
  std::vector<double> hop_ms, confirm_ms;
  Clock::time_point started;
  for (long i = -kWarmupHops; i < hops; ++i) {
    if (i == 0) started = Clock::now();
    Clock::time_point sent = Clock::now(), delivered, confirmed;
    uint64_t sequence = session.publish(kPublishChannel, queue, body);
    for (bool got_delivery = false, got_confirm = false;
         !got_delivery || !got_confirm;) {
      AmqpEvent event = next_event(session);
      if (event.kind == AmqpEvent::Kind::kDelivery) {
        delivered = Clock::now();
        session.ack(kConsumeChannel, event.delivery_tag);
        got_delivery = true;
      } else if (event.sequence >= sequence) {
        confirmed = Clock::now();
        got_confirm = true;
      }
    }
    if (i < 0) continue;
    hop_ms.push_back(ms_between(sent, delivered));
    confirm_ms.push_back(ms_between(sent, confirmed));
  }
  double seconds = seconds_since(started);
  session.delete_queue(kConsumeChannel, queue);
  std::printf(
      "{\"mode\": \"latency\", \"hops\": %ld, \"seconds\": %.3f, "
      "\"hops_per_s\": %.0f, \"hop_ms_p50\": %.4f, \"hop_ms_p99\": %.4f, "
      "\"confirm_ms_p50\": %.4f, \"confirm_ms_p99\": %.4f, "
      "\"peak_rss_mb\": %.1f}\n",
      hops, seconds, hops / seconds, bench::percentile(hop_ms, 0.5),
      bench::percentile(hop_ms, 0.99), bench::percentile(confirm_ms, 0.5),
      bench::percentile(confirm_ms, 0.99), bench::peak_rss_mb());
  return 0;
}

// Many concurrent chains of kHops hops on one connection; see the top.
class Chains {
 public:
  Chains(const std::string& uri, long runs, long in_flight, uint16_t prefetch)
      : session_(uri),
        runs_(runs),
        in_flight_(in_flight),
        prefetch_(prefetch),
        chain_started_(runs),
        last_delivery_(runs) {
    session_.open_channel(kConsumeChannel);
    session_.open_channel(kPublishChannel);
    session_.confirm_select(kPublishChannel);
    for (int hop = 0; hop < kHops; ++hop) {
      session_.declare_queue(kConsumeChannel, queue(hop));
      session_.consume(kConsumeChannel, queue(hop), prefetch);
    }
  }

  void run() {
    Clock::time_point started = Clock::now();
    while (started_ < std::min(runs_, in_flight_)) start_chain();
    // Until every chain finished and every delivery is acked: a chain's
    // last hop can arrive before the confirm that releases its previous one.
    while (finished_ < runs_ || pending_.size() > 0) {
      AmqpEvent event = next_event(session_);
      if (event.kind == AmqpEvent::Kind::kDelivery) {
        on_delivery(event);
        continue;
      }
      for (uint64_t tag : pending_.confirm(event.sequence, event.multiple)) {
        session_.ack(kConsumeChannel, tag);
      }
    }
    seconds_ = seconds_since(started);
    for (int hop = 0; hop < kHops; ++hop) {
      session_.delete_queue(kConsumeChannel, queue(hop));
    }
  }

  void print() {
    std::printf(
        "{\"mode\": \"chains\", \"runs\": %ld, \"hops\": %ld, "
        "\"in_flight\": %ld, \"prefetch\": %u, \"seconds\": %.3f, "
        "\"hops_per_s\": %.0f, \"hop_ms_p50\": %.4f, \"hop_ms_p99\": %.4f, "
        "\"step_ms_p50\": %.4f, \"step_ms_p99\": %.4f, "
        "\"peak_rss_mb\": %.1f}\n",
        runs_, runs_ * kHops, in_flight_, prefetch_, seconds_,
        runs_ * kHops / seconds_, bench::percentile(hop_ms_, 0.5),
        bench::percentile(hop_ms_, 0.99), bench::percentile(step_ms_, 0.5),
        bench::percentile(step_ms_, 0.99), bench::peak_rss_mb());
  }

 private:
  static std::string queue(int hop) {
    return "isoqube-bench-hop-" + std::to_string(hop);
  }

  static std::string body(long chain, int hop) {
    std::string text = std::to_string(chain) + " " + std::to_string(hop);
    text.resize(kBodyBytes, ' ');
    return text;
  }

  void start_chain() {
    long chain = started_++;
    chain_started_[chain] = Clock::now();
    pending_.add(session_.publish(kPublishChannel, queue(0), body(chain, 0)),
                 0);
  }

  void on_delivery(const AmqpEvent& event) {
    char* rest = nullptr;
    long chain = std::strtol(event.body.c_str(), &rest, 10);
    int hop = static_cast<int>(std::strtol(rest, nullptr, 10));
    Clock::time_point now = Clock::now();
    if (hop > 0) hop_ms_.push_back(ms_between(last_delivery_[chain], now));
    last_delivery_[chain] = now;
    if (hop + 1 < kHops) {
      uint64_t sequence = session_.publish(kPublishChannel, queue(hop + 1),
                                           body(chain, hop + 1));
      pending_.add(sequence, event.delivery_tag);
      return;
    }
    session_.ack(kConsumeChannel, event.delivery_tag);
    step_ms_.push_back(ms_between(chain_started_[chain], now) / kHops);
    ++finished_;
    if (started_ < runs_) start_chain();
  }

  AmqpSession session_;
  PendingConfirms pending_;
  const long runs_;
  const long in_flight_;
  const uint16_t prefetch_;
  long started_ = 0;
  long finished_ = 0;
  std::vector<Clock::time_point> chain_started_;
  std::vector<Clock::time_point> last_delivery_;
  std::vector<double> hop_ms_;
  std::vector<double> step_ms_;
  double seconds_ = 0;
};

long argument(int argc, char** argv, int index, long fallback) {
  if (argc <= index) return fallback;
  char* end = nullptr;
  long value = std::strtol(argv[index], &end, 10);
  if (*end != '\0' || value <= 0) {
    throw std::invalid_argument(std::string("not a positive number: '") +
                                argv[index] + "'");
  }
  return value;
}

uint16_t prefetch_argument(int argc, char** argv, int index, long fallback) {
  long value = argument(argc, argv, index, fallback);
  if (value > 65535) throw std::invalid_argument("prefetch above 65535");
  return static_cast<uint16_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr
        << "usage: amqp_ceiling URI throughput MESSAGES [WINDOW] [PREFETCH]\n"
           "       amqp_ceiling URI latency HOPS\n"
           "       amqp_ceiling URI chains RUNS [IN_FLIGHT] [PREFETCH]\n";
    return 2;
  }
  const std::string uri = argv[1];
  std::string mode = argv[2];
  const std::string suffix = "+masstransit";
  if (mode.size() > suffix.size() &&
      mode.compare(mode.size() - suffix.size(), suffix.size(), suffix) == 0) {
    mode.resize(mode.size() - suffix.size());
    AmqpSession::set_route(AmqpSession::Route::kMassTransit);
  }
  try {
    long count = argument(argc, argv, 3, 0);
    if (mode == "throughput") {
      return run_throughput(uri, count, argument(argc, argv, 4, 500),
                            prefetch_argument(argc, argv, 5, 500));
    }
    if (mode == "latency") return run_latency(uri, count);
    if (mode == "chains") {
      Chains chains(uri, count, argument(argc, argv, 4, 200),
                    prefetch_argument(argc, argv, 5, 100));
      chains.run();
      chains.print();
      return 0;
    }
    std::cerr << "amqp_ceiling: unknown mode '" << mode
              << "' (throughput, latency, chains)\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "amqp_ceiling: " << error.what() << "\n";
    return 1;
  }
}
