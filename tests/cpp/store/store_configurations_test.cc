// Conformance: configurations and topics.
#include <gmock/gmock.h>

#include "isoqube/errors.h"
#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> names_of(const std::vector<Configuration>& configs) {
  std::vector<std::string> names;
  for (const Configuration& c : configs) names.push_back(c.name);
  return names;
}

TEST_P(StoreConformanceTest, SavedConfigurationIsFoundByIdAndByName) {
  // Given
  const Configuration config = sample_configuration("nightly");
  // When
  store().save_configuration(config);
  // Then
  const auto by_id = store().find_configuration(config.id);
  const auto by_name = store().find_configuration("nightly");
  ASSERT_TRUE(by_id.has_value());
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(to_json(*by_id), to_json(config));
  EXPECT_EQ(to_json(*by_name), to_json(config));
  EXPECT_EQ(by_id->steps[1].retry.interval, std::chrono::milliseconds(1500));
  EXPECT_EQ(by_id->steps[1].after, std::vector<std::string>{"Ingest"});
}

TEST_P(StoreConformanceTest, UnknownConfigurationIsNotFound) {
  store().save_configuration(sample_configuration("nightly"));
  EXPECT_FALSE(store().find_configuration("weekly").has_value());
  EXPECT_FALSE(store().find_configuration(new_uuid()).has_value());
}

TEST_P(StoreConformanceTest, SavingTheSameIdAgainReplacesTheConfiguration) {
  // Given
  Configuration config = sample_configuration("nightly");
  store().save_configuration(config);
  // When: renamed and shortened
  config.name = "nightly-v2";
  config.steps.pop_back();
  store().save_configuration(config);
  // Then
  EXPECT_FALSE(store().find_configuration("nightly").has_value());
  const auto found = store().find_configuration("nightly-v2");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, config.id);
  EXPECT_EQ(found->steps.size(), 1u);
  EXPECT_EQ(store().list_configurations().size(), 1u);
}

TEST_P(StoreConformanceTest, ConfigurationsAreListedByName) {
  store().save_configuration(sample_configuration("weekly"));
  store().save_configuration(sample_configuration("hourly"));
  store().save_configuration(sample_configuration("nightly"));

  EXPECT_THAT(names_of(store().list_configurations()),
              ElementsAre("hourly", "nightly", "weekly"));
}

TEST_P(StoreConformanceTest, DuplicateConfigurationNameIsRejected) {
  // Given
  const Configuration first = sample_configuration("nightly");
  store().save_configuration(first);
  // When / Then
  try {
    store().save_configuration(sample_configuration("nightly"));
    FAIL() << "a second configuration named 'nightly' was saved";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("a configuration named 'nightly' already exists"));
  }
  // Then the first is untouched
  const auto found = store().find_configuration("nightly");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, first.id);
  EXPECT_EQ(store().list_configurations().size(), 1u);
}

TEST_P(StoreConformanceTest, ConfigurationWithoutIdIsRejected) {
  Configuration config = sample_configuration("nightly");
  config.id.clear();
  EXPECT_THROW(store().save_configuration(config), ConfigurationError);
  EXPECT_TRUE(store().list_configurations().empty());
}

TEST_P(StoreConformanceTest, TopicsAreUpsertedByNameAndListedByName) {
  // Given
  Topic build{"LinuxBuild", "Build on Linux", "linux-build", "Isoqube.Topics",
              Json{{"type", "object"}}};
  Topic ingest{"Ingest", "Ingestion", "ingest", "Other.Ns", Json()};
  store().save_topics({build, ingest});
  // When: one is saved again with a new description
  build.description = "Build on Linux, again";
  store().save_topics({build});
  // Then
  const std::vector<Topic> topics = store().list_topics();
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].name, "Ingest");
  EXPECT_EQ(topics[0].ns, "Other.Ns");
  EXPECT_TRUE(topics[0].schema.is_null());
  EXPECT_EQ(topics[1].name, "LinuxBuild");
  EXPECT_EQ(topics[1].description, "Build on Linux, again");
  EXPECT_EQ(topics[1].entity_name, "linux-build");
  EXPECT_EQ(topics[1].schema, (Json{{"type", "object"}}));
}

}  // namespace
}  // namespace isoqube::testing
