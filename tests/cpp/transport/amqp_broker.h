// The broker the RabbitMQ tests run against, and helpers to name and watch
// what they create there.
//
// ISOQUBE_TEST_AMQP_URI names a running broker; without it the tests skip,
// unless ISOQUBE_REQUIRE_SERVERS=1 makes that a failure (CI).
// ISOQUBE_TEST_AMQP_DIR is the broker's folder for scripts/rabbitmq, needed
// only by the tests that restart it. Every test names its queues and
// exchanges with a random suffix, so tests can share one broker.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "isoqube/message.h"
#include "isoqube/time.h"
#include "isoqube/transport.h"

namespace isoqube::testing {

inline std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

inline bool servers_required() { return env("ISOQUBE_REQUIRE_SERVERS") == "1"; }

// "name-1a2b3c4d": unique per call.
inline std::string unique_name(const std::string& prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string suffix;
  for (uint64_t bits = random(), i = 0; i < 8; ++i, bits >>= 4) {
    suffix += digits[bits & 15];
  }
  return prefix + "-" + suffix;
}

// `uri` with query options added ("a=1&b=2").
inline std::string with_options(const std::string& uri,
                                const std::string& options) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + options;
}

// Runs `scripts/rabbitmq COMMAND DIR ARGUMENTS` against the test broker's
// folder; returns its output, and whether it succeeded in `ok`.
inline std::string rabbitmq_script(const std::string& command,
                                   const std::string& arguments, bool* ok) {
  const std::string line = std::string(ISOQUBE_RABBITMQ_SCRIPT) + " " +
                           command + " '" + env("ISOQUBE_TEST_AMQP_DIR") +
                           "' " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = popen(line.c_str(), "r");
  if (pipe == nullptr) {
    *ok = false;
    return "popen failed";
  }
  std::array<char, 4096> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  *ok = pclose(pipe) == 0;
  return output;
}

// The message of the E that `action` throws ("no exception" if none).
template <typename E, typename Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const E& e) {
    return e.what();
  }
  return "no exception";
}

inline Envelope test_envelope(const std::string& id = new_uuid()) {
  Envelope e;
  e.message_id = id;
  e.conversation_id = new_uuid();
  e.message_type = {"urn:message:Isoqube.Tests:Probe"};
  e.message = {{"n", 1}};
  e.sent_time = now();
  return e;
}

inline Fault test_fault(std::string message, int retry_count = 0) {
  Fault fault;
  fault.message = std::move(message);
  fault.exception_type = "isoqube.ConsumerError";
  fault.retry_count = retry_count;
  return fault;
}

// A transport with an inbox on a fresh endpoint bound to a fresh topic.
struct Subscribed {
  Subscribed(const std::string& uri, std::size_t prefetch = 10)
      : transport(open_transport(uri)),
        inbox(transport->subscribe({{endpoint, {topic}}}, prefetch)) {}

  const std::string topic = unique_name("topic");
  const std::string endpoint = unique_name("endpoint");
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Inbox> inbox;
};

// Tests against the broker derive from this: SetUp skips or fails without
// one.
class AmqpBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = env("ISOQUBE_TEST_AMQP_URI");
    if (uri_.empty()) {
      if (servers_required()) {
        FAIL() << "ISOQUBE_TEST_AMQP_URI is not set and "
                  "ISOQUBE_REQUIRE_SERVERS=1";
      }
      GTEST_SKIP() << "ISOQUBE_TEST_AMQP_URI is not set";
    }
  }

  // For tests that restart the broker.
  void require_broker_dir() {
    if (!env("ISOQUBE_TEST_AMQP_DIR").empty()) return;
    if (servers_required()) {
      FAIL() << "ISOQUBE_TEST_AMQP_DIR is not set and "
                "ISOQUBE_REQUIRE_SERVERS=1";
    }
    GTEST_SKIP() << "ISOQUBE_TEST_AMQP_DIR is not set (needed to restart "
                    "the broker)";
  }

  std::string uri_;
};

}  // namespace isoqube::testing
