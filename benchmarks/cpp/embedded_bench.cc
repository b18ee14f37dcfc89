// Steps per second and per-step latency of many concurrent 10-step runs
// with no-op C++ consumers, on the in-process transport or a broker.
//
//   embedded_bench STORE_URI RUNS [CONCURRENCY] [IN_FLIGHT] [TRANSPORT_URI]
//   embedded_bench raw RUNS [CONCURRENCY] [IN_FLIGHT] [TRANSPORT_URI]
//
// TRANSPORT_URI defaults to memory://; benchmarks/broker.py passes amqp://.
// Prints one JSON object: steps, seconds, steps_per_s, latency percentiles
// and peak RSS. A hop is a step's completion to the next step's completion
// (one pass through orchestrator, transport and store); a step's latency is
// its run's creation to its last step's completion, / 10. Failures (a
// transport that cannot be opened) go to stderr as one line, exit status 1.
// On a broker, runs are started by up to 4 threads (see run_engine).
//
// "raw" is the baseline: the same chains of 10 hops through the transport
// alone (receive, publish the next hop, ack once it is confirmed), no store
// and no orchestration, so the ratio shows what run tracking costs.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.h"
#include "dispatch/worker.h"
#include "isoqube/consumer.h"
#include "isoqube/engine.h"
#include "isoqube/log.h"

namespace {

constexpr int kSteps = 10;
constexpr std::size_t kProducers = 4;

isoqube::Configuration ten_steps() {
  isoqube::Configuration c;
  c.name = "bench-10";
  for (int i = 0; i < kSteps; ++i) {
    isoqube::StepSpec s;
    s.topic = "BenchStep" + std::to_string(i);
    c.steps.push_back(s);
  }
  return c;
}

void register_noops(isoqube::Engine& engine) {
  for (int i = 0; i < kSteps; ++i) {
    isoqube::Topic t;
    t.name = "BenchStep" + std::to_string(i);
    engine.registry().add_topic(t);
    isoqube::Consumer c;
    c.name = t.name + "Consumer";
    c.topic = t.name;
    c.handler = [](isoqube::Context&) -> isoqube::Json { return nullptr; };
    engine.registry().add_consumer(c);
  }
}

double ms_between(isoqube::TimePoint from, isoqube::TimePoint to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Microseconds since the epoch, as JSON carries them through any transport.
int64_t to_micros(isoqube::TimePoint time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             time.time_since_epoch())
      .count();
}

isoqube::TimePoint from_micros(int64_t micros) {
  return isoqube::TimePoint(
      std::chrono::duration_cast<isoqube::TimePoint::duration>(
          std::chrono::microseconds(micros)));
}

// The transport is named by its scheme only: its URI may hold a password.
// `store_trips` are the store's round trips (reads + writes) while the runs
// were started and went through; none for raw chains.
void print_result(const std::string& transport_uri, const std::string& store,
                  int runs, double seconds, std::vector<double>& hops,
                  std::vector<double>& steps, uint64_t store_reads = 0,
                  uint64_t store_writes = 0) {
  std::string transport = transport_uri.substr(0, transport_uri.find("://"));
  // The store by its scheme too: a MongoDB URI may hold a password.
  std::string store_kind = store.substr(0, store.find("://"));
  double count = static_cast<double>(runs) * kSteps;
  std::printf(
      "{\"transport\": \"%s\", \"store\": \"%s\", \"runs\": %d, "
      "\"steps\": %.0f, \"seconds\": %.3f, \"steps_per_s\": %.0f, "
      "\"hop_ms_p50\": %.4f, \"hop_ms_p99\": %.4f, \"step_ms_p50\": %.4f, "
      "\"step_ms_p99\": %.4f, \"store_reads_per_step\": %.3f, "
      "\"store_writes_per_step\": %.3f, \"peak_rss_mb\": %.1f}\n",
      transport.c_str(), store_kind.c_str(), runs, count, seconds,
      count / seconds, bench::percentile(hops, 0.5),
      bench::percentile(hops, 0.99), bench::percentile(steps, 0.5),
      bench::percentile(steps, 0.99), store_reads / count, store_writes / count,
      bench::peak_rss_mb());
}

// Baseline: chains of kSteps hops through the transport only. Messages
// carry their chain's start and their own publish time.
class RawChains {
 public:
  RawChains(const std::string& transport_uri, int concurrency)
      : transport_(isoqube::open_transport(transport_uri)) {
    std::vector<isoqube::Binding> bindings;
    // Each hop's topic bound to an endpoint of its own name, as a worker
    // binds a consumer's: MassTransit's two exchanges per queue.
    for (int i = 0; i < kSteps; ++i) {
      bindings.push_back({hop(i) + "-consumer", {hop(i)}});
    }
    // A worker's default prefetch (isoqube/worker.h).
    inbox_ = transport_->subscribe(
        bindings, 2 * concurrency + isoqube::WorkerOptions::kConfirmWindow);
    for (int t = 0; t < concurrency; ++t) {
      threads_.emplace_back([this] { relay(); });
    }
  }

  ~RawChains() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    // Confirm callbacks use the members below: they end with the transport.
    inbox_.reset();
    transport_.reset();
  }

