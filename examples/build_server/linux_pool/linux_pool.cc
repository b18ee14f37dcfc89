// The Linux build pool of the build-server simulation, written as a C++
// consumer module: the service "linux-pool" with one consumer per topic.
//
// Every consumer logs the event it consumed, honours the payload's failure
// injection and simulates work, as the seed's consumers did:
//   "work_ms": 200    milliseconds of simulated work (the default)
//   "fail": "LinuxUbuntu2004Build"  (or an array of topic names): consumers
//                     of those topics throw, so their steps' retries run out
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "isoqube/consumer.h"
#include "isoqube/json.h"

ISOQUBE_TOPIC(LinuxUbuntu2004Build, "Build Linux Ubuntu 20.04");
ISOQUBE_TOPIC(LinuxUbuntu2204Build, "Build Linux Ubuntu 22.04");
ISOQUBE_TOPIC(LinuxUbuntu2404Build, "Build Linux Ubuntu 24.04");
ISOQUBE_TOPIC(LinuxBuildCompleted, "Linux build completed");

namespace {

using isoqube::Context;
using isoqube::Json;
using Clock = std::chrono::steady_clock;

constexpr char kService[] = "linux-pool";
constexpr int kDefaultWorkMs = 200;
// Short enough that a cancelled run stops a build promptly.
constexpr auto kSleepSlice = std::chrono::milliseconds(20);

bool failure_requested(const Json& payload, const std::string& topic) {
  if (!payload.is_object()) return false;
  auto fail = payload.find("fail");
  if (fail == payload.end()) return false;
  if (fail->is_string()) return fail->get_ref<const std::string&>() == topic;
  if (fail->is_array()) {
    return std::find(fail->begin(), fail->end(), Json(topic)) != fail->end();
  }
  return false;
}

long long work_ms(const Json& payload) {
  if (!payload.is_object()) return kDefaultWorkMs;
  auto it = payload.find("work_ms");
  if (it == payload.end()) return kDefaultWorkMs;
  if (!it->is_number() || it->get<double>() < 0) {
    throw std::invalid_argument(
        "payload field work_ms must be a non-negative number of milliseconds, "
        "got " +
        it->dump());
  }
  return static_cast<long long>(it->get<double>());
}

// Sleeps in slices so that cancellation is noticed; false when cancelled.
bool simulate_work(const Context& ctx, long long ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < deadline) {
    if (ctx.cancelled()) return false;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(kSleepSlice, deadline - Clock::now()));
  }
  return !ctx.cancelled();
}

// What every linux-pool consumer does: log the consumed event, fail when the
// payload asks for it, simulate the work. Returns the output's common part.
Json consume(Context& ctx) {
  // The service's logger names the service: "[isoqube.linux-pool] ...".
  ctx.log().info("{} consumed {} (run {}, step {}, attempt {})", ctx.consumer(),
                 ctx.topic(), ctx.run_id(), ctx.step(), ctx.attempt());
  if (failure_requested(ctx.payload(), ctx.topic())) {
    throw std::runtime_error("simulated failure of " + ctx.topic());
  }
  const auto started = Clock::now();
  const bool finished = simulate_work(ctx, work_ms(ctx.payload()));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::now() - started);
  Json output = {{"duration_ms", elapsed.count()}};
  if (!finished) output["cancelled"] = true;
  return output;
}

Json build(Context& ctx, const std::string& image) {
  Json output = consume(ctx);
  const std::string run = ctx.run_id().empty() ? "adhoc" : ctx.run_id();
  output["image"] = image;
  output["artifact"] = "build-" + run.substr(0, 8) + "-" + image + ".tar.gz";
  return output;
}

struct LinuxUbuntu2004BuildConsumer {
  Json handle(Context& ctx) { return build(ctx, "ubuntu-20.04"); }
};
ISOQUBE_CONSUMER(LinuxUbuntu2004BuildConsumer, "LinuxUbuntu2004Build",
                 kService);

struct LinuxUbuntu2204BuildConsumer {
  Json handle(Context& ctx) { return build(ctx, "ubuntu-22.04"); }
};
ISOQUBE_CONSUMER(LinuxUbuntu2204BuildConsumer, "LinuxUbuntu2204Build",
                 kService);

struct LinuxUbuntu2404BuildConsumer {
  Json handle(Context& ctx) { return build(ctx, "ubuntu-24.04"); }
};
ISOQUBE_CONSUMER(LinuxUbuntu2404BuildConsumer, "LinuxUbuntu2404Build",
                 kService);

// Gathers the artifacts of the builds it waited for.
struct LinuxBuildCompletedConsumer {
  Json handle(Context& ctx) {
    Json output = consume(ctx);
    Json artifacts = Json::array();
    if (ctx.inputs().is_object()) {
      for (const Json& input : ctx.inputs()) {
        if (input.is_object() && input.contains("artifact")) {
          artifacts.push_back(input["artifact"]);
        }
      }
    }
    output["artifacts"] = std::move(artifacts);
    return output;
  }
};
ISOQUBE_CONSUMER(LinuxBuildCompletedConsumer, "LinuxBuildCompleted", kService);

}  // namespace
