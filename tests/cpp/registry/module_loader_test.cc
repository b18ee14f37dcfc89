#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "isoqube/consumer.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "isoqube/registry.h"
#include "registry/static_registry.h"

// Registered by this program itself: origin "".
ISOQUBE_TOPIC(ProgramStaticTopic, "Registered by the test program");
ISOQUBE_TOPIC(ProgramOtherTopic, "Also registered by the test program");

struct ProgramStaticConsumer {
  isoqube::Json handle(isoqube::Context&) { return {{"from", "program"}}; }
};
ISOQUBE_CONSUMER(ProgramStaticConsumer, "ProgramStaticTopic", "program");

namespace isoqube {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kModule = ISOQUBE_TEST_MODULE;

class FakeContext : public Context {
 public:
  explicit FakeContext(Json payload) : payload_(std::move(payload)) {}
  const std::string& run_id() const override { return empty_; }
  const std::string& ingestion_id() const override { return empty_; }
  const std::string& step() const override { return empty_; }
  const std::string& topic() const override { return empty_; }
  const std::string& consumer() const override { return empty_; }
  int attempt() const override { return 1; }
  const Json& payload() const override { return payload_; }
  const Json& inputs() const override { return inputs_; }
  spdlog::logger& log() const override { return *logger("test"); }
  void publish(const std::string&, Json) override {}
  bool cancelled() const override { return false; }

 private:
  std::string empty_;
  Json payload_;
  Json inputs_ = Json::object();
};

template <typename E, typename F>
std::string error_of(F&& action) {
  try {
    action();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "nothing thrown";
  return "";
}

// A file of its own under the test's temporary folder.
std::string write_temp_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(StaticRegistrationTest, AddStaticAddsTheProgramsOwnRegistrations) {
  Registry registry;
  registry.add_static();
  ASSERT_NE(registry.find_topic("ProgramStaticTopic"), nullptr);
  EXPECT_EQ(registry.find_topic("ProgramStaticTopic")->description,
            "Registered by the test program");
  const Consumer* c = registry.find_consumer("ProgramStaticConsumer");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->origin, "");
  EXPECT_EQ(c->service, "program");
  EXPECT_EQ(c->endpoint, "program-static");
  FakeContext ctx(Json::object());
  EXPECT_EQ(c->handler(ctx), Json({{"from", "program"}}));
}

TEST(StaticRegistrationTest, ProgramRegistrationsDoNotIncludeModules) {
  Registry loaded;
  load_module(kModule, loaded);
  Registry registry;
  registry.add_static();
  EXPECT_EQ(registry.find_consumer("ModuleTestConsumer"), nullptr);
}

TEST(StaticRegistrationTest, AFailedAddStaticLeavesTheRegistryAsItWas) {
  // Given a registry that already has a different ProgramStaticConsumer
  Registry registry;
  Topic t;
  t.name = "ProgramStaticTopic";
  t.description = "Registered by the test program";
  registry.add_topic(t);
  Consumer c;
  c.name = "ProgramStaticConsumer";
  c.topic = "ProgramStaticTopic";
  c.handler = [](Context&) { return Json(); };
  registry.add_consumer(c);
  // When the program's registrations are added
  const std::string error =
      error_of<RegistrationError>([&] { registry.add_static(); });
  // Then the clash is named, with where it came from, and nothing was added
  EXPECT_THAT(error, AllOf(HasSubstr("consumer 'ProgramStaticConsumer'"),
                           HasSubstr("registered by the program")));
  EXPECT_EQ(registry.find_topic("ProgramOtherTopic"), nullptr);
  EXPECT_NE(registry.find_topic("ProgramStaticTopic"), nullptr);
}

TEST(StaticRegistrationTest, LoadingOriginTagsRegistrationsOnThisThreadOnly) {
  {
    detail::LoadingOrigin origin("/virtual/module.so");
    detail::register_static_topic(Topic{"VirtualTopic", "", "", "Ns", nullptr});
  }
  EXPECT_EQ(detail::static_registrations("/virtual/module.so").topics.size(),
            1u);
  Registry registry;
  registry.add_static();
  EXPECT_EQ(registry.find_topic("VirtualTopic"), nullptr);
}

TEST(ModuleLoaderTest, RegistersTheModulesTopicAndConsumerWithItsOrigin) {
  Registry registry;
  load_module(kModule, registry);
  const Topic* t = registry.find_topic("ModuleTestTopic");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->entity_name, "module-test-topic");
  const Consumer* c = registry.find_consumer("ModuleTestConsumer");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->topic, "ModuleTestTopic");
  EXPECT_EQ(c->service, "test-service");
  EXPECT_EQ(c->endpoint, "module-test");
  EXPECT_EQ(c->origin, fs::canonical(kModule).string());
}

