// Writing consumers in C++: the Context a handler receives, and the macros
// that register topics and consumers automatically when the program or a
// consumer module is loaded (the seed's attribute-based wiring).
//
//   ISOQUBE_TOPIC(LinuxUbuntu2004Build, "Build Linux Ubuntu 20.04");
//
//   struct LinuxUbuntu2004BuildConsumer {
//     isoqube::Json handle(isoqube::Context& ctx) {
//       ctx.log().info("building {}", ctx.run_id());
//       return {{"image", "ubuntu-20.04"}};
//     }
//   };
//   ISOQUBE_CONSUMER(LinuxUbuntu2004BuildConsumer, "LinuxUbuntu2004Build",
//                    "linux-pool");
//
// A consumer class must be default-constructible; one instance handles one
// message (as a MassTransit consumer does). Throwing from handle() fails the
// attempt; the step's retry policy decides what happens next.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "isoqube/json.h"
#include "isoqube/registry.h"

namespace spdlog {
class logger;
}

namespace isoqube {

// What a handler knows about the message it handles. Valid only during the
// handler call, on the calling thread.
class Context {
 public:
  virtual ~Context() = default;

  virtual const std::string& run_id() const = 0;  // empty outside runs
  virtual const std::string& ingestion_id() const = 0;
  virtual const std::string& step() const = 0;  // empty outside runs
  virtual const std::string& topic() const = 0;
  virtual const std::string& consumer() const = 0;
  virtual int attempt() const = 0;  // 1-based
  // The step's payload: the run's payload merged with the step's own.
  virtual const Json& payload() const = 0;
  // Outputs of the steps this one waited for, keyed by step name.
  virtual const Json& inputs() const = 0;
  virtual spdlog::logger& log() const = 0;
  // Publishes a topic outside run tracking (its consumers run, no step is
  // recorded). Blocks until the transport has it.
  virtual void publish(const std::string& topic, Json payload) = 0;
  // True once the run was cancelled; long handlers should poll it and return.
  virtual bool cancelled() const = 0;
};

// What the consumers of an engine's worker did (Engine::worker_stats()).
struct WorkerStats {
  uint64_t handled = 0;   // handler calls that returned
  uint64_t failed = 0;    // handler calls that threw
  uint64_t skipped = 0;   // stale or duplicate step messages
  uint64_t rejected = 0;  // sent to an error queue
};

namespace detail {

// Called by the macros during static initialisation; records the
// registration under the module being loaded (or the program itself).
void register_static_topic(Topic topic);
void register_static_consumer(Consumer consumer);

struct TopicRegistrar {
  TopicRegistrar(const char* name, const char* description) {
    Topic t;
    t.name = name;
    t.description = description;
    register_static_topic(std::move(t));
  }
};

template <typename T>
struct ConsumerRegistrar {
  ConsumerRegistrar(const char* name, const char* topic, const char* service) {
    Consumer c;
    c.name = name;
    c.topic = topic;
    c.service = service;
    c.handler = [](Context& ctx) -> Json {
      T instance;
      return instance.handle(ctx);
    };
    register_static_consumer(std::move(c));
  }
};

}  // namespace detail
}  // namespace isoqube

#define ISOQUBE_TOPIC(Name, Description)                                \
  static const ::isoqube::detail::TopicRegistrar isoqube_topic_##Name { \
#Name, Description                                                  \
  }

#define ISOQUBE_CONSUMER(Class, TopicName, Service)        \
  static const ::isoqube::detail::ConsumerRegistrar<Class> \
      isoqube_consumer_##Class {                           \
#Class, TopicName, Service                             \
  }
