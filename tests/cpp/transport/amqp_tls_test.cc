// amqps:// against the test broker's TLS listener, which scripts/rabbitmq
// opens with certificates of a private CA (DIR/tls): the broker's
// certificate names the host "localhost" only; client.pem is signed by the
// CA, stranger.pem is not. The broker is verified unless verify=false, its
// host name is checked, and a client certificate is shown when one is
// given.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "amqp_broker.h"
#include "isoqube/errors.h"
#include "isoqube/transport.h"

namespace isoqube {
namespace {

using testing::error_message;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::with_options;

class AmqpTlsTest : public testing::AmqpBrokerTest {
 protected:
  void SetUp() override {
    AmqpBrokerTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    require_broker_dir();
    if (IsSkipped() || HasFailure()) return;
    dir_ = testing::env("ISOQUBE_TEST_AMQP_DIR");
    std::ifstream file(dir_ + "/amqps_uri");
    std::getline(file, tls_uri_);
    if (!tls_uri_.empty()) return;
    if (testing::servers_required()) {
      FAIL() << "no " << dir_ << "/amqps_uri: the broker has no TLS listener";
    }
    GTEST_SKIP() << "no " << dir_
                 << "/amqps_uri (a broker folder made before TLS)";
  }

  std::string tls_file(const std::string& name) const {
    return dir_ + "/tls/" + name;
  }

  // The URI trusting the test CA, with `more` options.
  std::string trusting(const std::string& more = "") const {
    const std::string uri =
        with_options(tls_uri_, "cacertfile=" + tls_file("ca.pem"));
    return more.empty() ? uri : with_options(uri, more);
  }

  // The same listener by its address, which the certificate does not name.
  std::string by_address(const std::string& uri) const {
    const std::string name = "@localhost:";
    std::string changed = uri;
    const std::size_t at = changed.find(name);
    EXPECT_NE(at, std::string::npos) << uri;
    if (at != std::string::npos)
      changed.replace(at, name.size(), "@127.0.0.1:");
    return changed;
  }

  static std::string connect_error(const std::string& uri) {
    return error_message<TransportError>([&] { open_transport(uri); });
  }

  // One message published and received over `uri`.
  static void round_trip(const std::string& uri) {
    testing::Subscribed s(uri);
    const Envelope sent = testing::test_envelope();
    s.transport->publish(s.topic, sent);
    auto delivery = s.inbox->receive(std::chrono::seconds(10));
    ASSERT_TRUE(delivery);
    EXPECT_EQ(delivery->envelope->message_id, sent.message_id);
    delivery->ack();
  }

  std::string dir_;
  std::string tls_uri_;
};

TEST_F(AmqpTlsTest, TheBrokerIsVerifiedAgainstTheGivenCa) {
  round_trip(trusting());
}

TEST_F(AmqpTlsTest, ABrokerNoTrustedCaSignedForIsRefusedByDefault) {
  // Without cacertfile only the system's CAs are trusted.
  const std::string error = connect_error(tls_uri_);
  EXPECT_THAT(error,
              HasSubstr("cannot connect to amqps://guest:***@localhost:"));
  EXPECT_THAT(error, HasSubstr("SSL peer cert verification failed"));
  EXPECT_THAT(error, Not(HasSubstr("guest:guest")));
}

TEST_F(AmqpTlsTest, WithVerifyOffAnUntrustedBrokerIsAccepted) {
  round_trip(with_options(tls_uri_, "verify=false"));
}

TEST_F(AmqpTlsTest, AHostNameTheCertificateDoesNotNameIsRefused) {
  const std::string error = connect_error(by_address(trusting()));
  EXPECT_THAT(error,
              HasSubstr("cannot connect to amqps://guest:***@127.0.0.1:"));
  EXPECT_THAT(error, HasSubstr("SSL hostname verification failed"));
  // The listener answers there all the same: only the name was wrong.
  round_trip(by_address(trusting("verify=false")));
}

TEST_F(AmqpTlsTest, AClientCertificateIsShownAndTheBrokerChecksIt) {
  round_trip(trusting("certfile=" + tls_file("client.pem") +
                      "&keyfile=" + tls_file("client.key")));
  // One the broker's CA never signed ends the handshake: so the first was
  // shown, and accepted.
  const std::string error =
      connect_error(trusting("certfile=" + tls_file("stranger.pem") +
                             "&keyfile=" + tls_file("stranger.key")));
  EXPECT_THAT(error,
              HasSubstr("cannot connect to amqps://guest:***@localhost:"));
  // TLS 1.3: the broker's refusal reaches the client at its first read.
  EXPECT_THAT(error, HasSubstr("SSL error"));
}

TEST_F(AmqpTlsTest, AKeyThatIsNotTheCertificatesIsAConfigurationError) {
  const std::string error = error_message<ConfigurationError>([&] {
    open_transport(trusting("certfile=" + tls_file("client.pem") +
                            "&keyfile=" + tls_file("stranger.key")));
  });
  EXPECT_THAT(error, HasSubstr("cannot use the client certificate"));
  EXPECT_THAT(error, HasSubstr("stranger.key"));
}

}  // namespace
}  // namespace isoqube
