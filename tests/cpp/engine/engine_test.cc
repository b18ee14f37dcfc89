#include "isoqube/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "isoqube/consumer.h"
#include "isoqube/errors.h"
#include "transport/amqp_broker.h"

namespace isoqube {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Registrations and configurations for the engines under test.
void add_consumer(Engine& engine, const std::string& topic,
                  std::function<Json(Context&)> handler) {
  Topic t;
  t.name = topic;
  engine.registry().add_topic(t);
  Consumer c;
  c.name = topic + "Consumer";
  c.topic = topic;
  c.service = "test";
  c.handler = std::move(handler);
  engine.registry().add_consumer(c);
}

void add_echo(Engine& engine, const std::string& topic) {
  add_consumer(engine, topic, [](Context& ctx) -> Json {
    return {{"step", ctx.step()}, {"payload", ctx.payload()}};
  });
}

// Holds the handlers of a gated consumer until opened.
class Gate {
 public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }
  void pass() {
    std::unique_lock<std::mutex> lock(mutex_);
    opened_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

void add_gated(Engine& engine, const std::string& topic, Gate& gate) {
  add_consumer(engine, topic, [&gate](Context&) -> Json {
    gate.pass();
    return nullptr;
  });
}

Configuration config(std::vector<std::string> topics) {
  Configuration c;
  c.name = "cfg";
  for (auto& t : topics) {
    StepSpec s;
    s.topic = t;
    c.steps.push_back(s);
  }
  return c;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isoqube-engine-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  EngineOptions sqlite_options() {
    EngineOptions o;
    o.transport = "memory://";
    o.store = "sqlite://" + (dir_ / "isoqube.db").string();
    o.concurrency = 2;
    return o;
  }

  fs::path dir_;
};

TEST_F(EngineTest, RunOfASavedConfigurationCompletesOnTheSqliteStore) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  add_echo(engine, "Publish");
  engine.start();
  Configuration saved =
      engine.save_configuration(config({"Ingest", "Publish"}));

  isoqube::Run run =
      engine.start_run("cfg", {"nightly", "", {{"branch", "main"}}});
  isoqube::Run done = engine.wait(run.id, milliseconds(10000));

  EXPECT_FALSE(saved.id.empty());
  EXPECT_EQ(done.status, RunStatus::kCompleted);
  EXPECT_EQ(done.description, "nightly");
  EXPECT_EQ(done.steps[1].output["payload"], (Json{{"branch", "main"}}));
  EXPECT_EQ(engine.list_runs().size(), 1u);
}

TEST_F(EngineTest, SavingAConfigurationByNameReplacesIt) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  add_echo(engine, "Publish");
  Configuration first = engine.save_configuration(config({"Ingest"}));

  Configuration second =
      engine.save_configuration(config({"Ingest", "Publish"}));

  EXPECT_EQ(first.id, second.id);
  ASSERT_EQ(engine.list_configurations().size(), 1u);
  EXPECT_EQ(engine.find_configuration("cfg")->steps.size(), 2u);
}

TEST_F(EngineTest, ConfigurationWithUnknownTopicIsRefusedWithItsName) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  try {
    engine.save_configuration(config({"Ingest", "Bogus"}));
    FAIL() << "expected ConfigurationError";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("Bogus"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(engine.list_configurations().empty());
}

TEST_F(EngineTest, UnknownConfigurationAndRunAreNotFound) {
  Engine engine(sqlite_options());
  EXPECT_THROW(engine.start_run("nope", {}), NotFoundError);
  EXPECT_THROW(engine.wait("nope", milliseconds(10)), NotFoundError);
  EXPECT_FALSE(engine.find_run("nope"));
}

TEST_F(EngineTest, WaitGivesUpWithTimeoutErrorWhileTheRunIsUnfinished) {
  Engine engine(sqlite_options());
  Gate gate;
  add_gated(engine, "Ingest", gate);
  engine.start();
  isoqube::Run run = engine.start_run(config({"Ingest"}), {});

  EXPECT_THROW(engine.wait(run.id, milliseconds(50)), TimeoutError);

  gate.open();
  EXPECT_EQ(engine.wait(run.id, milliseconds(10000)).status,
            RunStatus::kCompleted);
}

TEST_F(EngineTest, EventStreamFollowsARunsTransitionsInOrder) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  engine.start();
  auto stream = engine.subscribe();

  isoqube::Run run = engine.start_run(config({"Ingest"}), {});
  engine.wait(run.id, milliseconds(10000));

  std::vector<std::string> seen;
  int64_t last_seq = 0;
  while (auto e = stream->next(milliseconds(100))) {
    EXPECT_GT(e->seq, last_seq);
    last_seq = e->seq;
    seen.push_back((e->step < 0 ? "run:" : "step:") + e->to);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"run:running", "step:queued",
                                            "step:running", "step:completed",
                                            "run:completed"}));
  engine.unsubscribe(stream);
}