TEST(ModuleLoaderTest, TheModulesHandlerRuns) {
  Registry registry;
  load_module(kModule, registry);
  FakeContext ctx(Json{{"image", "ubuntu"}});
  EXPECT_EQ(registry.find_consumer("ModuleTestConsumer")->handler(ctx),
            Json({{"echo", {{"image", "ubuntu"}}}}));
}

TEST(ModuleLoaderTest, LoadingTwiceFillsTwoRegistries) {
  Registry first;
  Registry second;
  load_module(kModule, first);
  load_module(kModule, second);
  ASSERT_NE(first.find_consumer("ModuleTestConsumer"), nullptr);
  ASSERT_NE(second.find_consumer("ModuleTestConsumer"), nullptr);
  FakeContext ctx(Json{{"n", 1}});
  EXPECT_EQ(second.find_consumer("ModuleTestConsumer")->handler(ctx)["echo"],
            Json({{"n", 1}}));
  // The module's initialisers ran once: one record each, not one per load.
  const auto recorded =
      detail::static_registrations(fs::canonical(kModule).string());
  EXPECT_EQ(recorded.topics.size(), 1u);
  EXPECT_EQ(recorded.consumers.size(), 1u);
}

TEST(ModuleLoaderTest, AnotherSpellingOfThePathIsTheSameModule) {
  const fs::path module(kModule);
  const std::string spelled =
      (module.parent_path() / "." / module.filename()).string();
  Registry registry;
  load_module(spelled, registry);
  EXPECT_EQ(registry.find_consumer("ModuleTestConsumer")->origin,
            fs::canonical(kModule).string());
  EXPECT_EQ(detail::static_registrations(fs::canonical(kModule).string())
                .consumers.size(),
            1u);
}

TEST(ModuleLoaderTest, LoadingTwiceIntoOneRegistryReportsTheDuplicate) {
  Registry registry;
  load_module(kModule, registry);
  EXPECT_THAT(
      error_of<RegistrationError>([&] { load_module(kModule, registry); }),
      AllOf(HasSubstr("consumer 'ModuleTestConsumer'"),
            HasSubstr(fs::canonical(kModule).string())));
}

TEST(ModuleLoaderTest, MissingFileIsAModuleErrorNamingThePath) {
  Registry registry;
  EXPECT_THAT(error_of<ModuleError>(
                  [&] { load_module("/nonexistent/libnothing.so", registry); }),
              AllOf(HasSubstr("'/nonexistent/libnothing.so'"),
                    HasSubstr("No such file")));
}

TEST(ModuleLoaderTest, NonLibraryFileIsAModuleErrorWithTheLoadersReason) {
  const std::string path =
      write_temp_file("isoqube_not_a_module.so", "just some text\n");
  Registry registry;
  const std::string error =
      error_of<ModuleError>([&] { load_module(path, registry); });
  EXPECT_THAT(error, HasSubstr("cannot load module"));
  EXPECT_THAT(error, HasSubstr("isoqube_not_a_module.so"));
  // dlerror()'s text, e.g. "invalid ELF header" or "file too short"
  EXPECT_THAT(error, HasSubstr(": /"));
}

TEST(ModuleLoaderTest, ALibraryThatRegistersNothingIsAModuleError) {
  // The core library itself is a shared library without registrations.
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&kebab_case), &info), 0);
  Registry registry;
  EXPECT_THAT(
      error_of<ModuleError>([&] { load_module(info.dli_fname, registry); }),
      HasSubstr("registers no topics or consumers"));
  EXPECT_TRUE(registry.consumers().empty());
}

TEST(ModuleLoaderTest, ADirectoryIsAModuleError) {
  Registry registry;
  EXPECT_THROW(load_module(::testing::TempDir(), registry), ModuleError);
}

}  // namespace
}  // namespace isoqube
