#include "isoqube/time.h"

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>

namespace isoqube {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Howard Hinnant's days_from_civil / civil_from_days
// (https://howardhinnant.github.io/date_algorithms.html): exact for the whole
// proleptic Gregorian calendar, and free of gmtime's locale and thread
// concerns.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool is_leap_year(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Writes the `width` lowest decimal digits of `value` at text[at...].
void write_digits(std::string& text, std::size_t at, std::size_t width,
                  uint64_t value) {
  for (std::size_t i = width; i-- > 0; value /= 10) {
    text[at + i] = static_cast<char>('0' + value % 10);
  }
}

// Writes the `width` lowest hex digits of `value` (lower case) at
// text[at...].
void write_hex(std::string& text, std::size_t at, std::size_t width,
               uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = width; i-- > 0; value >>= 4) {
    text[at + i] = kDigits[value & 0xF];
  }
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap_year(y)) ? 29 : kDays[m - 1];
}

// Reads exactly `count` decimal digits at `pos`, advancing it.
bool read_digits(std::string_view text, size_t& pos, size_t count,
                 int64_t& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// ".f" with 1 to 7 digits (.NET writes ticks, 100 ns); absent means zero.
// Digits beyond microseconds are truncated, never rounded, so a parsed time
// never moves past the instant it names.
bool read_fraction(std::string_view text, size_t& pos, int64_t& micros) {
  micros = 0;
  if (pos >= text.size() || text[pos] != '.') return true;
  ++pos;
  size_t digits = 0;
  int64_t scale = 100'000;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (++digits > 7) return false;
    micros += (text[pos] - '0') * scale;
    scale /= 10;
    ++pos;
  }
  return digits > 0;
}

// MassTransit and .NET write "Z"; other writers use "+00:00". Any other
// offset is rejected rather than converted: every Isoqube time is UTC.
bool read_utc_designator(std::string_view text, size_t& pos) {
  const std::string_view rest = text.substr(pos);
  if (rest == "Z" || rest == "+00:00") {
    pos = text.size();
    return true;
  }
  return false;
}

std::atomic<unsigned> fork_generation{0};

void note_fork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

std::mt19937_64 seeded_generator() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(),
                     device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

}  // namespace

TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(Clock::now());
}

std::string format_time(TimePoint t) {
  const int64_t micros = to_micros(t);
  const int64_t seconds = floor_div(micros, kMicrosPerSecond);
  const int64_t days = floor_div(seconds, kSecondsPerDay);
  const int64_t second_of_day = seconds - days * kSecondsPerDay;
  const CivilDate date = civil_from_days(days);
  const int64_t fraction = micros - seconds * kMicrosPerSecond;
  if (date.year < 0 || date.year > 9999) {
    char text[64];
    std::snprintf(text, sizeof text,
                  "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(date.year), date.month, date.day,
                  static_cast<long long>(second_of_day / 3600),
                  static_cast<long long>(second_of_day / 60 % 60),
                  static_cast<long long>(second_of_day % 60),
                  static_cast<long long>(fraction));
    return text;
  }
  // Digit by digit: several times a step (envelopes, run events), where
  // snprintf cost more than the rest of the formatting.
  std::string text = "0000-00-00T00:00:00.000000Z";
  write_digits(text, 0, 4, static_cast<uint64_t>(date.year));
  write_digits(text, 5, 2, date.month);
  write_digits(text, 8, 2, date.day);
  write_digits(text, 11, 2, static_cast<uint64_t>(second_of_day / 3600));
  write_digits(text, 14, 2, static_cast<uint64_t>(second_of_day / 60 % 60));
  write_digits(text, 17, 2, static_cast<uint64_t>(second_of_day % 60));
  write_digits(text, 20, 6, static_cast<uint64_t>(fraction));
  return text;
}

std::optional<TimePoint> parse_time(std::string_view text) {
  size_t pos = 0;
  int64_t year, month, day, hour, minute, second, micros;
  const bool shaped =
      read_digits(text, pos, 4, year) && expect(text, pos, '-') &&
      read_digits(text, pos, 2, month) && expect(text, pos, '-') &&
      read_digits(text, pos, 2, day) && expect(text, pos, 'T') &&
      read_digits(text, pos, 2, hour) && expect(text, pos, ':') &&
      read_digits(text, pos, 2, minute) && expect(text, pos, ':') &&
      read_digits(text, pos, 2, second) && read_fraction(text, pos, micros) &&
      read_utc_designator(text, pos);
  if (!shaped) return std::nullopt;
  if (month < 1 || month > 12) return std::nullopt;
  const auto m = static_cast<unsigned>(month);
  if (day < 1 || day > days_in_month(year, m)) return std::nullopt;
  // Leap seconds (":60") cannot be represented by system_clock; reject them.
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const int64_t days = days_from_civil(year, m, static_cast<unsigned>(day));
  const int64_t seconds =
      days * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  return from_micros(seconds * kMicrosPerSecond + micros);
}

std::string new_uuid() {
  // One generator per thread keeps this lock-free. A forked child inherits
  // its parent's generator state, which would repeat the parent's ids, so a
  // fork handler bumps a generation counter and the child reseeds.
  static std::once_flag fork_handler_installed;
  std::call_once(fork_handler_installed,
                 [] { pthread_atfork(nullptr, nullptr, note_fork); });
  thread_local std::mt19937_64 generator = seeded_generator();
  thread_local unsigned generation =
      fork_generation.load(std::memory_order_relaxed);
  const unsigned current = fork_generation.load(std::memory_order_relaxed);
  if (generation != current) {
    generator = seeded_generator();
    generation = current;
  }

  uint64_t high = generator();
  uint64_t low = generator();
  high = (high & ~uint64_t{0xF000}) | uint64_t{0x4000};          // version 4
  low = (low & ~(uint64_t{0x3} << 62)) | (uint64_t{0x2} << 62);  // RFC 4122
  std::string text = "00000000-0000-0000-0000-000000000000";
  write_hex(text, 0, 8, high >> 32);
  write_hex(text, 9, 4, (high >> 16) & 0xFFFF);
  write_hex(text, 14, 4, high & 0xFFFF);
  write_hex(text, 19, 4, low >> 48);
  write_hex(text, 24, 12, low & 0xFFFFFFFFFFFFULL);
  return text;
}

}  // namespace isoqube
