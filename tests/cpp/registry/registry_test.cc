#include "isoqube/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "isoqube/errors.h"

namespace isoqube {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Topic topic(std::string name, std::string description = "") {
  Topic t;
  t.name = std::move(name);
  t.description = std::move(description);
  return t;
}

Consumer consumer(std::string name, std::string topic_name) {
  Consumer c;
  c.name = std::move(name);
  c.topic = std::move(topic_name);
  c.service = "default";
  c.handler = [](Context&) { return Json(nullptr); };
  return c;
}

template <typename F>
std::string registration_error(F&& add) {
  try {
    add();
  } catch (const RegistrationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no RegistrationError";
  return "";
}

TEST(KebabCaseTest, SplitsPascalCaseWords) {
  EXPECT_EQ(kebab_case("DefaultSourceIngestion"), "default-source-ingestion");
  EXPECT_EQ(kebab_case("OrderState"), "order-state");
  EXPECT_EQ(kebab_case("Build"), "build");
}

// Digits stay with the word before them and start no word of their own, as
// in MassTransit's KebabCaseEndpointNameFormatter ("(?<=[a-z0-9])[A-Z]").
TEST(KebabCaseTest, DigitsStayWithThePrecedingWordLikeMassTransit) {
  EXPECT_EQ(kebab_case("LinuxUbuntu2004Build"), "linux-ubuntu2004-build");
  EXPECT_EQ(kebab_case("Windows2019Build"), "windows2019-build");
  EXPECT_EQ(kebab_case("Deploy2Vm"), "deploy2-vm");
}

TEST(KebabCaseTest, RunsOfCapitalsStayTogetherLikeMassTransit) {
  EXPECT_EQ(kebab_case("HTTPRequest"), "httprequest");
  EXPECT_EQ(kebab_case("DeployToVM"), "deploy-to-vm");
}

TEST(KebabCaseTest, UnderscoresBecomeDashes) {
  EXPECT_EQ(kebab_case("snake_case_Name"), "snake-case-name");
}

TEST(EndpointNameTest, DropsTrailingConsumerThenKebabCases) {
  EXPECT_EQ(endpoint_name("SubmitOrderConsumer"), "submit-order");
  EXPECT_EQ(endpoint_name("DefaultIngestionConsumer"), "default-ingestion");
  EXPECT_EQ(endpoint_name("LinuxUbuntu2004BuildConsumer"),
            "linux-ubuntu2004-build");
}

TEST(EndpointNameTest, SuffixIsMatchedIgnoringCaseLikeMassTransit) {
  EXPECT_EQ(endpoint_name("Buildconsumer"), "build");
}

TEST(EndpointNameTest, KeepsNamesWithoutTheSuffix) {
  EXPECT_EQ(endpoint_name("OrderState"), "order-state");
  EXPECT_EQ(endpoint_name("ConsumerOfThings"), "consumer-of-things");
}

TEST(EndpointNameTest, AConsumerNamedJustConsumerKeepsItsName) {
  EXPECT_EQ(endpoint_name("Consumer"), "consumer");
}

TEST(TopicTest, UrnUsesNamespaceAndName) {
  Topic t = topic("DefaultSourceIngestion");
  EXPECT_EQ(t.urn(), "urn:message:Isoqube.Topics:DefaultSourceIngestion");
  t.ns = "Company.Project";
  EXPECT_EQ(t.urn(), "urn:message:Company.Project:DefaultSourceIngestion");
}

TEST(RegistryTest, AddTopicFillsTheEntityName) {
  Registry registry;
  registry.add_topic(topic("DefaultSourceIngestion", "Default ingestion"));
  const Topic* found = registry.find_topic("DefaultSourceIngestion");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->entity_name, "default-source-ingestion");
  EXPECT_EQ(found->description, "Default ingestion");
}

TEST(RegistryTest, AddTopicKeepsAGivenEntityName) {
  Registry registry;
  Topic t = topic("LinuxUbundu2004Build");
  t.entity_name = "linux-ubundu-2004-build";
  registry.add_topic(t);
  EXPECT_EQ(registry.find_topic("LinuxUbundu2004Build")->entity_name,
            "linux-ubundu-2004-build");
}

TEST(RegistryTest, TopicNamesMustBeIdentifiers) {
  Registry registry;
  for (const char* bad : {"", "1Build", "Build Linux", "build-linux", "Ü"}) {
    EXPECT_THAT(
        registration_error([&] { registry.add_topic(topic(bad)); }),
        AllOf(HasSubstr("'" + std::string(bad) + "'"), HasSubstr("identifier")))
        << bad;
  }
  EXPECT_NO_THROW(registry.add_topic(topic("_Private.Build2")));
}

TEST(RegistryTest, AddingTheSameTopicTwiceIsAllowed) {
  Registry registry;
  registry.add_topic(topic("Build", "Build it"));
  EXPECT_NO_THROW(registry.add_topic(topic("Build", "Build it")));
  EXPECT_EQ(registry.topics().size(), 1u);
}

TEST(RegistryTest, ADifferentTopicOfTheSameNameIsRejectedNamingTheDifference) {
  Registry registry;
  registry.add_topic(topic("Build", "Build it"));
  EXPECT_THAT(
      registration_error([&] { registry.add_topic(topic("Build", "Other")); }),
      AllOf(HasSubstr("topic 'Build'"),
            HasSubstr("description 'Build it' vs 'Other'")));
}

TEST(RegistryTest, AddConsumerFillsTheEndpoint) {
  Registry registry;
  registry.add_topic(topic("Build"));
  registry.add_consumer(consumer("LinuxBuildConsumer", "Build"));
  const Consumer* found = registry.find_consumer("LinuxBuildConsumer");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->endpoint, "linux-build");
  EXPECT_EQ(found->topic, "Build");
  EXPECT_EQ(found->origin, "");
}

