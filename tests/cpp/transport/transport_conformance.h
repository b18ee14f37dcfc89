// The Transport conformance suite: one set of specifications, taken from
// transport.h, that every Transport implementation must meet, run once per
// implementation (as the store conformance suite does for stores).
//
// The suite is a value-parameterized test over TransportFactory values; the
// list of factories is in transport_conformance_test.cc, the
// specifications in transport_conformance_*_test.cc. Adding a transport is
// one more factory there; a transport whose server is not available is
// skipped with its reason (a failure under ISOQUBE_REQUIRE_SERVERS=1).
//
// Every test names its topics, endpoints and channels uniquely, so tests can
// share one broker.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "amqp_broker.h"
#include "isoqube/transport.h"

namespace isoqube::testing {

// How the suite gets a transport of one kind.
struct TransportFactory {
  std::string name;  // suffix of the test names, e.g. "Memory"
  // Why this kind cannot be tested here (e.g. no broker), or empty.
  std::function<std::string()> unavailable = [] { return std::string(); };
  // Opens a transport; two calls share one broker (or, in process, nothing).
  std::function<std::unique_ptr<Transport>()> open;
  bool distributed = false;  // what distributed() must answer

  friend void PrintTo(const TransportFactory& factory, std::ostream* out) {
    *out << factory.name;
  }
};

inline std::string transport_factory_name(
    const ::testing::TestParamInfo<TransportFactory>& info) {
  return info.param.name;
}

// Long enough for anything a transport does (a broker round trip); only
// ever waited out when a test fails.
constexpr std::chrono::milliseconds kDeliveryWait{10000};
// How long a test looks for a delivery that must not come. A transport
// that would deliver it does so well within this on loopback.
constexpr std::chrono::milliseconds kNothingWait{300};

// The outcomes Transport::Confirmed reports, from any thread.
class Confirmations {
 public:
  Transport::Confirmed callback() {
    return [this](std::exception_ptr error) {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_.push_back(std::move(error));
    };
  }
  std::vector<std::exception_ptr> errors() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::exception_ptr> errors_;
};

// What a broadcast listener heard, from any thread.
class Heard {
 public:
  std::function<void(const Json&)> callback() {
    return [this](const Json& message) {
      std::lock_guard<std::mutex> lock(mutex_);
      messages_.push_back(message);
    };
  }
  std::vector<Json> messages() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }
  std::size_t count() const { return messages().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<Json> messages_;
};

class TransportConformanceTest
    : public ::testing::TestWithParam<TransportFactory> {
 protected:
  void SetUp() override {
    const std::string reason = GetParam().unavailable();
    if (!reason.empty()) {
      if (servers_required()) {
        FAIL() << GetParam().name << ": " << reason
               << " and ISOQUBE_REQUIRE_SERVERS=1";
      }
      GTEST_SKIP() << GetParam().name << ": " << reason;
    }
    transport_ = GetParam().open();
    ASSERT_NE(transport_, nullptr);
  }

  Transport& transport() { return *transport_; }

  // An inbox on `endpoint`, bound to `topic`.
  std::unique_ptr<Inbox> subscribe(const std::string& endpoint,
                                   const std::string& topic,
                                   std::size_t prefetch = 10) {
    return transport_->subscribe({{endpoint, {topic}}}, prefetch);
  }

  // `heard` listening to `channel` (default: the test's own).
  std::unique_ptr<Listening> hear(Heard& heard,
                                  BroadcastsFrom from = BroadcastsFrom::kAnyone,
                                  const std::string& channel = "") {
    return transport_->listen(channel.empty() ? channel_ : channel, from,
                              heard.callback());
  }

  const std::string topic_ = unique_name("topic");
  const std::string endpoint_ = unique_name("endpoint");
  const std::string channel_ = unique_name("channel");
  std::unique_ptr<Transport> transport_;
};

}  // namespace isoqube::testing
