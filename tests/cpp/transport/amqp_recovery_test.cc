// Losing the broker and getting it back: clear errors at startup, failover
// between hosts, and a broker restart (scripts/rabbitmq restart) in the
// middle of the traffic without losing a message.
#include <arpa/inet.h>
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "amqp_broker.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "isoqube/transport.h"
#include "support/wait.h"
#include "transport/amqp_options.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::test_envelope;
using testing::unique_name;

// Long enough for a broker restart (about 10 s here).
constexpr milliseconds kRestartWait{60000};

std::string error_of(const std::string& uri) {
  return testing::error_message<TransportError>([&] { open_transport(uri); });
}

// Keeps the transport's recent log lines, to wait for what it reports
// (at info level at least, whatever ISOQUBE_LOG_LEVEL says).
class TransportLog {
 public:
  TransportLog()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(200)),
        level_(logger("transport")->level()) {
    logger("transport")->sinks().push_back(sink_);
    if (level_ > spdlog::level::info) {
      logger("transport")->set_level(spdlog::level::info);
    }
  }
  ~TransportLog() {
    logger("transport")->set_level(level_);
    auto& sinks = logger("transport")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  bool contains(const std::string& text) const {
    for (const std::string& line : sink_->last_formatted()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  const spdlog::level::level_enum level_;
};

// Freezes the broker's Erlang VM (SIGSTOP) while it lives: the TCP
// connections stay up, but nothing answers, as with a network that drops
// packets.
class FrozenBroker {
 public:
  FrozenBroker() {
    std::ifstream file(testing::env("ISOQUBE_TEST_AMQP_DIR") + "/rabbit.pid");
    file >> pid_;
    if (pid_ > 0) kill(pid_, SIGSTOP);
  }
  ~FrozenBroker() {
    if (pid_ > 0) kill(pid_, SIGCONT);
  }
  bool frozen() const { return pid_ > 0; }

 private:
  pid_t pid_ = 0;
};

// Ends the sending side of every TCP connection of this process to `port`
// (shutdown(SHUT_WR)): the next send on them fails at once, while the
// thread sleeping in poll() on them hears of it only once the broker has
// answered the FIN. Returns how many it ended.
int shut_sending_side_of_connections_to(uint16_t port) {
  int count = 0;
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return 0;
  while (dirent* entry = readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(fds)) continue;
    sockaddr_in peer{};
    socklen_t size = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0 ||
        peer.sin_family != AF_INET || ntohs(peer.sin_port) != port) {
      continue;
    }
    if (shutdown(fd, SHUT_WR) == 0) ++count;
  }
  closedir(fds);
  return count;
}

class AmqpRecoveryTest : public testing::AmqpBrokerTest {
 protected:
  // The test broker with other credentials, vhost or extra hosts.
  std::string uri_with(const std::string& userinfo, const std::string& hosts,
                       const std::string& vhost = "%2f") {
    const detail::AmqpOptions o = detail::parse_amqp_uri(uri_);
    const std::string broker = o.hosts.front().to_string();
    return "amqp://" + userinfo + "@" +
           (hosts.empty() ? broker : hosts + "," + broker) + "/" + vhost;
  }

  // The next delivery is `sent` again, marked redelivered.
  static void expect_redelivered(Inbox& inbox, const Envelope& sent) {
    auto again = inbox.receive(kRestartWait);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->envelope->message_id, sent.message_id);
    EXPECT_TRUE(again->redelivered);
    again->ack();
  }

  std::string credentials() {
    const detail::AmqpOptions o = detail::parse_amqp_uri(uri_);
    return o.user + ":" + o.password;
  }

  void broker(const std::string& command) {
    bool ok = false;
    const std::string output = testing::rabbitmq_script(command, "", &ok);
    ASSERT_TRUE(ok) << "scripts/rabbitmq " << command << ": " << output;
  }

 public:
  std::string broker_ctl(const std::string& arguments) {
    bool ok = false;
    const std::string output = testing::rabbitmq_script("ctl", arguments, &ok);
    EXPECT_TRUE(ok) << "rabbitmqctl " << arguments << ": " << output;
    return output;
  }

  // Deliveries of `queue` not acknowledged yet, as the broker counts them.
  int unacknowledged(const std::string& queue) {
    const std::string listing = broker_ctl(
        "list_queues --no-table-headers --quiet name messages_unacknowledged");
    const std::size_t at = listing.find(queue + "\t");
    if (at == std::string::npos) return -1;
    return std::atoi(listing.c_str() + at + queue.size() + 1);
  }
};