TEST_F(EngineTest, ModuleConsumersRunBesideInProcessOnes) {
  Engine engine(sqlite_options());
  engine.load_module(ISOQUBE_TEST_MODULE);
  add_echo(engine, "Ingest");
  engine.start();

  isoqube::Run run = engine.start_run(config({"Ingest", "ModuleTestTopic"}),
                                      {"", "", {{"value", 7}}});
  isoqube::Run done = engine.wait(run.id, milliseconds(10000));

  EXPECT_EQ(done.status, RunStatus::kCompleted);
  EXPECT_EQ(done.steps[1].output["echo"], (Json{{"value", 7}}));
}

// The README's form: `with isoqube.Engine() as engine:` starts the engine,
// then engine.load_module(...). It used to be refused ("register ... before
// start()"); now the worker starts again with the module's consumers.
TEST_F(EngineTest, AModuleLoadedIntoAStartedEngineHasItsConsumersRun) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  engine.start();

  engine.load_module(ISOQUBE_TEST_MODULE);
  isoqube::Run run = engine.start_run(config({"Ingest", "ModuleTestTopic"}),
                                      {"", "", {{"value", 7}}});

  EXPECT_TRUE(engine.started());
  EXPECT_EQ(engine.wait(run.id, milliseconds(10000)).status,
            RunStatus::kCompleted);
}

TEST_F(EngineTest, AMissingModuleLeavesAStartedEngineRunning) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  engine.start();

  EXPECT_THROW(engine.load_module((dir_ / "missing.so").string()), ModuleError);

  EXPECT_TRUE(engine.started());
  isoqube::Run run = engine.start_run(config({"Ingest"}), {});
  EXPECT_EQ(engine.wait(run.id, milliseconds(10000)).status,
            RunStatus::kCompleted);
}

// On memory:// such a run used to be stored and wait, queued, for ever.
TEST_F(EngineTest, ARunOfAnEngineNotStartedIsRefusedAtOnceAndNothingStored) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");

  const std::string error = testing::error_message<ConfigurationError>(
      [&] { engine.start_run(config({"Ingest"}), {}); });

  EXPECT_NE(error.find("nothing in this process can execute a run of 'cfg'"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("not started"), std::string::npos) << error;
  EXPECT_TRUE(engine.list_runs().empty());
}

TEST_F(EngineTest, ARunWhoseTopicsNothingHereConsumesIsRefusedNamingThem) {
  Engine engine(sqlite_options());
  add_echo(engine, "Ingest");
  Topic publish;
  publish.name = "Publish";
  engine.registry().add_topic(publish);
  Topic archive;
  archive.name = "Archive";
  engine.registry().add_topic(archive);
  engine.start();

  const std::string error = testing::error_message<ConfigurationError>([&] {
    engine.start_run(config({"Ingest", "Publish", "Archive"}), {});
  });

  EXPECT_NE(error.find("no consumer of 'Publish', 'Archive' is registered"),
            std::string::npos)
      << error;
  EXPECT_TRUE(engine.list_runs().empty());
}

TEST_F(EngineTest, ResumingOrRerunningWhereNothingConsumesIsRefusedToo) {
  EngineOptions options = sqlite_options();
  std::string run_id;
  {
    Engine first(options);
    add_consumer(first, "Ingest",
                 [](Context&) -> Json { throw std::runtime_error("broken"); });
    first.start();
    run_id = first.start_run(config({"Ingest"}), {}).id;
    ASSERT_EQ(first.wait(run_id, milliseconds(10000)).status,
              RunStatus::kFailed);
  }
  Engine second(options);  // the same store, no consumers
  second.start();

  EXPECT_THROW(second.resume(run_id), ConfigurationError);
  EXPECT_THROW(second.rerun(run_id), ConfigurationError);

  EXPECT_EQ(second.list_runs().size(), 1u);
  EXPECT_EQ(second.find_run(run_id)->status, RunStatus::kFailed);
}

TEST_F(EngineTest, MissingModuleIsAModuleErrorNamingThePath) {
  Engine engine(sqlite_options());
  try {
    engine.load_module((dir_ / "missing.so").string());
    FAIL() << "expected ModuleError";
  } catch (const ModuleError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.so"), std::string::npos);
  }
}

