// Steps per second and per-step latency of many concurrent 10-step runs
// with no-op C++ consumers, on the in-process transport.
//
//   embedded_bench STORE_URI RUNS [CONCURRENCY] [IN_FLIGHT]
//   embedded_bench raw RUNS [CONCURRENCY] [IN_FLIGHT]
//
// Prints one JSON object: steps, seconds, steps_per_s, latency percentiles
// (milliseconds between a step's completion and the next step's, i.e. one
// hop through orchestrator, transport and store) and peak RSS.
//
// "raw" is the baseline: the same chains of 10 hops through the memory
// transport alone (receive, ack, publish the next hop), no store and no
// orchestration, so the ratio shows what run tracking costs.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "isoqube/consumer.h"
#include "isoqube/engine.h"
#include "isoqube/log.h"

namespace {

constexpr int kSteps = 10;

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

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = static_cast<std::size_t>(p * (v.size() - 1));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

void print_result(const char* store, int runs, double seconds,
                  std::vector<double>& hops) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  double steps = static_cast<double>(runs) * kSteps;
  std::printf(
      "{\"store\": \"%s\", \"runs\": %d, \"steps\": %.0f, \"seconds\": %.3f, "
      "\"steps_per_s\": %.0f, \"hop_ms_p50\": %.4f, \"hop_ms_p99\": %.4f, "
      "\"peak_rss_mb\": %.1f}\n",
      store, runs, steps, seconds, steps / seconds, percentile(hops, 0.5),
      percentile(hops, 0.99), usage.ru_maxrss / 1024.0);
}

// Baseline: chains of kSteps hops through the memory transport only.
int run_raw(int runs, int concurrency, std::size_t in_flight) {
  auto transport = isoqube::open_transport("memory://");
  std::vector<isoqube::Binding> bindings;
  for (int i = 0; i < kSteps; ++i) {
    std::string name = "hop" + std::to_string(i);
    bindings.push_back({name, {name}});
  }
  auto inbox = transport->subscribe(bindings, 2 * concurrency);
  std::mutex mutex;
  std::condition_variable done_cv;
  int done = 0;
  std::vector<double> hops;
  std::atomic<bool> stop{false};
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        auto d = inbox->receive(std::chrono::milliseconds(50));
        if (!d) continue;
        isoqube::Envelope next = *d->envelope;
        d->ack();
        int hop = next.message["hop"].get<int>() + 1;
        auto now = isoqube::now();
        double gap = std::chrono::duration<double, std::milli>(
                         now - next.sent_time).count();
        if (hop == kSteps) {
          std::lock_guard<std::mutex> lock(mutex);
          hops.push_back(gap);
          ++done;
          done_cv.notify_all();
          continue;
        }
        next.message["hop"] = hop;
        next.sent_time = now;
        {
          std::lock_guard<std::mutex> lock(mutex);
          hops.push_back(gap);
        }
        transport->publish("hop" + std::to_string(hop), std::move(next));
      }
    });
  }
  for (int i = 0; i < runs; ++i) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      done_cv.wait(lock, [&] { return i - done < static_cast<int>(in_flight); });
    }
    isoqube::Envelope e;
    e.message_id = isoqube::new_uuid();
    e.message = {{"hop", 0}, {"payload", isoqube::Json::object()}};
    e.sent_time = isoqube::now();
    transport->publish("hop0", std::move(e));
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    done_cv.wait(lock, [&] { return done == runs; });
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - started).count();
  stop = true;
  for (auto& t : threads) t.join();
  print_result("raw", runs, seconds, hops);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: embedded_bench STORE_URI RUNS [CONCURRENCY] [IN_FLIGHT]\n";
    return 2;
  }
  isoqube::set_log_level("warning");
  isoqube::EngineOptions options;
  options.transport = "memory://";
  options.store = argv[1];
  options.concurrency = argc > 3 ? std::stoi(argv[3]) : 2;
  int runs = std::stoi(argv[2]);
  std::size_t in_flight = argc > 4 ? std::stoul(argv[4]) : 200;
  if (std::string(argv[1]) == "raw") {
    return run_raw(runs, options.concurrency, in_flight);
  }
  isoqube::Engine engine(options);
  register_noops(engine);
  engine.start();
  isoqube::Configuration config = engine.save_configuration(ten_steps());

  auto started = std::chrono::steady_clock::now();
  std::vector<std::string> ids;
  std::size_t waited = 0;
  for (int i = 0; i < runs; ++i) {
    ids.push_back(engine.start_run(config, {}).id);
    // Keep at most `in_flight` runs unfinished, as a steady producer would.
    while (ids.size() - waited > in_flight) {
      engine.wait(ids[waited++], std::chrono::minutes(5));
    }
  }
  while (waited < ids.size()) engine.wait(ids[waited++], std::chrono::minutes(5));
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - started)
                       .count();

  std::vector<double> hops;
  for (const std::string& id : ids) {
    isoqube::Run run = *engine.find_run(id);
    for (int s = 1; s < kSteps; ++s) {
      auto gap = *run.steps[s].completed_on - *run.steps[s - 1].completed_on;
      hops.push_back(std::chrono::duration<double, std::milli>(gap).count());
    }
  }
  print_result(argv[1], runs, seconds, hops);
  return 0;
}