TEST(RegistryTest, AddConsumerKeepsAGivenEndpoint) {
  Registry registry;
  registry.add_topic(topic("Build"));
  Consumer c = consumer("LinuxBuildConsumer", "Build");
  c.endpoint = "linux-pool";
  registry.add_consumer(c);
  EXPECT_EQ(registry.find_consumer("LinuxBuildConsumer")->endpoint,
            "linux-pool");
}

TEST(RegistryTest, ConsumerOfAnUnknownTopicIsRejected) {
  Registry registry;
  EXPECT_THAT(registration_error([&] {
                registry.add_consumer(consumer("BuildConsumer", "Biuld"));
              }),
              AllOf(HasSubstr("consumer 'BuildConsumer'"),
                    HasSubstr("unknown topic 'Biuld'")));
}

TEST(RegistryTest, ConsumerWithoutHandlerIsRejected) {
  Registry registry;
  registry.add_topic(topic("Build"));
  Consumer c = consumer("BuildConsumer", "Build");
  c.handler = nullptr;
  EXPECT_THAT(registration_error([&] { registry.add_consumer(c); }),
              HasSubstr("no handler"));
}

TEST(RegistryTest, ConsumerNamesMustBeIdentifiers) {
  Registry registry;
  registry.add_topic(topic("Build"));
  EXPECT_THAT(registration_error([&] {
                registry.add_consumer(consumer("Build Consumer", "Build"));
              }),
              HasSubstr("identifier"));
}

TEST(RegistryTest, DuplicateConsumerIsRejected) {
  Registry registry;
  registry.add_topic(topic("Build"));
  registry.add_topic(topic("Test"));
  registry.add_consumer(consumer("WorkConsumer", "Build"));
  EXPECT_THAT(registration_error([&] {
                registry.add_consumer(consumer("WorkConsumer", "Test"));
              }),
              AllOf(HasSubstr("consumer 'WorkConsumer'"),
                    HasSubstr("exists (handling 'Build')")));
}

TEST(RegistryTest, UnknownNamesAreNotFound) {
  Registry registry;
  EXPECT_EQ(registry.find_topic("Nothing"), nullptr);
  EXPECT_EQ(registry.find_consumer("Nothing"), nullptr);
}

TEST(RegistryTest, PointersStayValidWhileTheRegistryGrows) {
  Registry registry;
  registry.add_topic(topic("Build"));
  const Topic* build = registry.find_topic("Build");
  for (int i = 0; i < 100; ++i) {
    registry.add_topic(topic("T" + std::to_string(i)));
  }
  EXPECT_EQ(build, registry.find_topic("Build"));
  EXPECT_EQ(build->name, "Build");
}

TEST(RegistryTest, ListsTopicsConsumersAndConsumersOfATopic) {
  Registry registry;
  registry.add_topic(topic("Build"));
  registry.add_topic(topic("Deploy"));
  registry.add_consumer(consumer("WindowsBuildConsumer", "Build"));
  registry.add_consumer(consumer("LinuxBuildConsumer", "Build"));
  registry.add_consumer(consumer("DeployConsumer", "Deploy"));
  EXPECT_EQ(registry.topics().size(), 2u);
  EXPECT_EQ(registry.consumers().size(), 3u);
  std::vector<std::string> names;
  for (const Consumer* c : registry.consumers_of("Build")) {
    names.push_back(c->name);
  }
  EXPECT_THAT(names, ElementsAre("LinuxBuildConsumer", "WindowsBuildConsumer"));
  EXPECT_TRUE(registry.consumers_of("Nothing").empty());
}

}  // namespace
}  // namespace isoqube