TEST_F(EngineTest, UrisComeFromTheEnvironmentWhenNotGiven) {
  std::string db = (dir_ / "from-env.db").string();
  ::setenv("ISOQUBE_STORE", ("sqlite://" + db).c_str(), 1);
  ::setenv("ISOQUBE_TRANSPORT", "memory://?capacity=10", 1);
  Engine engine;
  ::unsetenv("ISOQUBE_STORE");
  ::unsetenv("ISOQUBE_TRANSPORT");

  EXPECT_EQ(engine.store_uri(), "sqlite://" + db);
  EXPECT_EQ(engine.transport_uri(), "memory://?capacity=10");
  EXPECT_TRUE(fs::exists(db));
}

TEST_F(EngineTest, BadUrisAreConfigurationErrors) {
  EngineOptions bad_store = sqlite_options();
  bad_store.store = "postgres://db/isoqube";
  EXPECT_THROW(Engine{bad_store}, ConfigurationError);
  EngineOptions bad_transport = sqlite_options();
  bad_transport.transport = "kafka://broker";
  EXPECT_THROW(Engine{bad_transport}, ConfigurationError);
  EngineOptions bad_concurrency = sqlite_options();
  bad_concurrency.concurrency = 0;
  EXPECT_THROW(Engine{bad_concurrency}, ConfigurationError);
}

TEST_F(EngineTest, CancelStopsARunAndResumeFinishesIt) {
  Engine engine(sqlite_options());
  Gate gate;
  add_gated(engine, "Ingest", gate);
  add_echo(engine, "Publish");
  engine.start();
  isoqube::Run run = engine.start_run(config({"Ingest", "Publish"}), {});

  EXPECT_TRUE(engine.cancel(run.id));
  EXPECT_EQ(engine.find_run(run.id)->status, RunStatus::kCancelled);
  gate.open();
  engine.resume(run.id);

  EXPECT_EQ(engine.wait(run.id, milliseconds(10000)).status,
            RunStatus::kCompleted);
}

TEST_F(EngineTest, AStreamGetsTheEventsTheStoreLoggedCancelAndResumeToo) {
  Engine engine(sqlite_options());
  Gate gate;
  add_gated(engine, "Ingest", gate);
  add_echo(engine, "Publish");
  engine.start();
  auto stream = engine.subscribe();
  isoqube::Run run = engine.start_run(config({"Ingest", "Publish"}), {});
  engine.cancel(run.id);
  gate.open();
  engine.resume(run.id);
  engine.wait(run.id, milliseconds(10000));

  EventQuery query;
  query.run_id = run.id;
  const std::vector<Event> logged = engine.store().events(query);
  std::vector<Event> streamed;
  while (streamed.size() < logged.size()) {
    std::optional<Event> e = stream->next(milliseconds(10000));
    if (!e) break;
    streamed.push_back(*e);
  }
  ASSERT_EQ(streamed.size(), logged.size());
  for (std::size_t i = 0; i < logged.size(); ++i) {
    EXPECT_EQ(to_json(streamed[i]), to_json(logged[i])) << "event " << i;
  }
  engine.unsubscribe(stream);
}

// A C++ consumer may hand over any bytes; stores keep JSON text, which must
// be UTF-8. Before, the completion could not be written and the message
// went back to the queue every 200 ms, the run never ending.
TEST_F(EngineTest, OutputOrErrorThatIsNotUtf8FailsTheStepWithTheReason) {
  Engine engine(sqlite_options());
  add_echo(engine, "After");
  add_consumer(engine, "BadOutput", [](Context&) -> Json {
    return {{"logs", {"fine", "cut \xE2\x82"}}};
  });
  add_consumer(engine, "BadError", [](Context&) -> Json {
    throw std::runtime_error("disk \xFF\xFE full");
  });
  engine.start();
  Configuration bad_output = config({"BadOutput", "After"});
  bad_output.name = "bad-output";
  Configuration bad_error = config({"BadError", "After"});
  bad_error.name = "bad-error";

  const isoqube::Run output_run =
      engine.wait(engine.start_run(bad_output, {}).id, milliseconds(10000));
  const isoqube::Run error_run =
      engine.wait(engine.start_run(bad_error, {}).id, milliseconds(10000));

  EXPECT_EQ(output_run.status, RunStatus::kFailed);
  EXPECT_EQ(output_run.steps[0].status, StepStatus::kFailed);
  EXPECT_EQ(output_run.steps[1].status, StepStatus::kPending);
  EXPECT_EQ(output_run.error,
            "step 'BadOutput' failed after 1 attempt: its output cannot be "
            "stored as JSON: '/logs/1': invalid UTF-8 byte 0xE2 at offset 4");
  EXPECT_EQ(error_run.status, RunStatus::kFailed);
  EXPECT_EQ(error_run.error,
            "step 'BadError' failed after 1 attempt: disk "
            "\xEF\xBF\xBD\xEF\xBF\xBD full");
  // What the store holds reads back as JSON
  EXPECT_NO_THROW(to_json(*engine.find_run(error_run.id)).dump());
}

