#include "isoqube/registry.h"

#include <utility>

#include "isoqube/errors.h"
#include "registry/static_registry.h"

namespace isoqube {
namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier(std::string_view name) {
  if (name.empty()) return false;
  if (!is_upper(name[0]) && !is_lower(name[0]) && name[0] != '_') return false;
  for (char c : name) {
    if (!is_upper(c) && !is_lower(c) && !is_digit(c) && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

void check_identifier(const char* what, const std::string& name) {
  if (!is_identifier(name)) {
    throw RegistrationError(std::string("cannot register ") + what + " '" +
                            name +
                            "': the name must be an identifier "
                            "([A-Za-z_][A-Za-z0-9_.]*)");
  }
}

// The first field in which two topics of the same name differ, or "".
std::string topic_difference(const Topic& a, const Topic& b) {
  if (a.description != b.description) {
    return "description '" + a.description + "' vs '" + b.description + "'";
  }
  if (a.entity_name != b.entity_name) {
    return "entity name '" + a.entity_name + "' vs '" + b.entity_name + "'";
  }
  if (a.ns != b.ns) return "namespace '" + a.ns + "' vs '" + b.ns + "'";
  if (a.schema != b.schema) return "a different payload schema";
  return "";
}

}  // namespace

std::string Topic::urn() const { return "urn:message:" + ns + ":" + name; }

// MassTransit's KebabCaseEndpointNameFormatter: the snake-case formatter's
// regex "(?<=[a-z0-9])[A-Z]" puts a separator before each capital that
// follows a lower-case letter or a digit, the result is lower-cased, and "_"
// becomes "-". So digits stay with the word before them
// ("LinuxUbuntu2004Build" -> "linux-ubuntu2004-build") and runs of capitals
// stay together ("HTTPRequest" -> "httprequest"), exactly as MassTransit
// names the same class; see SnakeCaseEndpointNameFormatter.cs and
// KebabCaseEndpointNameFormatter.cs in MassTransit/MassTransit.
std::string kebab_case(std::string_view name) {
  std::string out;
  out.reserve(name.size() + name.size() / 4);
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool word_ends_before =
        i > 0 && (is_lower(name[i - 1]) || is_digit(name[i - 1]));
    if (is_upper(c) && word_ends_before) out += '-';
    if (c == '_') {
      out += '-';
    } else {
      out += is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

// MassTransit trims "Consumer" ignoring case (DefaultEndpointNameFormatter).
// A consumer named just "Consumer" keeps its name, so no queue is nameless.
std::string endpoint_name(std::string_view consumer_name) {
  constexpr std::string_view kSuffix = "consumer";
  std::string_view base = consumer_name;
  if (base.size() > kSuffix.size()) {
    const std::string_view tail = base.substr(base.size() - kSuffix.size());
    bool matches = true;
    for (size_t i = 0; i < kSuffix.size(); ++i) {
      const char c =
          is_upper(tail[i]) ? static_cast<char>(tail[i] - 'A' + 'a') : tail[i];
      matches = matches && c == kSuffix[i];
    }
    if (matches) base.remove_suffix(kSuffix.size());
  }
  return kebab_case(base);
}

void Registry::add_topic(Topic topic) {
  check_identifier("topic", topic.name);
  if (topic.entity_name.empty()) topic.entity_name = kebab_case(topic.name);
  const auto it = topics_.find(topic.name);
  if (it != topics_.end()) {
    const std::string difference = topic_difference(*it->second, topic);
    if (difference.empty()) return;
    throw RegistrationError("cannot register topic '" + topic.name +
                            "': a different topic of that name exists (" +
                            difference + ")");
  }
  std::string name = topic.name;
  topics_.emplace(std::move(name), std::make_unique<Topic>(std::move(topic)));
}

void Registry::add_consumer(Consumer consumer) {
  check_identifier("consumer", consumer.name);
  const std::string prefix = "cannot register consumer '" + consumer.name + "'";
  if (topics_.find(consumer.topic) == topics_.end()) {
    throw RegistrationError(prefix + ": unknown topic '" + consumer.topic +
                            "' (register the topic first)");
  }
  if (!consumer.handler) throw RegistrationError(prefix + ": no handler");
  const auto it = consumers_.find(consumer.name);
  if (it != consumers_.end()) {
    const Consumer& existing = *it->second;
    throw RegistrationError(
        prefix + ": a consumer of that name exists (handling '" +
        existing.topic + "'" +
        (existing.origin.empty() ? "" : ", from '" + existing.origin + "'") +
        ")");
  }
  if (consumer.endpoint.empty()) {
    consumer.endpoint = endpoint_name(consumer.name);
  }
  std::string name = consumer.name;
  consumers_.emplace(std::move(name),
                     std::make_unique<Consumer>(std::move(consumer)));
}

const Topic* Registry::find_topic(std::string_view name) const {
  const auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

const Consumer* Registry::find_consumer(std::string_view name) const {
  const auto it = consumers_.find(name);
  return it == consumers_.end() ? nullptr : it->second.get();
}

std::vector<Topic> Registry::topics() const {
  std::vector<Topic> out;
  out.reserve(topics_.size());
  for (const auto& [name, topic] : topics_) out.push_back(*topic);
  return out;
}

std::vector<const Consumer*> Registry::consumers() const {
  std::vector<const Consumer*> out;
  out.reserve(consumers_.size());
  for (const auto& [name, consumer] : consumers_) out.push_back(consumer.get());
  return out;
}

std::vector<const Consumer*> Registry::consumers_of(
    std::string_view topic) const {
  std::vector<const Consumer*> out;
  for (const auto& [name, consumer] : consumers_) {
    if (consumer->topic == topic) out.push_back(consumer.get());
  }
  return out;
}

// All or nothing: when one registration fails, the ones this call added are
// removed again, so a bad module leaves the registry as it was.
void Registry::add_static(std::string_view origin) {
  detail::StaticRegistrations found = detail::static_registrations(origin);
  std::vector<std::string> added_topics;
  std::vector<std::string> added_consumers;
  try {
    for (Topic& topic : found.topics) {
      const bool known = topics_.count(topic.name) != 0;
      std::string name = topic.name;
      add_topic(std::move(topic));
      if (!known) added_topics.push_back(std::move(name));
    }
    for (Consumer& consumer : found.consumers) {
      std::string name = consumer.name;
      add_consumer(std::move(consumer));
      added_consumers.push_back(std::move(name));
    }
  } catch (const RegistrationError& e) {
    for (const auto& name : added_consumers) consumers_.erase(name);
    for (const auto& name : added_topics) topics_.erase(name);
    const std::string where =
        origin.empty() ? "the program" : "module '" + std::string(origin) + "'";
    throw RegistrationError(std::string(e.what()) + " (registered by " + where +
                            ")");
  }
}

}  // namespace isoqube
