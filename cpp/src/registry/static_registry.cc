#include "registry/static_registry.h"

#include <mutex>
#include <utility>

#include "isoqube/consumer.h"

namespace isoqube::detail {
namespace {

struct TopicRecord {
  std::string origin;  // Topic has no origin field of its own
  Topic topic;
};

struct Registrations {
  std::mutex mutex;
  std::vector<TopicRecord> topics;
  std::vector<Consumer> consumers;
};

// Built on first use: registrars in the program and in modules run during
// static initialisation, possibly before this library's own statics. Never
// destroyed, so registrars in modules unloaded late at exit still find it.
Registrations& registrations() {
  static auto* instance = new Registrations();
  return *instance;
}

// Thread-local because static initialisers of a dlopen()ed module run on the
// thread that called dlopen(); other threads keep registering as the program.
std::string& current_origin() {
  thread_local std::string origin;
  return origin;
}

}  // namespace

LoadingOrigin::LoadingOrigin(std::string origin)
    : previous_(std::exchange(current_origin(), std::move(origin))) {}

LoadingOrigin::~LoadingOrigin() { current_origin() = std::move(previous_); }

// Both registrars run inside static initialisers, where an exception would
// terminate the process; they only record, and Registry::add_static()
// validates later where errors can be reported.
void register_static_topic(Topic topic) {
  Registrations& r = registrations();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.topics.push_back({current_origin(), std::move(topic)});
}

void register_static_consumer(Consumer consumer) {
  consumer.origin = current_origin();
  Registrations& r = registrations();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.consumers.push_back(std::move(consumer));
}

StaticRegistrations static_registrations(std::string_view origin) {
  Registrations& r = registrations();
  std::lock_guard<std::mutex> lock(r.mutex);
  StaticRegistrations found;
  for (const TopicRecord& record : r.topics) {
    if (record.origin == origin) found.topics.push_back(record.topic);
  }
  for (const Consumer& consumer : r.consumers) {
    if (consumer.origin == origin) found.consumers.push_back(consumer);
  }
  return found;
}

}  // namespace isoqube::detail