// Run events that another engine broadcasts reach this engine's listener
// on the broker while start() subscribes. They must not wait for start(),
// which waits for the broker: that was a deadlock until publish_timeout.
class EngineOnBrokerTest : public testing::AmqpBrokerTest {};

TEST_F(EngineOnBrokerTest, RestartsWhileAnotherEngineBroadcasts) {
  // Topic names are identifiers: no unique_name().
  const std::string suffix = std::to_string(::getpid());
  EngineOptions options;
  options.transport = testing::with_options(uri_, "publish_timeout_ms=5000");
  options.store = "memory://";
  options.concurrency = 2;
  Engine busy(options);
  add_echo(busy, "Busy" + suffix);
  add_echo(busy, "Busier" + suffix);
  busy.start();
  busy.save_configuration(config({"Busy" + suffix, "Busier" + suffix}));
  std::atomic<bool> stop{false};
  std::atomic<int> runs{0};
  std::thread broadcaster([&] {
    while (!stop) {
      isoqube::Run run = busy.start_run("cfg", {});
      busy.wait(run.id, milliseconds(30000));
      ++runs;
    }
  });
  Engine quiet(options);
  add_echo(quiet, "Quiet" + suffix);

  std::string error;
  for (int i = 0; i < 10 && error.empty(); ++i) {
    const int before = runs;
    try {
      quiet.start();
      quiet.stop();
    } catch (const std::exception& e) {
      error = e.what();
    }
    // Broadcasts went on meanwhile.
    while (runs == before && error.empty()) {
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  stop = true;
  broadcaster.join();
  EXPECT_EQ(error, "");
}

// Stops the test broker; starts it again when it goes, whatever happened.
class StoppedBroker {
 public:
  StoppedBroker() { run("stop"); }
  ~StoppedBroker() { start(); }
  void start() {
    if (stopped_) run("start");
  }

 private:
  void run(const std::string& command) {
    bool ok = false;
    const std::string output = testing::rabbitmq_script(command, "", &ok);
    EXPECT_TRUE(ok) << "scripts/rabbitmq " << command << ": " << output;
    stopped_ = command == "stop";
  }
  bool stopped_ = false;
};

// Defect 7 of issue 13: with the broker down longer than publish_timeout_ms
// start_run() threw and left the run it had stored failed, though nothing
// had run; retrying made a second run. Now the run is left pending, never
// started, and resume() publishes it once the broker is back.
TEST_F(EngineOnBrokerTest, AStartThatCannotPublishLeavesAPendingRunResumable) {
  require_broker_dir();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string topic = "Outage" + std::to_string(::getpid());
  EngineOptions options;
  options.transport = testing::with_options(
      uri_, "publish_timeout_ms=1000&reconnect_max_ms=500");
  options.store = "memory://";
  options.concurrency = 2;
  Engine engine(options);
  add_echo(engine, topic);
  engine.start();  // its endpoint is bound to the topic
  StoppedBroker broker;

  const std::string error = testing::error_message<TransportError>(
      [&] { engine.start_run(config({topic}), {}); });

  EXPECT_NE(error.find("was stored but not started"), std::string::npos)
      << error;
  const std::vector<isoqube::Run> runs = engine.list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kPending);
  EXPECT_NE(runs[0].error.find("not started"), std::string::npos)
      << runs[0].error;
  EXPECT_EQ(runs[0].steps[0].status, StepStatus::kQueued);
  EXPECT_NE(error.find(runs[0].id), std::string::npos) << error;

  broker.start();
  engine.resume(runs[0].id);

  const isoqube::Run done = engine.wait(runs[0].id, milliseconds(60000));
  EXPECT_EQ(done.status, RunStatus::kCompleted);
  EXPECT_EQ(done.error, "");
  EXPECT_EQ(engine.list_runs().size(), 1u);
}

}  // namespace
}  // namespace isoqube
