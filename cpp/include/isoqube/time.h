// Timestamps. All times are UTC; text form is ISO-8601 with microseconds
// ("2026-11-28T01:25:32.123456Z"), as MassTransit writes sentTime.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace isoqube {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::microseconds>;

TimePoint now();
std::string format_time(TimePoint t);
// Returns nullopt when text is not an ISO-8601 UTC time.
std::optional<TimePoint> parse_time(std::string_view text);

// Microseconds since the Unix epoch, the form stores keep.
inline int64_t to_micros(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_micros(int64_t us) {
  return TimePoint(std::chrono::microseconds(us));
}

// A random (version 4) UUID in its 36-character text form. Thread-safe.
std::string new_uuid();

}  // namespace isoqube