  // Starts `runs` chains, at most `in_flight` unfinished; returns once all
  // finished. Rethrows a relay thread's failure.
  void run(int runs, std::size_t in_flight) {
    for (int i = 0; i < runs; ++i) {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] {
        return failure_ || i - done_ < static_cast<int>(in_flight);
      });
      if (failure_) std::rethrow_exception(failure_);
      lock.unlock();
      isoqube::Envelope e;
      e.message_id = isoqube::new_uuid();
      // A broker transport refuses envelopes without a type (MassTransit
      // requires one); every hop forwards a copy of this one.
      e.message_type = {"urn:message:Isoqube.Bench:Hop"};
      auto now = to_micros(isoqube::now());
      e.message = {{"hop", 0}, {"started_us", now}, {"sent_us", now}};
      // Pipelined, as amqp_ceiling starts its chains.
      transport_->publish_async(hop(0), std::move(e), [this](auto error) {
        if (error) fail(error);
      });
    }
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return failure_ || done_ == runs; });
    if (failure_) std::rethrow_exception(failure_);
  }

  std::vector<double> hops_ms, steps_ms;  // read after run()

 private:
  static std::string hop(int i) { return "hop" + std::to_string(i); }

  void relay() {
    try {
      while (!stop_) {
        auto d = inbox_->receive(std::chrono::milliseconds(50));
        if (d) forward(*d);
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  // Acks once the next hop is confirmed, as a worker does (and as the raw
  // chains of amqp_ceiling do), without waiting for it.
  void forward(isoqube::Delivery& delivery) {
    isoqube::Envelope next = *delivery.envelope;
    int hop_index = next.message["hop"].get<int>() + 1;
    auto now = isoqube::now();
    auto sent = from_micros(next.message["sent_us"].get<int64_t>());
    auto started = from_micros(next.message["started_us"].get<int64_t>());
    std::unique_lock<std::mutex> lock(mutex_);
    hops_ms.push_back(ms_between(sent, now));
    if (hop_index == kSteps) {
      steps_ms.push_back(ms_between(started, now) / kSteps);
      ++done_;
      changed_.notify_all();
      lock.unlock();
      delivery.ack();
      return;
    }
    lock.unlock();
    next.message["hop"] = hop_index;
    next.message["sent_us"] = to_micros(now);
    transport_->publish_async(
        hop(hop_index), std::move(next),
        [this, ack = delivery.ack](std::exception_ptr error) {
          if (!error) return ack();
          fail(error);
        });
  }

  void fail(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    failure_ = std::move(error);
    changed_.notify_all();
  }

  std::unique_ptr<isoqube::Transport> transport_;
  std::unique_ptr<isoqube::Inbox> inbox_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int done_ = 0;
  std::exception_ptr failure_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

double seconds_since(std::chrono::steady_clock::time_point from) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - from)
      .count();
}

int run_raw(const std::string& transport_uri, int runs, int concurrency,
            std::size_t in_flight) {
  RawChains chains(transport_uri, concurrency);
  auto started = std::chrono::steady_clock::now();
  chains.run(runs, in_flight);
  double seconds = seconds_since(started);
  print_result(transport_uri, "raw", runs, seconds, chains.hops_ms,
               chains.steps_ms);
  return 0;
}

int run_engine(const isoqube::EngineOptions& options, int runs,
               std::size_t in_flight) {
  isoqube::Engine engine(options);
  register_noops(engine);
  engine.start();
  isoqube::Configuration config = engine.save_configuration(ten_steps());
  const isoqube::StoreStats before = engine.store().stats();

  // On a broker, start_run() returns once the run's first step is
  // confirmed, so one producer thread would start runs no faster than one
  // confirm each (the raw chains pipeline their starts): kProducers share
  // the runs and the in-flight allowance. In process, one thread, as ever.
  const int producers = static_cast<int>(std::min<std::size_t>(
      engine.transport().distributed() ? kProducers : 1, in_flight));
  const std::size_t own_in_flight = in_flight / producers;
  std::vector<std::string> ids(runs);
  std::vector<std::thread> threads;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto started = std::chrono::steady_clock::now();
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      try {
        std::size_t waited = p, unfinished = 0;
        for (int i = p; i < runs; i += producers) {
          // Keep at most `in_flight` runs unfinished, as a steady producer
          // would: the oldest ends before the next starts.
          for (; unfinished >= own_in_flight; --unfinished) {
            engine.wait(ids[waited], std::chrono::minutes(5));
            waited += producers;
          }
          ids[i] = engine.start_run(config, {}).id;
          ++unfinished;
        }
        for (; waited < ids.size(); waited += producers) {
          engine.wait(ids[waited], std::chrono::minutes(5));
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        failure = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  double seconds = seconds_since(started);
  const isoqube::StoreStats after = engine.store().stats();

  std::vector<double> hops, steps;
  for (const std::string& id : ids) {
    isoqube::Run run = *engine.find_run(id);
    for (int s = 1; s < kSteps; ++s) {
      hops.push_back(ms_between(*run.steps[s - 1].completed_on,
                                *run.steps[s].completed_on));
    }
    steps.push_back(ms_between(run.created_on, *run.steps.back().completed_on) /
                    kSteps);
  }
  print_result(options.transport, options.store, runs, seconds, hops, steps,
               after.reads - before.reads, after.writes - before.writes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: embedded_bench STORE_URI|raw RUNS [CONCURRENCY] "
                 "[IN_FLIGHT] [TRANSPORT_URI]\n";
    return 2;
  }
  isoqube::set_log_level("warning");
  isoqube::EngineOptions options;
  options.store = argv[1];
  options.concurrency = argc > 3 ? std::stoi(argv[3]) : 2;
  options.transport = argc > 5 ? argv[5] : "memory://";
  int runs = std::stoi(argv[2]);
  std::size_t in_flight = argc > 4 ? std::stoul(argv[4]) : 200;
  try {
    if (options.store == "raw") {
      return run_raw(options.transport, runs, options.concurrency, in_flight);
    }
    return run_engine(options, runs, in_flight);
  } catch (const std::exception& error) {
    std::cerr << "embedded_bench: " << error.what() << "\n";
    return 1;
  }
}
