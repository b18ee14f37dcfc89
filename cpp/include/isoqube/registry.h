// Topics (event types) and consumers (handlers of a topic).
//
// Thread-safety: a Registry is filled before a worker starts; after that it
// is only read, and concurrent reads are safe. Adding while a worker runs is
// not supported.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/json.h"

namespace isoqube {

class Context;

// What a consumer returns is stored as the step's output (JSON, may be null).
using Handler = std::function<Json(Context&)>;

struct Topic {
  std::string name;  // PascalCase identifier, e.g. DefaultSourceIngestion
  std::string description;  // human text
  std::string entity_name;  // broker exchange; default kebab_case(name)
  std::string ns = "Isoqube.Topics";  // namespace in the message type URN
  Json schema;  // optional JSON schema of the payload (null: none)

  // "urn:message:<ns>:<name>"
  std::string urn() const;
};

struct Consumer {
  std::string name;     // e.g. DefaultIngestionConsumer
  std::string topic;    // name of the handled topic
  std::string service;  // service (worker group) it belongs to; may be empty
  std::string
      endpoint;  // queue name; default kebab_case(name minus "Consumer")
  Handler handler;
  std::string origin;  // module path it came from; empty when built in
};

// "DefaultSourceIngestion" -> "default-source-ingestion".
std::string kebab_case(std::string_view name);

// Default endpoint name of a consumer: MassTransit's kebab-case formatter,
// which drops a trailing "Consumer".
std::string endpoint_name(std::string_view consumer_name);

class Registry {
 public:
  // Adds a topic, filling entity_name when empty. Throws RegistrationError
  // when the name is not an identifier ([A-Za-z_][A-Za-z0-9_.]*) or a
  // different topic of that name exists. Adding the same definition twice is
  // allowed (a module loaded by two engines).
  void add_topic(Topic topic);

  // Adds a consumer, filling endpoint when empty. Throws RegistrationError
  // when the name is not an identifier, the topic is unknown, the handler is
  // empty, or a consumer of that name exists.
  void add_consumer(Consumer consumer);

  // Null when unknown. The pointer stays valid while the registry lives.
  const Topic* find_topic(std::string_view name) const;
  const Consumer* find_consumer(std::string_view name) const;

  bool has_topics() const { return !topics_.empty(); }
  std::vector<Topic> topics() const;
  std::vector<const Consumer*> consumers() const;
  std::vector<const Consumer*> consumers_of(std::string_view topic) const;

  // Adds every topic and consumer registered by ISOQUBE_TOPIC /
  // ISOQUBE_CONSUMER in the program itself or in the module at `origin`.
  void add_static(std::string_view origin = "");

 private:
  std::map<std::string, std::unique_ptr<Topic>, std::less<>> topics_;
  std::map<std::string, std::unique_ptr<Consumer>, std::less<>> consumers_;
};

}  // namespace isoqube

namespace isoqube {

// Loads a C++ consumer module (a shared library built against isoqube_core)
// and adds the topics and consumers it registers with ISOQUBE_TOPIC /
// ISOQUBE_CONSUMER to `registry`. Loading the same file again (into another
// registry) reuses the loaded library. Throws ModuleError naming the path
// and the loader's reason. Thread-safe.
void load_module(const std::string& path, Registry& registry);

}  // namespace isoqube
