#include "isoqube/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/fanout_sink.h"
#include "isoqube/errors.h"

namespace isoqube {
namespace {

namespace level = spdlog::level;

constexpr std::string_view kPrefix = "isoqube.";
constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";
constexpr const char* kLevelWords =
    "trace, debug, info, warning (or warn), error, critical, off";

struct LevelWord {
  std::string_view word;
  level::level_enum level;
};

// The first word of each level is the one log_level() reports.
constexpr LevelWord kLevels[] = {
    {"trace", level::trace},       {"debug", level::debug},
    {"info", level::info},         {"warning", level::warn},
    {"warn", level::warn},         {"error", level::err},
    {"critical", level::critical}, {"off", level::off},
};

// Case-insensitive, so ISOQUBE_LOG_LEVEL=DEBUG works as users expect.
std::optional<level::level_enum> parse_level(std::string_view word) {
  std::string lower(word);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const LevelWord& entry : kLevels) {
    if (entry.word == lower) return entry.level;
  }
  return std::nullopt;
}

bool is_isoqube_name(std::string_view name) {
  return name.substr(0, kPrefix.size()) == kPrefix;
}

// Shared by every isoqube logger. Created on first use (not at static
// initialisation) so that consumer modules and static registrars may log
// from their own initialisers, and never destroyed, so that loggers held by
// objects with static lifetime stay usable during shutdown.
class LogState {
 public:
  LogState()
      : stderr_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()),
        sink_(std::make_shared<detail::FanoutSink>(stderr_)) {
    stderr_->set_pattern(kPattern);
    const char* env = std::getenv("ISOQUBE_LOG_LEVEL");
    if (env == nullptr || *env == '\0') return;
    if (auto parsed = parse_level(env)) {
      level_ = *parsed;
      return;
    }
    // A bad environment variable must not stop the program; say so once.
    spdlog::logger("isoqube.log", stderr_)
        .warn("ignoring ISOQUBE_LOG_LEVEL='{}': expected one of {}", env,
              kLevelWords);
  }

  std::shared_ptr<spdlog::logger> get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto existing = spdlog::get(name)) return existing;
    auto created = std::make_shared<spdlog::logger>(name, sink_);
    created->set_level(level_.load());
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Registered meanwhile by code that bypassed logger(); share that one.
      if (auto existing = spdlog::get(name)) return existing;
      throw;
    }
    return created;
  }

  void set_level(level::level_enum value) {
    std::lock_guard<std::mutex> lock(mutex_);
    level_ = value;
    spdlog::apply_all([value](const std::shared_ptr<spdlog::logger>& l) {
      if (is_isoqube_name(l->name())) l->set_level(value);
    });
  }

  level::level_enum level() const { return level_.load(); }

  detail::FanoutSink& sinks() { return *sink_; }

  void add_service(const std::string& logger_name) {
    std::lock_guard<std::mutex> lock(mutex_);
    services_.insert(logger_name);
  }

  bool is_service(const std::string& logger_name) {
    std::lock_guard<std::mutex> lock(mutex_);
    return services_.count(logger_name) != 0;
  }

 private:
  std::mutex mutex_;  // serialises logger creation against level changes
  std::shared_ptr<spdlog::sinks::sink> stderr_;
  std::shared_ptr<detail::FanoutSink> sink_;     // what every logger writes to
  std::set<std::string, std::less<>> services_;  // names of service loggers
  std::atomic<level::level_enum> level_{level::info};
};

LogState& state() {
  static LogState* instance = new LogState();
  return *instance;
}

std::string logger_name(std::string_view part) {
  return is_isoqube_name(part) ? std::string(part)
                               : std::string(kPrefix) + std::string(part);
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(std::string_view part) {
  return state().get(logger_name(part));
}

level::level_enum parse_log_level(std::string_view word) {
  const auto parsed = parse_level(word);
  if (!parsed) {
    throw ConfigurationError("unknown log level '" + std::string(word) +
                             "': expected one of " + kLevelWords);
  }
  return *parsed;
}

void set_log_level(std::string_view word) {
  state().set_level(parse_log_level(word));
}

std::shared_ptr<spdlog::logger> service_logger(std::string_view service) {
  const std::string name = logger_name(service);
  state().add_service(name);
  return state().get(name);
}

std::string service_of_logger(std::string_view name) {
  const std::string text(name);
  if (!state().is_service(text)) return std::string();
  return text.substr(is_isoqube_name(text) ? kPrefix.size() : 0);
}

void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  if (sink) state().sinks().add(std::move(sink));
}

void remove_log_sink(const std::shared_ptr<spdlog::sinks::sink>& sink) {
  state().sinks().remove(sink);
}

std::string_view log_level() {
  const level::level_enum current = state().level();
  for (const LevelWord& entry : kLevels) {
    if (entry.level == current) return entry.word;
  }
  return "info";
}

}  // namespace isoqube
