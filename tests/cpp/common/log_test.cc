#include "isoqube/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "isoqube/errors.h"

namespace isoqube {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Restores the level after each test, since it is process-wide.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = std::string(log_level()); }
  void TearDown() override { set_log_level(saved_); }

 private:
  std::string saved_;
};

TEST_F(LogTest, LoggerNamesArePrefixedWithIsoqube) {
  EXPECT_EQ(logger("orchestrator")->name(), "isoqube.orchestrator");
  EXPECT_EQ(logger("isoqube.dispatch")->name(), "isoqube.dispatch");
}

TEST_F(LogTest, SameNameGivesTheSameRegisteredLogger) {
  const auto first = logger("same");
  EXPECT_EQ(logger("same"), first);
  EXPECT_EQ(logger("isoqube.same"), first);
  EXPECT_EQ(spdlog::get("isoqube.same"), first);
}

TEST_F(LogTest, LoggersShareOneSink) {
  const auto a = logger("sink-a");
  const auto b = logger("sink-b");
  ASSERT_EQ(a->sinks().size(), 1u);
  ASSERT_EQ(b->sinks().size(), 1u);
  EXPECT_EQ(a->sinks()[0], b->sinks()[0]);
}

TEST_F(LogTest, SetLogLevelAppliesToExistingAndFutureLoggers) {
  const auto existing = logger("existing");
  set_log_level("error");
  EXPECT_EQ(existing->level(), spdlog::level::err);
  EXPECT_EQ(logger("created-after")->level(), spdlog::level::err);
  EXPECT_EQ(log_level(), "error");
  set_log_level("trace");
  EXPECT_EQ(existing->level(), spdlog::level::trace);
}

TEST_F(LogTest, WarnIsAnotherWordForWarning) {
  set_log_level("warn");
  EXPECT_EQ(log_level(), "warning");
  EXPECT_EQ(logger("warned")->level(), spdlog::level::warn);
}

TEST_F(LogTest, LevelWordsIgnoreCase) {
  set_log_level("DEBUG");
  EXPECT_EQ(log_level(), "debug");
}

TEST_F(LogTest, EveryDocumentedWordIsAccepted) {
  for (const char* word :
       {"trace", "debug", "info", "warning", "error", "critical", "off"}) {
    set_log_level(word);
    EXPECT_EQ(log_level(), word);
  }
}

TEST_F(LogTest, UnknownLevelIsAConfigurationErrorNamingTheWordAndTheValidOnes) {
  try {
    set_log_level("loud");
    FAIL() << "no ConfigurationError";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'loud'"));
    EXPECT_THAT(e.what(), HasSubstr("trace, debug, info, warning"));
  }
}

TEST_F(LogTest, OtherLibrariesLoggersKeepTheirLevel) {
  auto foreign = std::make_shared<spdlog::logger>(
      "foreign", std::make_shared<spdlog::sinks::null_sink_mt>());
  foreign->set_level(spdlog::level::info);
  spdlog::register_logger(foreign);
  set_log_level("off");
  EXPECT_EQ(foreign->level(), spdlog::level::info);
  spdlog::drop("foreign");
}

TEST_F(LogTest, LinesCarryTimeLevelAndLoggerName) {
  set_log_level("info");
  ::testing::internal::CaptureStderr();
  logger("pattern")->info("hello {}", 42);
  // Colour codes appear only on a terminal; they are not part of the line.
  const std::regex colour("\x1b\\[[0-9;]*m");
  const std::string line =
      std::regex_replace(::testing::internal::GetCapturedStderr(), colour, "");
  EXPECT_THAT(line, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2} "
                                 "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
                                 "info  \\[isoqube\\.pattern\\] hello 42\n"));
}

TEST_F(LogTest, AnAddedSinkGetsTheLinesOfExistingAndFutureLoggers) {
  set_log_level("info");
  const auto existing = logger("sink-existing");
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%n %l %v");
  add_log_sink(sink);
  add_log_sink(sink);  // a second time: still one copy of each line
  existing->info("one");
  logger("sink-future")->warn("two");
  remove_log_sink(sink);
  existing->info("after removing");
  EXPECT_EQ(out.str(),
            "isoqube.sink-existing info one\n"
            "isoqube.sink-future warning two\n");
}

TEST_F(LogTest, AnAddedSinkFiltersByItsOwnLevelToo) {
  set_log_level("info");
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%v");
  sink->set_level(spdlog::level::err);
  add_log_sink(sink);
  logger("sink-level")->warn("not for this sink");
  logger("sink-level")->error("for this sink");
  remove_log_sink(sink);
  EXPECT_EQ(out.str(), "for this sink\n");
}

TEST_F(LogTest, ServiceLoggersAreToldFromPartLoggers) {
  const auto service = service_logger("log-test-builder");
  EXPECT_EQ(service->name(), "isoqube.log-test-builder");
  EXPECT_EQ(service, logger("log-test-builder"));
  EXPECT_EQ(service_of_logger("isoqube.log-test-builder"), "log-test-builder");
  EXPECT_EQ(service_of_logger(logger("orchestrator")->name()), "");
}

TEST_F(LogTest, MessagesBelowTheLevelAreDropped) {
  set_log_level("error");
  ::testing::internal::CaptureStderr();
  logger("quiet")->warn("not shown");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// The environment is read once, at first use, so it is checked in a fresh
// process: this test binary started again with ISOQUBE_LOG_TEST_CHILD_EXPECT
// set checks the level it starts with, during static initialisation, and
// exits before any test runs.
[[maybe_unused]] const bool kChildChecked = [] {
  const char* expected = std::getenv("ISOQUBE_LOG_TEST_CHILD_EXPECT");
  if (expected == nullptr) return false;
  logger("child")->debug("debug line");
  std::_Exit(log_level() == expected ? 0 : 3);
}();

std::string self_path() {
  char buffer[PATH_MAX] = {};
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, n) : std::string();
}

int run_child(const std::string& env_level, const std::string& expect,
              const std::string& stderr_file) {
  const std::string command =
      "ISOQUBE_LOG_TEST_CHILD_EXPECT='" + expect + "' ISOQUBE_LOG_LEVEL='" +
      env_level + "' '" + self_path() + "' >/dev/null 2>'" + stderr_file + "'";
  return std::system(command.c_str());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LogEnvironmentTest, IsoqubeLogLevelSetsTheStartingLevel) {
  const std::string err = testing::TempDir() + "isoqube_log_env_debug.txt";
  EXPECT_EQ(run_child("debug", "debug", err), 0) << read_file(err);
  EXPECT_THAT(read_file(err), HasSubstr("debug [isoqube.child] debug line"));
}

TEST(LogEnvironmentTest, BadIsoqubeLogLevelIsIgnoredWithAWarning) {
  const std::string err = testing::TempDir() + "isoqube_log_env_bad.txt";
  EXPECT_EQ(run_child("chatty", "info", err), 0) << read_file(err);
  EXPECT_THAT(read_file(err), HasSubstr("ignoring ISOQUBE_LOG_LEVEL='chatty'"));
  EXPECT_THAT(read_file(err), Not(HasSubstr("debug line")));
}

}  // namespace
}  // namespace isoqube
