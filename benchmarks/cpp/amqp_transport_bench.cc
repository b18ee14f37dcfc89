// The RabbitMQ transport against rabbitmq-c used directly, on one broker:
// the cost of one persistent publish -> deliver -> ack hop, and throughput
// with many publishing threads. Every message is persistent, confirmed and
// acknowledged by hand in both.
//
//   amqp_transport_bench URI hop COUNT
//       COUNT hops one after another (the next is published once the last
//       was confirmed, delivered and acked), through the transport and raw.
//   amqp_transport_bench URI throughput THREADS COUNT [RECEIVERS] [PREFETCH]
//       THREADS threads publish COUNT messages in all through the transport
//       (each waits for its own confirms) while RECEIVERS threads (default
//       2) consume and ack with PREFETCH (default 256); then the same
//       traffic raw from one thread with THREADS confirms in flight.
//
// Prints one JSON object per measurement.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "isoqube/json.h"
#include "isoqube/message.h"
#include "isoqube/time.h"
#include "isoqube/transport.h"

namespace {

using Clock = std::chrono::steady_clock;
using isoqube::Json;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

Json percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double p) {
    return samples.empty()
               ? 0.0
               : samples[static_cast<std::size_t>(p * (samples.size() - 1))];
  };
  return {{"p50_ms", at(0.5)}, {"p90_ms", at(0.9)}, {"p99_ms", at(0.99)}};
}

std::string suffix() { return isoqube::new_uuid().substr(0, 8); }

isoqube::Envelope envelope() {
  isoqube::Envelope e;
  e.message_id = isoqube::new_uuid();
  e.message_type = {"urn:message:Isoqube.Bench:Hop"};
  e.message = {{"correlationId", isoqube::new_uuid()},
               {"step", "Hop"},
               {"stepIndex", 1},
               {"attempt", 1},
               {"payload", Json::object()}};
  e.sent_time = isoqube::now();
  return e;
}

// --- through the transport ---------------------------------------------

Json transport_hops(const std::string& uri, int count) {
  auto transport = isoqube::open_transport(uri);
  const std::string topic = "bench-hop-" + suffix();
  auto inbox = transport->subscribe({{topic + "-ep", {topic}}}, 1);
  std::vector<double> hops;
  for (int i = 0; i < count + 200; ++i) {  // the first 200 warm up
    const auto start = Clock::now();
    transport->publish(topic, envelope());
    auto delivery = inbox->receive(std::chrono::seconds(10));
    if (!delivery) throw std::runtime_error("a hop was not delivered");
    delivery->ack();
    if (i >= 200) hops.push_back(ms_since(start));
  }
  Json out = percentiles(hops);
  out["what"] = "hop, transport";
  return out;
}

Json transport_throughput(const std::string& uri, int threads, int count,
                          int receivers, int prefetch) {
  auto transport = isoqube::open_transport(uri);
  const std::string topic = "bench-tp-" + suffix();
  auto inbox = transport->subscribe({{topic + "-ep", {topic}}}, prefetch);
  std::atomic<int> consumed{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> consumers;
  for (int r = 0; r < receivers; ++r) {
    consumers.emplace_back([&] {
      while (!done) {
        if (auto d = inbox->receive(std::chrono::milliseconds(50))) {
          d->ack();
          ++consumed;
        }
      }
    });
  }
  const auto start = Clock::now();
  std::vector<std::thread> publishers;
  for (int t = 0; t < threads; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = t; i < count; i += threads) {
        transport->publish(topic, envelope());
      }
    });
  }
  for (auto& p : publishers) p.join();
  const double published_ms = ms_since(start);
  while (consumed < count)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double all_ms = ms_since(start);
  done = true;
  for (auto& c : consumers) c.join();
  return {{"what", "throughput, transport"},
          {"publishing_threads", threads},
          {"receivers", receivers},
          {"prefetch", prefetch},
          {"messages", count},
          {"published_per_s", count / published_ms * 1000},
          {"consumed_per_s", count / all_ms * 1000}};
}

// --- rabbitmq-c directly -------------------------------------------------

