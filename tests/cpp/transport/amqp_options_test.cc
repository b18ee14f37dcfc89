// The RabbitMQ transport's URI and options; no broker needed.
#include "transport/amqp_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "amqp_broker.h"
#include "isoqube/errors.h"
#include "isoqube/transport.h"

namespace isoqube::detail {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(const std::string& uri) {
  return testing::error_message<ConfigurationError>(
      [&] { parse_amqp_uri(uri); });
}

TEST(AmqpOptionsTest, DefaultsFollowRabbitMQ) {
  const AmqpOptions o = parse_amqp_uri("amqp://broker");
  ASSERT_EQ(o.hosts.size(), 1u);
  EXPECT_EQ(o.hosts[0].name, "broker");
  EXPECT_EQ(o.hosts[0].port, 5672);
  EXPECT_EQ(o.user, "guest");
  EXPECT_EQ(o.password, "guest");
  EXPECT_EQ(o.vhost, "/");
  EXPECT_FALSE(o.tls);
  EXPECT_EQ(o.heartbeat.count(), 30);
  EXPECT_EQ(o.publish_timeout.count(), 30000);
  EXPECT_EQ(o.queue_type, QueueType::kClassic);
  EXPECT_EQ(o.prefetch, 0u);
}

TEST(AmqpOptionsTest, AmqpsDefaultsToPort5671AndVerifies) {
  const AmqpOptions o = parse_amqp_uri("amqps://u:p@broker/");
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.hosts[0].port, 5671);
  EXPECT_TRUE(o.tls_options.verify);
}

TEST(AmqpOptionsTest, VhostIsThePercentDecodedPath) {
  EXPECT_EQ(parse_amqp_uri("amqp://h/%2f").vhost, "/");
  EXPECT_EQ(parse_amqp_uri("amqp://h/").vhost, "/");
  EXPECT_EQ(parse_amqp_uri("amqp://h/Isoqube").vhost, "Isoqube");
  EXPECT_EQ(parse_amqp_uri("amqp://h/a%2Fb").vhost, "a/b");
}

TEST(AmqpOptionsTest, UserAndPasswordArePercentDecoded) {
  const AmqpOptions o = parse_amqp_uri("amqp://us%40er:p%3Ass@h:1234/v");
  EXPECT_EQ(o.user, "us@er");
  EXPECT_EQ(o.password, "p:ss");
  EXPECT_EQ(o.hosts[0].port, 1234);
}

TEST(AmqpOptionsTest, SeveralHostsAreKeptInOrderWithTheirPorts) {
  const AmqpOptions o =
      parse_amqp_uri("amqp://u:p@first:5673,second,third:5675/%2f");
  ASSERT_EQ(o.hosts.size(), 3u);
  EXPECT_EQ(o.hosts[0].to_string(), "first:5673");
  EXPECT_EQ(o.hosts[1].to_string(), "second:5672");
  EXPECT_EQ(o.hosts[2].to_string(), "third:5675");
}

TEST(AmqpOptionsTest, Ipv6HostGoesInBrackets) {
  const AmqpOptions o = parse_amqp_uri("amqp://[::1]:5680/");
  EXPECT_EQ(o.hosts[0].name, "::1");
  EXPECT_EQ(o.hosts[0].to_string(), "[::1]:5680");
}

TEST(AmqpOptionsTest, OptionsAreRead) {
  const AmqpOptions o = parse_amqp_uri(
      "amqps://h/?heartbeat=5&connection_timeout_ms=700&publish_timeout_ms="
      "900&queue_type=quorum&prefetch=64&cacertfile=/ca.pem&certfile=/c.pem&"
      "keyfile=/k.pem&verify=false&reconnect_min_ms=50&reconnect_max_ms=800");
  EXPECT_EQ(o.heartbeat.count(), 5);
  EXPECT_EQ(o.connection_timeout.count(), 700);
  EXPECT_EQ(o.publish_timeout.count(), 900);
  EXPECT_EQ(o.queue_type, QueueType::kQuorum);
  EXPECT_EQ(o.prefetch, 64u);
  EXPECT_EQ(o.tls_options.cacertfile, "/ca.pem");
  EXPECT_EQ(o.tls_options.certfile, "/c.pem");
  EXPECT_EQ(o.tls_options.keyfile, "/k.pem");
  EXPECT_FALSE(o.tls_options.verify);
  EXPECT_EQ(o.reconnect_min.count(), 50);
  EXPECT_EQ(o.reconnect_max.count(), 800);
}

TEST(AmqpOptionsTest, HeartbeatZeroTurnsHeartbeatsOff) {
  EXPECT_EQ(parse_amqp_uri("amqp://h/?heartbeat=0").heartbeat.count(), 0);
}

TEST(AmqpOptionsTest, UnknownOptionIsNamedWithTheKnownOnes) {
  EXPECT_THAT(
      error_of("amqp://u:secret@h/?hearbeat=5"),
      AllOf(HasSubstr("unknown option 'hearbeat'"), HasSubstr("heartbeat"),
            HasSubstr("publish_timeout_ms"), Not(HasSubstr("secret"))));
}

TEST(AmqpOptionsTest, BadValuesAreNamed) {
  EXPECT_THAT(error_of("amqp://h/?queue_type=stream"),
              HasSubstr("queue_type must be classic or quorum, not 'stream'"));
  EXPECT_THAT(error_of("amqp://h/?heartbeat=soon"),
              HasSubstr("option heartbeat must be an integer"));
  EXPECT_THAT(error_of("amqp://h/?publish_timeout_ms=0"),
              HasSubstr("publish_timeout_ms must be an integer from 1"));
  EXPECT_THAT(error_of("amqp://h/?prefetch=70000"),
              HasSubstr("prefetch must be an integer from 1 to 65535"));
  EXPECT_THAT(error_of("amqps://h/?verify=maybe"),
              HasSubstr("verify must be true or false"));
  EXPECT_THAT(error_of("amqp://h/?reconnect_min_ms=900&reconnect_max_ms=100"),
              HasSubstr("reconnect_min_ms is larger than reconnect_max_ms"));
}

TEST(AmqpOptionsTest, TlsOptionsNeedAmqps) {
  EXPECT_THAT(error_of("amqp://h/?cacertfile=/ca.pem"),
              HasSubstr("need an amqps:// URI"));
  EXPECT_THAT(error_of("amqps://h/?certfile=/c.pem"),
              HasSubstr("certfile and keyfile go together"));
}

TEST(AmqpOptionsTest, BadHostListsAreRefused) {
  EXPECT_THAT(error_of("amqp://a,,b/"),
              HasSubstr("a host in the host list is empty"));
  EXPECT_THAT(error_of("amqp://a:1,b:99999/"),
              HasSubstr("port must be an integer from 1 to 65535"));
  EXPECT_THAT(error_of("amqp:///vhost"), HasSubstr("no host given"));
}

TEST(AmqpOptionsTest, ErrorsMaskThePassword) {
  const std::string error = error_of("amqp://user:hunter2@h/?queue_type=x");
  EXPECT_THAT(error, HasSubstr("amqp://user:***@h"));
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
}

TEST(AmqpOptionsTest, OpenTransportRefusesBadOptionsBeforeConnecting) {
  // Port 1 is never a broker: the option error must come first.
  EXPECT_THROW(open_transport("amqp://127.0.0.1:1/?bogus=1"),
               ConfigurationError);
}

}  // namespace
}  // namespace isoqube::detail
