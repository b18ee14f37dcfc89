#include "isoqube/configuration.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <utility>

#include "isoqube/errors.h"
#include "isoqube/registry.h"
#include "run/json_reader.h"

namespace isoqube {
namespace {

constexpr int kMaxAttempts = 100;

// `field`: the path of what is wrong, in the shape of Configuration's JSON
// ("steps[1].after"); the caller maps it to the document's shape.
[[noreturn]] void fail(const Configuration& config, std::string field,
                       const std::string& problem) {
  throw ConfigurationError("configuration '" + config.name + "': " + problem,
                           std::move(field), problem);
}

std::string in_quotes(const std::string& text) { return "'" + text + "'"; }

std::string step_field(size_t index, const char* field) {
  return "steps[" + std::to_string(index) + "]." + field;
}

void check_retry(const Configuration& config, size_t index) {
  const StepSpec& step = config.steps[index];
  const RetryPolicy& retry = step.retry;
  const std::string subject = "step " + in_quotes(step.name);
  if (retry.attempts < 1 || retry.attempts > kMaxAttempts) {
    fail(config, step_field(index, "retry.attempts"),
         subject + " has retry attempts " + std::to_string(retry.attempts) +
             "; expected 1 to " + std::to_string(kMaxAttempts));
  }
  if (retry.interval.count() < 0) {
    fail(config, step_field(index, "retry.intervalMs"),
         subject + " has a negative retry interval (" +
             std::to_string(retry.interval.count()) + " ms)");
  }
  if (!(retry.backoff >= 1.0) || !std::isfinite(retry.backoff)) {
    fail(config, step_field(index, "retry.backoff"),
         subject + " has retry backoff " + std::to_string(retry.backoff) +
             "; expected a finite number >= 1.0");
  }
}

const std::string& effective_name(const StepSpec& step) {
  return step.name.empty() ? step.topic : step.name;
}

// Indexes of the steps each step waits for. Unset names and `after` mean
// what normalize() would fill in: the topic, and the previous step.
std::vector<std::vector<int>> dependencies(const Configuration& config) {
  std::map<std::string, int, std::less<>> index;
  for (size_t i = 0; i < config.steps.size(); ++i) {
    index.emplace(effective_name(config.steps[i]), static_cast<int>(i));
  }
  std::vector<std::vector<int>> deps(config.steps.size());
  for (size_t i = 0; i < config.steps.size(); ++i) {
    const StepSpec& step = config.steps[i];
    const std::string& name = effective_name(step);
    if (!step.after) {
      if (i > 0) deps[i].push_back(static_cast<int>(i) - 1);
      continue;
    }
    for (const std::string& wanted : *step.after) {
      if (wanted == name) {
        fail(config, step_field(i, "after"),
             "step " + in_quotes(name) + " waits for itself");
      }
      const auto it = index.find(wanted);
      if (it == index.end()) {
        fail(config, step_field(i, "after"),
             "step " + in_quotes(name) + " waits for unknown step " +
                 in_quotes(wanted));
      }
      deps[i].push_back(it->second);
    }
  }
  return deps;
}

// Depth-first search for a back edge; returns the steps of one cycle in
// waiting order (each waits for the next), or nothing.
std::vector<int> find_cycle(const std::vector<std::vector<int>>& deps) {
  enum class Mark { kNew, kOnPath, kDone };
  std::vector<Mark> marks(deps.size(), Mark::kNew);
  std::vector<int> path;
  std::vector<int> cycle;
  std::function<bool(int)> visit = [&](int node) {
    marks[node] = Mark::kOnPath;
    path.push_back(node);
    for (int dep : deps[node]) {
      if (marks[dep] == Mark::kOnPath) {
        cycle.assign(std::find(path.begin(), path.end(), dep), path.end());
        return true;
      }
      if (marks[dep] == Mark::kNew && visit(dep)) return true;
    }
    path.pop_back();
    marks[node] = Mark::kDone;
    return false;
  };
  for (size_t i = 0; i < deps.size(); ++i) {
    if (marks[i] == Mark::kNew && visit(static_cast<int>(i))) break;
  }
  return cycle;
}

void check_acyclic(const Configuration& config,
                   const std::vector<std::vector<int>>& deps) {
  const std::vector<int> cycle = find_cycle(deps);
  if (cycle.empty()) return;
  std::string names;
  for (int step : cycle) {
    names += in_quotes(effective_name(config.steps[step])) + " -> ";
  }
  names += in_quotes(effective_name(config.steps[cycle.front()]));
  fail(config, step_field(static_cast<size_t>(cycle.front()), "after"),
       "steps wait for each other in a cycle: " + names +
           " (each waits for the next)");
}

void fill_and_check_step(Configuration& config, size_t index,
                         std::map<std::string, size_t>& names,
                         const Registry* registry) {
  StepSpec& step = config.steps[index];
  if (step.topic.empty()) {
    fail(config, step_field(index, "topic"),
         "step " + std::to_string(index + 1) + " has no topic");
  }
  if (step.name.empty()) step.name = step.topic;
  const auto [it, inserted] = names.emplace(step.name, index);
  if (!inserted) {
    fail(config, step_field(index, "name"),
         "duplicate step name " + in_quotes(step.name) + " (steps " +
             std::to_string(it->second + 1) + " and " +
             std::to_string(index + 1) + "); give one of them its own name");
  }
  if (registry != nullptr && registry->find_topic(step.topic) == nullptr) {
    fail(config, step_field(index, "topic"),
         "step " + in_quotes(step.name) + " uses unknown topic " +
             in_quotes(step.topic));
  }
  check_retry(config, index);
  if (!step.payload.is_object()) {
    fail(config, step_field(index, "payload"),
         "step " + in_quotes(step.name) +
             " has a payload that is not a JSON object (got " +
             step.payload.type_name() + ")");
  }
  if (!step.after) {
    step.after = std::vector<std::string>();
    if (index > 0) step.after->push_back(config.steps[index - 1].name);
  }
}

// Repeating a name in `after` says nothing new; keep the first mention.
void drop_repeated_names(std::vector<std::string>& names) {
  std::vector<std::string> unique;
  for (std::string& name : names) {
    if (std::find(unique.begin(), unique.end(), name) == unique.end()) {
      unique.push_back(std::move(name));
    }
  }
  names = std::move(unique);
}

}  // namespace

std::chrono::milliseconds RetryPolicy::delay_before(int next_attempt) const {
  if (next_attempt < 2 || interval.count() <= 0) {
    return std::chrono::milliseconds(0);
  }
  // Computed in floating point and saturated, so large attempt counts with
  // a steep backoff cannot overflow.
  const double delay = static_cast<double>(interval.count()) *
                       std::pow(backoff, next_attempt - 2);
  using std::chrono::milliseconds;
  constexpr auto kMax = std::numeric_limits<milliseconds::rep>::max();
  if (!(delay < static_cast<double>(kMax))) return milliseconds(kMax);
  return milliseconds(static_cast<int64_t>(std::llround(delay)));
}

Configuration normalize(Configuration config, const Registry* registry) {
  if (config.name.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw ConfigurationError("configuration has no name", "name",
                             "configuration has no name");
  }
  if (config.steps.empty()) {
    throw ConfigurationError("configuration '" + config.name + "' has no steps",
                             "steps", "has no steps");
  }
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < config.steps.size(); ++i) {
    fill_and_check_step(config, i, names, registry);
  }
  for (StepSpec& step : config.steps) drop_repeated_names(*step.after);
  check_acyclic(config, dependencies(config));
  return config;
}