class Raw {
 public:
  explicit Raw(const std::string& uri) : state_(amqp_new_connection()) {
    std::string text = uri.substr(0, uri.find('?'));
    amqp_connection_info info;
    if (amqp_parse_url(text.data(), &info) != AMQP_STATUS_OK) {
      throw std::runtime_error("bad URI");
    }
    amqp_socket_t* socket = amqp_tcp_socket_new(state_);
    if (amqp_socket_open(socket, info.host, info.port) != AMQP_STATUS_OK) {
      throw std::runtime_error("cannot connect");
    }
    check(amqp_login(state_, info.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN,
                     info.user, info.password));
    amqp_channel_open(state_, kPublish);
    check(amqp_get_rpc_reply(state_));
    amqp_confirm_select(state_, kPublish);
    check(amqp_get_rpc_reply(state_));
    amqp_channel_open(state_, kConsume);
    check(amqp_get_rpc_reply(state_));
  }
  ~Raw() {
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state_);
  }

  // A durable fanout exchange bound to a durable queue, consumed with
  // manual acks and `prefetch`.
  void declare(const std::string& name, int prefetch) {
    exchange_ = name;
    amqp_exchange_declare(state_, kConsume, bytes(name),
                          amqp_cstring_bytes("fanout"), 0, 1, 0, 0,
                          amqp_empty_table);
    check(amqp_get_rpc_reply(state_));
    amqp_queue_declare(state_, kConsume, bytes(name), 0, 1, 0, 0,
                       amqp_empty_table);
    check(amqp_get_rpc_reply(state_));
    amqp_queue_bind(state_, kConsume, bytes(name), bytes(name),
                    amqp_empty_bytes, amqp_empty_table);
    check(amqp_get_rpc_reply(state_));
    amqp_basic_qos(state_, kConsume, 0, prefetch, 0);
    check(amqp_get_rpc_reply(state_));
    amqp_basic_consume(state_, kConsume, bytes(name), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    check(amqp_get_rpc_reply(state_));
  }

  void publish() {
    const std::string body = isoqube::encode(envelope());
    amqp_basic_properties_t p{};
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.content_type = amqp_cstring_bytes("application/vnd.masstransit+json");
    p.delivery_mode = 2;
    if (amqp_basic_publish(state_, kPublish, bytes(exchange_), amqp_empty_bytes,
                           0, 0, &p, bytes(body)) != AMQP_STATUS_OK) {
      throw std::runtime_error("publish failed");
    }
    ++published_;
  }

  // Reads one frame; counts confirms, acks deliveries once their body is in.
  void step() {
    amqp_frame_t frame;
    if (amqp_simple_wait_frame(state_, &frame) != AMQP_STATUS_OK) {
      throw std::runtime_error("read failed");
    }
    if (frame.frame_type == AMQP_FRAME_METHOD) {
      const auto id = frame.payload.method.id;
      if (id == AMQP_BASIC_ACK_METHOD) {
        auto* ack =
            static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        confirmed_ = ack->delivery_tag;
      } else if (id == AMQP_BASIC_DELIVER_METHOD) {
        auto* d =
            static_cast<amqp_basic_deliver_t*>(frame.payload.method.decoded);
        tag_ = d->delivery_tag;
      }
    } else if (frame.frame_type == AMQP_FRAME_HEADER) {
      left_ = frame.payload.properties.body_size;
      if (left_ == 0) ack();
    } else if (frame.frame_type == AMQP_FRAME_BODY) {
      left_ -= frame.payload.body_fragment.len;
      if (left_ == 0) ack();
    }
    amqp_maybe_release_buffers(state_);
  }

  uint64_t published() const { return published_; }
  uint64_t confirmed() const { return confirmed_; }
  uint64_t consumed() const { return consumed_; }

 private:
  static constexpr amqp_channel_t kPublish = 1, kConsume = 2;
  static amqp_bytes_t bytes(const std::string& s) {
    return {s.size(), const_cast<char*>(s.data())};
  }
  static void check(const amqp_rpc_reply_t& r) {
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("rpc failed");
  }
  void ack() {
    amqp_basic_ack(state_, kConsume, tag_, 0);
    ++consumed_;
  }

  amqp_connection_state_t state_;
  std::string exchange_;
  uint64_t published_ = 0, confirmed_ = 0, consumed_ = 0, tag_ = 0, left_ = 0;
};

Json raw_hops(const std::string& uri, int count) {
  Raw raw(uri);
  raw.declare("bench-raw-hop-" + suffix(), 1);
  std::vector<double> hops;
  for (int i = 0; i < count + 200; ++i) {
    const auto start = Clock::now();
    raw.publish();
    while (raw.confirmed() < raw.published() ||
           raw.consumed() < raw.published()) {
      raw.step();
    }
    if (i >= 200) hops.push_back(ms_since(start));
  }
  Json out = percentiles(hops);
  out["what"] = "hop, raw rabbitmq-c";
  return out;
}

Json raw_throughput(const std::string& uri, int in_flight, int count,
                    int prefetch) {
  Raw raw(uri);
  raw.declare("bench-raw-tp-" + suffix(), prefetch);
  const auto start = Clock::now();
  while (raw.consumed() < static_cast<uint64_t>(count)) {
    while (raw.published() < static_cast<uint64_t>(count) &&
           raw.published() - raw.confirmed() <
               static_cast<uint64_t>(in_flight)) {
      raw.publish();
    }
    raw.step();
  }
  const double all_ms = ms_since(start);
  return {{"what", "throughput, raw rabbitmq-c"},
          {"confirms_in_flight", in_flight},
          {"prefetch", prefetch},
          {"messages", count},
          {"consumed_per_s", count / all_ms * 1000}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: amqp_transport_bench URI hop COUNT\n"
                 "       amqp_transport_bench URI throughput THREADS COUNT "
                 "[RECEIVERS] [PREFETCH]\n";
    return 2;
  }
  const std::string uri = argv[1];
  const std::string what = argv[2];
  try {
    if (what == "hop") {
      const int count = std::stoi(argv[3]);
      std::cout << transport_hops(uri, count).dump() << "\n"
                << raw_hops(uri, count).dump() << "\n";
    } else if (what == "throughput" && argc >= 5) {
      const int threads = std::stoi(argv[3]);
      const int count = std::stoi(argv[4]);
      const int receivers = argc > 5 ? std::stoi(argv[5]) : 2;
      const int prefetch = argc > 6 ? std::stoi(argv[6]) : 256;
      std::cout << transport_throughput(uri, threads, count, receivers,
                                        prefetch)
                       .dump()
                << "\n"
                << raw_throughput(uri, threads, count, prefetch).dump() << "\n";
    } else {
      std::cerr << "unknown measurement '" << what << "'\n";
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "amqp_transport_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
