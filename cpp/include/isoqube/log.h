// Logging through spdlog: one named logger per part ("isoqube.orchestrator",
// "isoqube.dispatch", ...) and one per service for consumer logs, all writing
// to the same sinks: standard error, and any sink attached with
// add_log_sink (the MongoDB log collection, log_collection.h).
#pragma once

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace isoqube {

// The logger named "isoqube.<part>" (or `part` when it already starts with
// "isoqube."), created on first use with the common sinks and level.
// Thread-safe.
std::shared_ptr<spdlog::logger> logger(std::string_view part);

// Sets the level of every isoqube logger, existing and future: one of
// trace, debug, info, warning (or warn), error, critical, off. Throws
// ConfigurationError on another word.
void set_log_level(std::string_view level);

// Current level as a word.
std::string_view log_level();

// The spdlog level of a word of set_log_level. Throws ConfigurationError on
// another word.
spdlog::level::level_enum parse_log_level(std::string_view level);

// The logger of a service's consumers, "isoqube.<service>": logger(service),
// remembered as a service's so that sinks can tell whose line it is.
std::shared_ptr<spdlog::logger> service_logger(std::string_view service);

// The service whose logger is named `logger_name` (made by service_logger),
// or empty for the loggers of Isoqube's own parts. Thread-safe.
std::string service_of_logger(std::string_view logger_name);

// Attaches `sink` to every isoqube logger, existing and future, beside
// standard error. A line reaches it when it passes the loggers' level and
// the sink's own. Attaching a sink already attached does nothing.
// The sink's log() runs on the logging thread, under no lock of ours: it
// must be quick, thread-safe, must not throw, and must not log through the
// isoqube loggers (that would come back to it). Its pattern and formatter
// are its own: set_pattern on the loggers does not reach it. Thread-safe.
void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink);

// Detaches `sink` (nothing when it is not attached). A line being logged
// while this runs may still reach the sink afterwards: a sink that stops
// working when detached must then drop lines itself. Thread-safe.
void remove_log_sink(const std::shared_ptr<spdlog::sinks::sink>& sink);

}  // namespace isoqube