// Kahn's algorithm, always taking the lowest-indexed ready step, so that
// the order is deterministic and a sequential configuration keeps its order.
std::vector<int> topological_order(const Configuration& config) {
  const std::vector<std::vector<int>> deps = dependencies(config);
  check_acyclic(config, deps);
  std::vector<int> order;
  std::vector<bool> placed(deps.size(), false);
  while (order.size() < deps.size()) {
    for (size_t i = 0; i < deps.size(); ++i) {
      if (placed[i]) continue;
      const bool ready = std::all_of(deps[i].begin(), deps[i].end(),
                                     [&](int dep) { return placed[dep]; });
      if (!ready) continue;
      placed[i] = true;
      order.push_back(static_cast<int>(i));
      break;
    }
  }
  return order;
}

Json to_json(const StepSpec& step) {
  Json j = {{"name", step.name}, {"topic", step.topic}};
  if (step.after) j["after"] = *step.after;
  j["retry"] = {{"attempts", step.retry.attempts},
                {"intervalMs", step.retry.interval.count()},
                {"backoff", step.retry.backoff}};
  j["payload"] = step.payload;
  return j;
}

Json to_json(const Configuration& config) {
  Json steps = Json::array();
  for (const StepSpec& step : config.steps) steps.push_back(to_json(step));
  return {{"id", config.id},
          {"name", config.name},
          {"description", config.description},
          {"steps", std::move(steps)}};
}