TEST_F(AmqpRecoveryTest, UnreachableBrokerIsOneErrorNamingTheMaskedUri) {
  const std::string error = error_of(
      "amqp://guest:s3cret@127.0.0.1:1/%2f?connection_timeout_ms=2000");
  EXPECT_THAT(error,
              AllOf(HasSubstr("cannot connect to amqp://guest:***@"
                              "127.0.0.1:1/%2f"),
                    HasSubstr("connection refused"), Not(HasSubstr("s3cret"))));
}

TEST_F(AmqpRecoveryTest, WrongPasswordIsRefusedWithTheMaskedUri) {
  const std::string error = error_of(uri_with("guest:wr0ng-password", ""));
  EXPECT_THAT(error, AllOf(HasSubstr("guest:***@"), HasSubstr("ACCESS_REFUSED"),
                           Not(HasSubstr("wr0ng-password"))));
}

TEST_F(AmqpRecoveryTest, MissingVhostIsRefusedWithItsName) {
  const std::string vhost = unique_name("no-such-vhost");
  const std::string error = error_of(uri_with(credentials(), "", vhost));
  EXPECT_THAT(error, AllOf(HasSubstr("vhost '" + vhost + "'"),
                           HasSubstr("NOT_ALLOWED"), HasSubstr(":***@")));
}

TEST_F(AmqpRecoveryTest, AnUnreachableFirstHostIsSkipped) {
  testing::Subscribed s(uri_with(credentials(), "127.0.0.1:1"));
  s.transport->publish(s.topic, test_envelope("via-second-host"));
  auto d = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, "via-second-host");
  d->ack();
}

TEST_F(AmqpRecoveryTest, BrokerRestartMidStreamLosesNothing) {
  require_broker_dir();
  const std::string uri = testing::with_options(
      uri_, "reconnect_max_ms=500&publish_timeout_ms=90000");
  auto publisher = open_transport(uri);
  auto consumer = open_transport(uri);
  const std::string topic = unique_name("topic");
  auto inbox = consumer->subscribe({{unique_name("endpoint"), {topic}}}, 50);

  std::mutex mutex;
  std::set<std::string> received;
  std::atomic<bool> stop_reading{false};
  std::thread reader([&] {
    while (!stop_reading) {
      auto d = inbox->receive(milliseconds(100));
      if (!d) continue;
      {
        std::lock_guard<std::mutex> lock(mutex);
        received.insert(d->envelope->message_id);
      }
      d->ack();  // dropped when its connection is gone: redelivered
    }
  });

  std::vector<std::string> sent;
  auto publish_one = [&] {
    Envelope e = test_envelope();
    publisher->publish(topic, e);
    sent.push_back(e.message_id);
  };
  for (int i = 0; i < 100; ++i) publish_one();
  auto restart = std::async(std::launch::async, [&] { broker("restart"); });
  // Publishing goes on through the restart: publishes wait while the broker
  // is away and are sent again when they were not confirmed.
  while (restart.wait_for(milliseconds(0)) != std::future_status::ready) {
    publish_one();
  }
  restart.get();
  for (int i = 0; i < 100; ++i) publish_one();

  const bool all = testing::wait_until(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        return std::all_of(sent.begin(), sent.end(), [&](const auto& id) {
          return received.count(id) > 0;
        });
      },
      kRestartWait);
  stop_reading = true;
  reader.join();
  std::lock_guard<std::mutex> lock(mutex);
  std::size_t missing = 0;
  for (const auto& id : sent) missing += received.count(id) ? 0 : 1;
  EXPECT_TRUE(all) << missing << " of " << sent.size() << " never arrived";
}

TEST_F(AmqpRecoveryTest, PublishDuringAnOutageWaitsForTheBrokerOrTimesOut) {
  require_broker_dir();
  auto patient = open_transport(testing::with_options(
      uri_, "reconnect_max_ms=500&publish_timeout_ms=90000"));
  auto impatient = open_transport(testing::with_options(
      uri_, "reconnect_max_ms=500&publish_timeout_ms=1000"));
  const std::string topic = unique_name("topic");
  auto inbox = patient->subscribe({{unique_name("endpoint"), {topic}}}, 1);
  broker("stop");

  try {
    impatient->publish(topic, test_envelope());
    ADD_FAILURE() << "a publish with the broker stopped succeeded";
  } catch (const TransportError& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("did not complete within 1000 ms"));
  }
  const Envelope waiting = test_envelope();
  auto published =
      std::async(std::launch::async, [&] { patient->publish(topic, waiting); });
  broker("start");

  EXPECT_NO_THROW(published.get());
  auto d = inbox->receive(kRestartWait);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, waiting.message_id);
  d->ack();
}

