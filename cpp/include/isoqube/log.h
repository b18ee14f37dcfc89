// Logging through spdlog: one named logger per part ("isoqube.orchestrator",
// "isoqube.dispatch", ...) and one per service for consumer logs, all writing
// to the same sinks.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

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

}  // namespace isoqube