namespace detail {
namespace {

// `intervalMs` (what to_json writes) or `interval` in seconds (as Python's
// RetryPolicy(interval=0.5) and hand-written files say it), not both.
std::chrono::milliseconds read_interval(const JsonReader& retry,
                                        std::chrono::milliseconds fallback) {
  if (!retry.has("interval")) {
    return std::chrono::milliseconds(
        retry.integer64("intervalMs", fallback.count()));
  }
  if (retry.has("intervalMs")) {
    retry.fail(retry.path_of("interval"),
               "and 'intervalMs' are both given; give the interval once, in "
               "seconds ('interval') or in milliseconds ('intervalMs')");
  }
  const double seconds = retry.number("interval", 0.0);
  // A year of milliseconds is far beyond any useful retry interval and far
  // below where the conversion to an integer could overflow.
  constexpr double kMaxSeconds = 366.0 * 24 * 3600;
  if (!(std::abs(seconds) <= kMaxSeconds)) {
    retry.fail(retry.path_of("interval"),
               "is out of range: " + Json(seconds).dump() + " seconds");
  }
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

}  // namespace

StepSpec read_step_spec(const Json& value, const std::string& what,
                        const std::string& path) {
  StepSpec step;
  if (value.is_string()) {
    step.topic = value.get<std::string>();
    return step;
  }
  const JsonReader reader(value, what, path);
  step.name = reader.string("name");
  step.topic = reader.required_string("topic");
  step.after = reader.strings("after");
  if (reader.has("retry")) {
    const JsonReader retry = reader.child("retry");
    step.retry.attempts = retry.integer("attempts", step.retry.attempts);
    step.retry.interval = read_interval(retry, step.retry.interval);
    step.retry.backoff = retry.number("backoff", step.retry.backoff);
  }
  step.payload = reader.object("payload");
  return step;
}

}  // namespace detail

namespace {

// The keys each object of a configuration may have: what isoqube writes
// (to_json, the HTTP API's configurations with the seed's `topics` beside
// `steps`, /api/registeredtopics' topics, which the seed's Configurator put
// into a configuration) and what users write (`retry.interval`).
void check_keys(const detail::JsonReader& config) {
  config.only({"id", "name", "description", "steps", "topics"});
  const Json& steps = config.array("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!steps[i].is_object()) continue;  // a name; read_step_spec says more
    const detail::JsonReader step(steps[i], config.what(),
                                  "steps[" + std::to_string(i) + "]");
    step.only({"name", "topic", "after", "retry", "payload"});
    if (step.has("retry") && step.find("retry")->is_object()) {
      step.child("retry").only(
          {"attempts", "interval", "intervalMs", "backoff"});
    }
  }
  const Json& topics = config.array("topics");
  for (size_t i = 0; i < topics.size(); ++i) {
    if (!topics[i].is_object()) continue;
    detail::JsonReader(topics[i], config.what(),
                       "topics[" + std::to_string(i) + "]")
        .only({"name", "description", "type", "version", "entityName",
               "namespace", "schema", "consumers"});
  }
}

// The topic named by the seed's topics[i]: a name, or {"name": ...}.
std::string seed_topic(const Json& topic, const std::string& what,
                       const std::string& path) {
  if (topic.is_string()) return topic.get<std::string>();
  return detail::JsonReader(topic, what, path).required_string("name");
}

// When a configuration has both (as every configuration isoqube sends
// does), the steps say what runs and the seed's topics must name the same
// topics in the same order: a client that edited one of them only would
// otherwise have half its change dropped.
void check_topics_agree(const detail::JsonReader& reader,
                        const std::vector<StepSpec>& steps) {
  const Json& topics = reader.array("topics");
  if (topics.size() != steps.size()) {
    reader.fail("topics", "has " + std::to_string(topics.size()) +
                              " entries but 'steps' has " +
                              std::to_string(steps.size()) +
                              "; when both are given, 'topics' must list the "
                              "steps' topics in order (or leave 'topics' out)");
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string path = "topics[" + std::to_string(i) + "]";
    const std::string topic = seed_topic(topics[i], reader.what(), path);
    if (topic != steps[i].topic) {
      reader.fail(path + (topics[i].is_string() ? "" : ".name"),
                  "is '" + topic + "' but 'steps[" + std::to_string(i) +
                      "].topic' is '" + steps[i].topic +
                      "'; when both are given, 'topics' must list the steps' "
                      "topics in order (or leave 'topics' out)");
    }
  }
}

}  // namespace

// Also reads the seed's shape, {"name", "description", "topics": [{"name":
// topic, ...}]}, where the topics run one after another.
Configuration configuration_from_json(const Json& j) {
  std::string what = "configuration";
  if (j.is_object() && j.contains("name") && j["name"].is_string()) {
    what += " '" + j["name"].get<std::string>() + "'";
  }
  const detail::JsonReader reader(j, what);
  check_keys(reader);
  Configuration config;
  config.id = reader.string("id");
  config.name = reader.string("name");
  config.description = reader.string("description");
  const Json& steps = reader.array("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    config.steps.push_back(detail::read_step_spec(
        steps[i], what, "steps[" + std::to_string(i) + "]"));
  }
  const Json& topics = reader.array("topics");
  if (reader.has("steps")) {
    if (reader.has("topics")) check_topics_agree(reader, config.steps);
    return config;
  }
  for (size_t i = 0; i < topics.size(); ++i) {
    StepSpec step;
    step.topic =
        seed_topic(topics[i], what, "topics[" + std::to_string(i) + "]");
    config.steps.push_back(std::move(step));
  }
  return config;
}

}  // namespace isoqube