TEST_F(AmqpRecoveryTest, AfterARestartOldAcksAreDroppedAndEverythingResumes) {
  require_broker_dir();
  testing::Subscribed s(testing::with_options(uri_, "reconnect_max_ms=500"));
  const std::string channel = unique_name("events");
  std::mutex mutex;
  std::vector<Json> heard;
  auto listening = s.transport->listen(
      channel, BroadcastsFrom::kAnyone, [&](const Json& message) {
        std::lock_guard<std::mutex> lock(mutex);
        heard.push_back(message);
      });
  const Envelope sent = test_envelope();
  s.transport->publish(s.topic, sent);
  auto before = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(before);

  broker("restart");
  before->ack();  // for a connection that is gone: dropped

  expect_redelivered(*s.inbox, sent);
  // The publishing connection is back once a publish is confirmed (the two
  // connections reconnect each on its own); broadcasts before that are
  // dropped, as they are best-effort.
  s.transport->publish(s.topic, test_envelope());
  s.transport->broadcast(channel, "after the restart");
  EXPECT_TRUE(testing::wait_until([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return heard.size() == 1 && heard[0] == "after the restart";
  }));
}

TEST_F(AmqpRecoveryTest, MissedHeartbeatsCountAsALostConnection) {
  require_broker_dir();
  TransportLog log;
  testing::Subscribed s(
      testing::with_options(uri_, "heartbeat=1&reconnect_max_ms=500"));
  const Envelope sent = test_envelope();
  s.transport->publish(s.topic, sent);
  auto before = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(before);

  {
    FrozenBroker frozen;
    ASSERT_TRUE(frozen.frozen());
    // Both links, each on its own connection, give theirs up: the test
    // waited for the first only, and the consuming one, still inside its
    // two silent intervals when the broker woke, kept its connection and
    // acked (seen once in CI on a loaded machine).
    ASSERT_TRUE(testing::wait_until(
        [&] {
          return log.contains("amqp-publish: connection to") &&
                 log.contains("amqp-consume: connection to");
        },
        milliseconds(20000)));
    EXPECT_TRUE(log.contains("no data and no heartbeat"));
  }
  before->ack();  // for the connection given up: dropped

  // The broker never saw an ack, so the new connection gets the message
  // again.
  expect_redelivered(*s.inbox, sent);
}

TEST_F(AmqpRecoveryTest, AQueueDeletedUnderAConsumerIsDeclaredAgain) {
  require_broker_dir();
  TransportLog log;
  testing::Subscribed s(uri_);

  broker_ctl("delete_queue " + s.endpoint);
  ASSERT_TRUE(testing::wait_until(
      [&] { return log.contains("the cancelled consumer consumes again"); }));
  s.transport->publish(s.topic, test_envelope("after"));

  auto d = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope->message_id, "after");
  d->ack();
  EXPECT_FALSE(log.contains("lost"));
}

// A memory alarm makes RabbitMQ stop reading from publishing connections
// (https://www.rabbitmq.com/connection-blocked.html).
class MemoryAlarm {
 public:
  explicit MemoryAlarm(AmqpRecoveryTest& test) : test_(test) {
    test_.broker_ctl("set_vm_memory_high_watermark 0.000001");
  }
  ~MemoryAlarm() { clear(); }
  void clear() {
    if (cleared_) return;
    cleared_ = true;
    test_.broker_ctl("set_vm_memory_high_watermark 0.4");
  }

 private:
  AmqpRecoveryTest& test_;
  bool cleared_ = false;
};

TEST_F(AmqpRecoveryTest, WhileTheBrokerBlocksPublishesConsumersStillAck) {
  require_broker_dir();
  TransportLog log;
  testing::Subscribed s(uri_);
  s.transport->publish(s.topic, test_envelope("before"));
  MemoryAlarm alarm(*this);

  const Envelope during = test_envelope("during");
  auto published = std::async(std::launch::async,
                              [&] { s.transport->publish(s.topic, during); });
  ASSERT_TRUE(testing::wait_until(
      [&] { return log.contains("the broker blocked publishing"); }));
  auto before = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(before);
  before->ack();
  ASSERT_TRUE(
      testing::wait_until([&] { return unacknowledged(s.endpoint) == 0; }));
  alarm.clear();

  EXPECT_NO_THROW(published.get());
  auto after = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->envelope->message_id, "during");
  after->ack();
}

