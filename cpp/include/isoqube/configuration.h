// Run definitions: a named list of steps, each publishing one topic.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "isoqube/json.h"

namespace isoqube {

class Registry;

struct RetryPolicy {
  int attempts = 1;  // total attempts, including the first; >= 1
  std::chrono::milliseconds interval{0};  // delay before the second attempt
  double backoff = 1.0;  // each further delay is the previous one times this

  // Delay before attempt `next_attempt` (2-based: the first retry).
  std::chrono::milliseconds delay_before(int next_attempt) const;
};

struct StepSpec {
  std::string name;   // unique within the configuration; default: the topic
  std::string topic;  // registered topic name
  // Names of steps that must complete first. Unset: the previous step (the
  // seed's sequential behaviour); an empty list: none (a root step).
  std::optional<std::vector<std::string>> after;
  RetryPolicy retry;
  Json payload = Json::object();  // merged over the run's payload
};

struct Configuration {
  std::string id;  // UUID; assigned on save when empty
  std::string name;
  std::string description;
  std::vector<StepSpec> steps;
};

// Fills defaults (step names from topics, unset `after` to the previous
// step, so that every normalized step has `after` set) and checks the
// configuration. Throws ConfigurationError naming the first problem: empty
// name, no steps, duplicate step name, unknown topic (when `registry` is
// given), `after` naming an unknown step or itself, a cycle, bad retry policy,
// payload not an object.
Configuration normalize(Configuration config, const Registry* registry);

// Step indexes in an order where every step comes after its dependencies.
std::vector<int> topological_order(const Configuration& config);

Json to_json(const Configuration& config);
Json to_json(const StepSpec& step);
// Reads what to_json writes, the seed's shape ({"name", "description",
// "topics": [{"name": topic, ...}]}: sequential steps) or both at once, as
// the HTTP API sends configurations: then `steps` say what runs and
// `topics` must name the same topics in the same order. A step's retry
// interval is `intervalMs` or `interval` in seconds, not both. Throws
// ConfigurationError naming the offending field: a key that is not one of
// those isoqube writes (docs/configuration.md lists them), a value of the
// wrong type, topics that disagree with the steps.
Configuration configuration_from_json(const Json& j);

}  // namespace isoqube
