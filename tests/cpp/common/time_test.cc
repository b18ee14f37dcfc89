#include "isoqube/time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace isoqube {
namespace {

// 2026-11-28T01:25:32.123456Z
constexpr int64_t kNovember2026 = 1795829132123456;

TEST(FormatTimeTest, WritesIsoUtcWithSixFractionDigitsAndZ) {
  EXPECT_EQ(format_time(from_micros(kNovember2026)),
            "2026-11-28T01:25:32.123456Z");
}

TEST(FormatTimeTest, WritesTheEpoch) {
  EXPECT_EQ(format_time(TimePoint{}), "1970-01-01T00:00:00.000000Z");
}

TEST(FormatTimeTest, WritesTimesBeforeTheEpoch) {
  EXPECT_EQ(format_time(from_micros(-1)), "1969-12-31T23:59:59.999999Z");
}

TEST(FormatTimeTest, WritesLeapDay) {
  EXPECT_EQ(format_time(from_micros(1709251199999999)),
            "2024-02-29T23:59:59.999999Z");
}

// gmtime_r as the judge, over the years 1..9999 (negative times too).
TEST(FormatTimeTest, AgreesWithGmtimeOverFourDigitYears) {
  std::mt19937_64 random(20261129);
  // 0001-01-01 .. 9999-12-31, in microseconds since the epoch.
  std::uniform_int_distribution<int64_t> micros(-62135596800000000,
                                                253402300799999999);
  for (int i = 0; i < 10000; ++i) {
    const int64_t t = micros(random);
    SCOPED_TRACE(t);
    const int64_t seconds = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
    const std::time_t whole = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&whole, &tm), nullptr);
    char expected[64];
    std::snprintf(expected, sizeof expected,
                  "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(t - seconds * 1000000));
    ASSERT_EQ(format_time(from_micros(t)), expected);
  }
}

TEST(FormatTimeTest, WritesYearsBeyondFourDigits) {
  EXPECT_EQ(format_time(from_micros(253402300800000000)),
            "10000-01-01T00:00:00.000000Z");
}

TEST(ParseTimeTest, ReadsWhatFormatTimeWrites) {
  for (int64_t micros : {int64_t{0}, int64_t{-1}, kNovember2026,
                         int64_t{1709251199999999}, int64_t{946598400000000}}) {
    SCOPED_TRACE(micros);
    const auto parsed = parse_time(format_time(from_micros(micros)));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(to_micros(*parsed), micros);
  }
}

TEST(ParseTimeTest, ReadsSevenFractionDigitsAsDotNetWritesThemTruncating) {
  const auto parsed = parse_time("2023-01-12T21:55:53.7158829Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(to_micros(*parsed), 1673560553715882);
}

TEST(ParseTimeTest, ReadsShortFractions) {
  const auto parsed = parse_time("2023-01-12T21:55:53.7Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(to_micros(*parsed), 1673560553700000);
}

TEST(ParseTimeTest, ReadsTimeWithoutFraction) {
  const auto parsed = parse_time("1999-12-31T00:00:00Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(to_micros(*parsed), 946598400000000);
}

TEST(ParseTimeTest, ReadsPlusZeroOffsetAsUtc) {
  const auto parsed = parse_time("2026-11-28T01:25:32.123456+00:00");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(to_micros(*parsed), kNovember2026);
}

TEST(ParseTimeTest, RejectsAnythingElse) {
  const char* const kBad[] = {
      "",
      "2026-11-28",
      "2026-11-28T01:25:32",         // no zone
      "2026-11-28T01:25:32.123456",  // no zone
      "2026-11-28T01:25:32+01:00",   // not UTC
      "2026-11-28T01:25:32-00:00",
      "2026-11-28T01:25:32.12345678Z",  // eight fraction digits
      "2026-11-28T01:25:32.Z",          // dot without digits
      "2026-11-28 01:25:32Z",           // space instead of T
      "2026-11-28t01:25:32z",
      "2026-13-01T00:00:00Z",  // month 13
      "2026-00-01T00:00:00Z",
      "2026-02-29T00:00:00Z",  // not a leap year
      "2026-04-31T00:00:00Z",
      "2026-11-28T24:00:00Z",
      "2026-11-28T01:60:00Z",
      "2026-11-28T01:25:60Z",  // leap second
      "26-11-28T01:25:32Z",
      "2026-11-28T01:25:32ZZ",
      "2026-11-28T01:25:32Z ",
      " 2026-11-28T01:25:32Z",
      "2026-1a-28T01:25:32Z",
      "not a time",
  };
  for (const char* text : kBad) {
    EXPECT_FALSE(parse_time(text).has_value()) << "accepted '" << text << "'";
  }
}

TEST(NowTest, IsTheSystemClockInMicroseconds) {
  const auto before = Clock::now();
  const TimePoint t = now();
  const auto after = Clock::now();
  EXPECT_GE(t, std::chrono::time_point_cast<std::chrono::microseconds>(before));
  EXPECT_LE(t, after);
}

TEST(NewUuidTest, IsAVersion4UuidInTextForm) {
  const std::regex kShape(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_uuid();
    EXPECT_TRUE(std::regex_match(id, kShape)) << id;
  }
}

TEST(NewUuidTest, IdsFromManyThreadsAreUnique) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(new_uuid());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& list : ids) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(NewUuidTest, ForkedChildDoesNotRepeatItsParentsIds) {
  // Given a generator already in use in this thread
  new_uuid();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // When a child forked now and the parent each take the next id
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = new_uuid();
    const ssize_t written = write(fds[1], id.data(), id.size());
    _exit(written == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  const std::string parent_id = new_uuid();
  char buffer[64] = {};
  const ssize_t got = read(fds[0], buffer, sizeof buffer - 1);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  // Then they differ
  ASSERT_EQ(got, 36);
  EXPECT_NE(std::string(buffer, 36), parent_id);
}

}  // namespace
}  // namespace isoqube