TEST_F(AmqpRecoveryTest,
       AsyncPublishNeverConfirmedFailsAfterThePublishTimeout) {
  require_broker_dir();
  TransportLog log;
  testing::Subscribed s(testing::with_options(uri_, "publish_timeout_ms=500"));
  MemoryAlarm alarm(*this);
  std::promise<std::exception_ptr> outcome;

  s.transport->publish_async(
      s.topic, test_envelope("during"),
      [&](std::exception_ptr error) { outcome.set_value(error); });

  // Then the callback gets what publish() would have thrown
  std::future<std::exception_ptr> called = outcome.get_future();
  ASSERT_EQ(called.wait_for(milliseconds(10000)), std::future_status::ready);
  EXPECT_TRUE(log.contains("the broker blocked publishing"));
  const std::string error = testing::error_message<TransportError>(
      [&] { std::rethrow_exception(called.get()); });
  EXPECT_THAT(error, HasSubstr("publish_timeout_ms"));
}

// A publish sent by the publishing thread itself (AmqpLink::send_here())
// that finds the connection broken hands it to the link's thread, which
// reconnects and sends it again: nothing is lost, nothing waits forever.
TEST_F(AmqpRecoveryTest, PublishesThatFindTheConnectionBrokenAreSentAgain) {
  require_broker_dir();
  TransportLog log;
  testing::Subscribed s(testing::with_options(uri_, "reconnect_max_ms=500"));
  s.transport->publish(s.topic, test_envelope("declares the topic"));
  auto first = s.inbox->receive(milliseconds(10000));
  ASSERT_TRUE(first);
  first->ack();

  const auto port =
      static_cast<uint16_t>(detail::parse_amqp_uri(uri_).hosts.front().port);
  std::vector<Envelope> envelopes(5, test_envelope());
  std::vector<std::string> sent;
  for (Envelope& e : envelopes) sent.push_back(e.message_id = new_uuid());
  std::vector<std::promise<std::exception_ptr>> confirmed(envelopes.size());
  {
    // Frozen, the broker cannot answer the FIN: the link's thread sleeps on,
    // and the first publish, sent here, finds the connection broken.
    FrozenBroker frozen;
    ASSERT_TRUE(frozen.frozen());
    ASSERT_EQ(shut_sending_side_of_connections_to(port), 2);  // both links
    for (std::size_t i = 0; i < envelopes.size(); ++i) {
      s.transport->publish_async(
          s.topic, envelopes[i],
          [&confirmed, i](std::exception_ptr e) { confirmed[i].set_value(e); });
    }
  }
  for (auto& c : confirmed) {
    auto outcome = c.get_future();
    ASSERT_EQ(outcome.wait_for(kRestartWait), std::future_status::ready);
    EXPECT_EQ(outcome.get(), nullptr);
  }
  std::set<std::string> received;
  while (received.size() < sent.size()) {
    auto d = s.inbox->receive(kRestartWait);
    ASSERT_TRUE(d) << received.size() << " of " << sent.size() << " arrived";
    received.insert(d->envelope->message_id);
    d->ack();
  }
  EXPECT_EQ(received, std::set<std::string>(sent.begin(), sent.end()));
  EXPECT_TRUE(log.contains("amqp-publish: connection to"));
}

// A publish to a topic already declared, made while the link's thread
// sleeps, is sent by the publishing thread itself (AmqpLink::send_here()).
// The sleeping thread must still wake in time to give it up: it sleeps
// for at most the publish timeout, not the half heartbeat (30 s here) it
// would sleep otherwise.
TEST_F(AmqpRecoveryTest, AnUnconfirmedPublishSentBetweenWakeUpsStillTimesOut) {
  require_broker_dir();
  testing::Subscribed s(
      testing::with_options(uri_, "heartbeat=60&publish_timeout_ms=500"));
  s.transport->publish(s.topic, test_envelope("declares the topic"));
  std::promise<std::exception_ptr> outcome;
  std::future<std::exception_ptr> called = outcome.get_future();
  {
    FrozenBroker frozen;
    ASSERT_TRUE(frozen.frozen());
    s.transport->publish_async(
        s.topic, test_envelope("never confirmed"),
        [&](std::exception_ptr error) { outcome.set_value(error); });
    ASSERT_EQ(called.wait_for(milliseconds(10000)), std::future_status::ready)
        << "the publish was not given up within 10 s of its 500 ms timeout";
  }
  const std::string error = testing::error_message<TransportError>(
      [&] { std::rethrow_exception(called.get()); });
  EXPECT_THAT(error, HasSubstr("publish_timeout_ms"));
}

}  // namespace
}  // namespace isoqube
