#include "isoqube/configuration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "isoqube/errors.h"
#include "isoqube/registry.h"

namespace isoqube {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Names = std::vector<std::string>;

StepSpec step(std::string topic, std::optional<Names> after = std::nullopt,
              std::string name = "") {
  StepSpec s;
  s.topic = std::move(topic);
  s.after = std::move(after);
  s.name = std::move(name);
  return s;
}

Configuration config_of(std::vector<StepSpec> steps) {
  Configuration c;
  c.name = "build";
  c.description = "build and deploy";
  c.steps = std::move(steps);
  return c;
}

std::string normalize_error(const Configuration& config,
                            const Registry* registry = nullptr) {
  try {
    normalize(config, registry);
  } catch (const ConfigurationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "normalize accepted " << to_json(config).dump();
  return "";
}

std::string from_json_error(const Json& j) {
  try {
    configuration_from_json(j);
  } catch (const ConfigurationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "configuration_from_json accepted " << j.dump();
  return "";
}

// Position of each step index in `order`.
int position(const std::vector<int>& order, int step) {
  return static_cast<int>(std::find(order.begin(), order.end(), step) -
                          order.begin());
}

TEST(RetryPolicyTest, FirstRetryWaitsTheIntervalAndLaterOnesBackOff) {
  RetryPolicy retry{5, milliseconds(1000), 2.0};
  EXPECT_EQ(retry.delay_before(2), milliseconds(1000));
  EXPECT_EQ(retry.delay_before(3), milliseconds(2000));
  EXPECT_EQ(retry.delay_before(4), milliseconds(4000));
}

TEST(RetryPolicyTest, NoDelayBeforeTheFirstAttempt) {
  RetryPolicy retry{3, milliseconds(1000), 2.0};
  EXPECT_EQ(retry.delay_before(1), milliseconds(0));
}

TEST(RetryPolicyTest, ConstantIntervalWithoutBackoff) {
  RetryPolicy retry{3, milliseconds(5000), 1.0};
  EXPECT_EQ(retry.delay_before(2), milliseconds(5000));
  EXPECT_EQ(retry.delay_before(3), milliseconds(5000));
}

TEST(RetryPolicyTest, HugeBackoffSaturatesInsteadOfOverflowing) {
  RetryPolicy retry{100, milliseconds(1000), 1000.0};
  EXPECT_EQ(retry.delay_before(100), milliseconds::max());
}

TEST(NormalizeTest, NamesStepsAfterTheirTopicsAndChainsThem) {
  const Configuration c = normalize(
      config_of({step("Ingest"), step("Download"), step("Build")}), nullptr);
  ASSERT_EQ(c.steps.size(), 3u);
  EXPECT_EQ(c.steps[0].name, "Ingest");
  EXPECT_THAT(*c.steps[0].after, ElementsAre());
  EXPECT_THAT(*c.steps[1].after, ElementsAre("Ingest"));
  EXPECT_THAT(*c.steps[2].after, ElementsAre("Download"));
}

TEST(NormalizeTest, KeepsExplicitAfterIncludingAnEmptyOne) {
  const Configuration c =
      normalize(config_of({step("Ingest"), step("Lint", Names{}),
                           step("Build", Names{"Ingest", "Lint"})}),
                nullptr);
  EXPECT_THAT(*c.steps[1].after, ElementsAre());
  EXPECT_THAT(*c.steps[2].after, ElementsAre("Ingest", "Lint"));
}

TEST(NormalizeTest, DropsRepeatedNamesInAfter) {
  const Configuration c =
      normalize(config_of({step("A"), step("B", Names{"A", "A"})}), nullptr);
  EXPECT_THAT(*c.steps[1].after, ElementsAre("A"));
}

TEST(NormalizeTest, ChecksTopicsAgainstTheRegistryWhenGiven) {
  Registry registry;
  registry.add_topic(Topic{"Build", "", "", "Isoqube.Topics", nullptr});
  EXPECT_NO_THROW(normalize(config_of({step("Build")}), &registry));
  EXPECT_EQ(
      normalize_error(config_of({step("Build"), step("Deploy")}), &registry),
      "configuration 'build': step 'Deploy' uses unknown topic 'Deploy'");
}

TEST(NormalizeTest, WithoutRegistryAnyTopicIsAccepted) {
  EXPECT_NO_THROW(normalize(config_of({step("Anything")}), nullptr));
}

TEST(NormalizeTest, EmptyNameIsRejected) {
  Configuration c = config_of({step("A")});
  c.name = "  ";
  EXPECT_EQ(normalize_error(c), "configuration has no name");
}

TEST(NormalizeTest, NoStepsIsRejected) {
  EXPECT_EQ(normalize_error(config_of({})),
            "configuration 'build' has no steps");
}

TEST(NormalizeTest, StepWithoutTopicIsRejected) {
  EXPECT_EQ(normalize_error(config_of({step("A"), step("")})),
            "configuration 'build': step 2 has no topic");
}

TEST(NormalizeTest, DuplicateStepNamesAreRejectedWithBothPositions) {
  EXPECT_THAT(
      normalize_error(config_of({step("Build"), step("Test"), step("Build")})),
      AllOf(HasSubstr("configuration 'build': duplicate step name "
                      "'Build' (steps 1 and 3)"),
            HasSubstr("own name")));
}

TEST(NormalizeTest, TheSameTopicTwiceNeedsDistinctNames) {
  EXPECT_NO_THROW(normalize(config_of({step("Build", {}, "BuildDebug"),
                                       step("Build", {}, "BuildRelease")}),
                            nullptr));
}

TEST(NormalizeTest, WaitingForAnUnknownStepNamesBoth) {
  EXPECT_EQ(normalize_error(
                config_of({step("Build"), step("Deploy", Names{"Bild"})})),
            "configuration 'build': step 'Deploy' waits for unknown step "
            "'Bild'");
}

TEST(NormalizeTest, WaitingForItselfIsRejected) {
  EXPECT_EQ(normalize_error(config_of({step("Build", Names{"Build"})})),
            "configuration 'build': step 'Build' waits for itself");
}

TEST(NormalizeTest, CycleIsRejectedNamingItsSteps) {
  const std::string error = normalize_error(
      config_of({step("Ingest", Names{}), step("A", Names{"Ingest", "C"}),
                 step("B", Names{"A"}), step("C", Names{"B"})}));
  EXPECT_THAT(error, HasSubstr("configuration 'build': steps wait for each "
                               "other in a cycle: 'A' -> 'C' -> 'B' -> 'A'"));
  EXPECT_THAT(error, Not(HasSubstr("Ingest")));
}

TEST(NormalizeTest, TwoStepCycleIsRejected) {
  EXPECT_THAT(normalize_error(
                  config_of({step("A", Names{"B"}), step("B", Names{"A"})})),
              HasSubstr("cycle: 'A' -> 'B' -> 'A'"));
}

TEST(NormalizeTest, RetryAttemptsMustBeOneToAHundred) {
  Configuration c = config_of({step("Build")});
  c.steps[0].retry.attempts = 0;
  EXPECT_EQ(normalize_error(c),
            "configuration 'build': step 'Build' has retry attempts 0; "
            "expected 1 to 100");
  c.steps[0].retry.attempts = 101;
  EXPECT_THAT(normalize_error(c), HasSubstr("retry attempts 101"));
  c.steps[0].retry.attempts = 100;
  EXPECT_NO_THROW(normalize(c, nullptr));
}

TEST(NormalizeTest, NegativeRetryIntervalIsRejected) {
  Configuration c = config_of({step("Build")});
  c.steps[0].retry.interval = milliseconds(-5);
  EXPECT_THAT(normalize_error(c),
              HasSubstr("step 'Build' has a negative retry interval (-5 ms)"));
}

TEST(NormalizeTest, BackoffBelowOneIsRejected) {
  Configuration c = config_of({step("Build")});
  c.steps[0].retry.backoff = 0.5;
  EXPECT_THAT(normalize_error(c),
              HasSubstr("step 'Build' has retry backoff 0.5"));
}

TEST(NormalizeTest, PayloadMustBeAnObject) {
  Configuration c = config_of({step("Build")});
  c.steps[0].payload = Json::array({1});
  EXPECT_THAT(normalize_error(c),
              HasSubstr("step 'Build' has a payload that is not a JSON "
                        "object (got array)"));
}

TEST(NormalizeTest, NormalizingTwiceChangesNothing) {
  const Configuration once = normalize(
      config_of({step("A"), step("B"), step("C", Names{"A"})}), nullptr);
  const Configuration twice = normalize(once, nullptr);
  EXPECT_EQ(to_json(twice), to_json(once));
}

TEST(TopologicalOrderTest, SequentialConfigurationKeepsItsOrder) {
  EXPECT_THAT(topological_order(
                  config_of({step("A"), step("B"), step("C"), step("D")})),
              ElementsAre(0, 1, 2, 3));
}

TEST(TopologicalOrderTest, StepsListedBeforeTheirDependenciesComeAfterThem) {
  const auto order = topological_order(
      config_of({step("Deploy", Names{"Build"}), step("Build", Names{"Ingest"}),
                 step("Ingest", Names{})}));
  EXPECT_THAT(order, ElementsAre(2, 1, 0));
}

TEST(TopologicalOrderTest, DiamondPutsTheJoinLast) {
  const auto order = topological_order(
      config_of({step("Ingest"), step("Linux", Names{"Ingest"}),
                 step("Windows", Names{"Ingest"}),
                 step("Release", Names{"Linux", "Windows"})}));
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order.front(), 0);
  EXPECT_EQ(order.back(), 3);
  EXPECT_LT(position(order, 0), position(order, 1));
  EXPECT_LT(position(order, 0), position(order, 2));
}

TEST(TopologicalOrderTest, CycleIsAConfigurationError) {
  EXPECT_THROW(topological_order(
                   config_of({step("A", Names{"B"}), step("B", Names{"A"})})),
               ConfigurationError);
}

TEST(ConfigurationJsonTest, RoundTripsThroughJson) {
  Configuration c = config_of(
      {step("Ingest", Names{}), step("Build", std::nullopt, "BuildIt")});
  c.id = "4b4c6f3e-0000-4000-8000-000000000001";
  c.steps[1].retry = RetryPolicy{3, milliseconds(5000), 1.5};
  c.steps[1].payload = {{"image", "ubuntu"}};
  const Configuration back = configuration_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(back.id, c.id);
  EXPECT_FALSE(back.steps[1].after.has_value());
  EXPECT_EQ(back.steps[1].retry.interval, milliseconds(5000));
  EXPECT_EQ(back.steps[1].retry.backoff, 1.5);
}

TEST(ConfigurationJsonTest, WritesCamelCaseAndOmitsUnsetAfter) {
  Configuration c = config_of({step("Ingest", Names{}), step("Build")});
  c.steps[1].retry = RetryPolicy{3, milliseconds(250), 2.0};
  const Json j = to_json(c);
  EXPECT_EQ(j["name"], "build");
  EXPECT_EQ(j["description"], "build and deploy");
  EXPECT_EQ(j["steps"][0]["after"], Json::array());
  EXPECT_FALSE(j["steps"][1].contains("after"));
  EXPECT_EQ(j["steps"][1]["retry"],
            Json({{"attempts", 3}, {"intervalMs", 250}, {"backoff", 2.0}}));
  EXPECT_EQ(j["steps"][1]["payload"], Json::object());
}

TEST(ConfigurationJsonTest, ReadsTheSeedsShapeAsSequentialSteps) {
  const Json seed = {{"id", "c-1"},
                     {"name", "Nightly"},
                     {"description", "nightly build"},
                     {"topics",
                      {{{"name", "DefaultSourceIngestion"},
                        {"description", "Default ingestion"},
                        {"type", "X"},
                        {"version", "1"}},
                       {{"name", "DefaultSourceDownload"}}}}};
  const Configuration c = normalize(configuration_from_json(seed), nullptr);
  EXPECT_EQ(c.name, "Nightly");
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.steps[0].topic, "DefaultSourceIngestion");
  EXPECT_THAT(*c.steps[1].after, ElementsAre("DefaultSourceIngestion"));
}

TEST(ConfigurationJsonTest, ReadsStepsGivenAsTopicNames) {
  const Configuration c = configuration_from_json(
      {{"name", "short"}, {"steps", {"Ingest", "Build"}}});
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.steps[1].topic, "Build");
}

TEST(ConfigurationJsonTest, MissingFieldsTakeDefaults) {
  const Configuration c = configuration_from_json(
      {{"name", "d"}, {"steps", {{{"topic", "Build"}}}}});
  EXPECT_EQ(c.id, "");
  EXPECT_EQ(c.steps[0].retry.attempts, 1);
  EXPECT_EQ(c.steps[0].payload, Json::object());
  EXPECT_FALSE(c.steps[0].after.has_value());
}

TEST(ConfigurationJsonTest, NotAnObjectIsRejected) {
  EXPECT_THAT(from_json_error(Json::array()),
              HasSubstr("must be a JSON object, got array"));
}

TEST(ConfigurationJsonTest, StepsThatAreNotAnArrayAreRejected) {
  EXPECT_EQ(from_json_error({{"name", "b"}, {"steps", "Build"}}),
            "invalid configuration 'b': 'steps' must be an array, got string");
}

TEST(ConfigurationJsonTest, StepWithoutTopicIsNamedByItsPath) {
  EXPECT_EQ(from_json_error({{"name", "b"},
                             {"steps", {{{"topic", "A"}}, {{"name", "x"}}}}}),
            "invalid configuration 'b': 'steps[1].topic' is missing");
}

TEST(ConfigurationJsonTest, RetryFieldOfTheWrongTypeIsNamedByItsPath) {
  const Json retry = {{"attempts", "3"}};
  const Json j = {{"name", "b"},
                  {"steps", {{{"topic", "A"}, {"retry", retry}}}}};
  EXPECT_EQ(from_json_error(j),
            "invalid configuration 'b': 'steps[0].retry.attempts' must be an "
            "integer, got string");
}

TEST(ConfigurationJsonTest, AfterMustBeAnArrayOfStrings) {
  const Json j = {{"name", "b"},
                  {"steps", {{{"topic", "A"}, {"after", {"X", 1}}}}}};
  EXPECT_THAT(from_json_error(j),
              HasSubstr("'steps[0].after[1]' must be a string, got number"));
}

TEST(ConfigurationJsonTest, PayloadMustBeAnObject) {
  const Json j = {{"name", "b"}, {"steps", {{{"topic", "A"}, {"payload", 5}}}}};
  EXPECT_THAT(from_json_error(j),
              HasSubstr("'steps[0].payload' must be an object, got number"));
}

// The HTTP API sends every configuration with the seed's topics beside its
// steps; what it sends must be accepted back unchanged.
Json with_seed_topics(Json config) {
  Json topics = Json::array();
  for (const Json& step : config["steps"]) {
    const std::string topic = step["topic"].get<std::string>();
    topics.push_back({{"name", topic},
                      {"description", ""},
                      {"type", "Isoqube.Topics." + topic},
                      {"version", "1.0"}});
  }
  config["topics"] = std::move(topics);
  return config;
}

TEST(ConfigurationJsonTest, StepsWithTheSeedsTopicsBesideThemReadAsTheSteps) {
  Configuration c = config_of(
      {step("Ingest", Names{}), step("Build", Names{"Ingest"}, "BuildIt")});
  c.steps[1].retry = RetryPolicy{3, milliseconds(5000), 2.0};
  const Json sent = with_seed_topics(to_json(normalize(c, nullptr)));

  const Configuration back = configuration_from_json(sent);

  EXPECT_EQ(to_json(back), to_json(normalize(c, nullptr)));
}

TEST(ConfigurationJsonTest, TopicsThatNameOtherTopicsThanTheStepsAreRejected) {
  Json sent = with_seed_topics(to_json(config_of({step("A"), step("B")})));
  sent["topics"][1]["name"] = "C";
  EXPECT_EQ(from_json_error(sent),
            "invalid configuration 'build': 'topics[1].name' is 'C' but "
            "'steps[1].topic' is 'B'; when both are given, 'topics' must list "
            "the steps' topics in order (or leave 'topics' out)");
}

TEST(ConfigurationJsonTest, TopicsOfAnotherLengthThanTheStepsAreRejected) {
  EXPECT_THAT(from_json_error(
                  {{"name", "b"}, {"steps", {"A", "B"}}, {"topics", {"A"}}}),
              HasSubstr("'topics' has 1 entries but 'steps' has 2"));
}

TEST(ConfigurationJsonTest, UnknownKeysAreRejectedNamingTheAcceptedOnes) {
  const Json step = {{"topic", "A"}, {"retries", 3}};
  EXPECT_EQ(from_json_error({{"name", "b"}, {"steps", {step}}}),
            "invalid configuration 'b': 'steps[0].retries' is not a known "
            "key; the keys here are name, topic, after, retry, payload");
  EXPECT_THAT(from_json_error({{"name", "b"}, {"steps", {"A"}}, {"stpes", 1}}),
              HasSubstr("'stpes' is not a known key; the keys here are id, "
                        "name, description, steps, topics"));
  const Json retry = {{"attempts", 2}, {"delay", 5}};
  EXPECT_THAT(
      from_json_error(
          {{"name", "b"}, {"steps", {{{"topic", "A"}, {"retry", retry}}}}}),
      HasSubstr("'steps[0].retry.delay' is not a known key; the keys here are "
                "attempts, interval, intervalMs, backoff"));
  const Json topic = {{"name", "A"}, {"verison", "1"}};
  EXPECT_THAT(from_json_error({{"name", "b"}, {"topics", {topic}}}),
              HasSubstr("'topics[0].verison' is not a known key"));
}

TEST(ConfigurationJsonTest, RegisteredTopicsAreAcceptedAsTheSeedsTopics) {
  // What GET /api/registeredtopics sends, which the seed's Configurator put
  // into a configuration's topics as they came.
  const Json topic = {{"name", "A"},       {"description", "d"},
                      {"entityName", "a"}, {"namespace", "Isoqube.Topics"},
                      {"schema", nullptr}, {"type", "Isoqube.Topics.A"},
                      {"version", "1.0"},  {"consumers", Json::array()}};
  const Configuration c =
      configuration_from_json({{"name", "b"}, {"topics", {topic}}});
  ASSERT_EQ(c.steps.size(), 1u);
  EXPECT_EQ(c.steps[0].topic, "A");
}

TEST(ConfigurationJsonTest, RetryIntervalIsReadInSecondsOrMilliseconds) {
  const Json seconds = {{"attempts", 2}, {"interval", 0.5}};
  const Json millis = {{"attempts", 2}, {"intervalMs", 250}};
  const Configuration c =
      configuration_from_json({{"name", "b"},
                               {"steps",
                                {{{"topic", "A"}, {"retry", seconds}},
                                 {{"topic", "B"}, {"retry", millis}}}}});
  EXPECT_EQ(c.steps[0].retry.interval, milliseconds(500));
  EXPECT_EQ(c.steps[1].retry.interval, milliseconds(250));
  EXPECT_EQ(to_json(c)["steps"][0]["retry"]["intervalMs"], 500);
}

TEST(ConfigurationJsonTest, RetryIntervalInBothUnitsIsRejected) {
  const Json retry = {{"interval", 0.5}, {"intervalMs", 500}};
  EXPECT_THAT(
      from_json_error(
          {{"name", "b"}, {"steps", {{{"topic", "A"}, {"retry", retry}}}}}),
      HasSubstr("'steps[0].retry.interval' and 'intervalMs' are both given"));
}

TEST(ConfigurationJsonTest, RetryIntervalBeyondAYearIsOutOfRange) {
  const Json retry = {{"interval", 1e300}};
  EXPECT_THAT(
      from_json_error(
          {{"name", "b"}, {"steps", {{{"topic", "A"}, {"retry", retry}}}}}),
      HasSubstr("'steps[0].retry.interval' is out of range"));
}

TEST(ConfigurationJsonTest, NameOfTheWrongTypeIsRejected) {
  EXPECT_THAT(from_json_error({{"name", 3}, {"steps", {"A"}}}),
              HasSubstr("'name' must be a string, got number"));
}

// The field an error is about, as data: the path and the problem alone.
struct FieldError {
  std::string field;
  std::string problem;
};

FieldError field_error(const Json& j, const Registry* registry = nullptr) {
  try {
    normalize(configuration_from_json(j), registry);
  } catch (const ConfigurationError& e) {
    return {e.field(), e.problem()};
  }
  ADD_FAILURE() << "accepted " << j.dump();
  return {};
}

Json one_step(Json step) {
  return {{"name", "build"}, {"steps", Json::array({std::move(step)})}};
}

TEST(ConfigurationErrorTest, NamesTheFieldItIsAboutAsData) {
  Registry registry;
  registry.add_topic(Topic{"A", "", "", "Isoqube.Topics", nullptr});
  const Json a = {{"topic", "A"}};
  const Json retry_of = {{"topic", "A"}, {"retry", {{"attempts", 0}}}};
  struct Case {
    Json config;
    std::string field;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {{{"steps", {"A"}}}, "name", "configuration has no name"},
      {{{"name", 3}, {"steps", {"A"}}},
       "name",
       "'name' must be a string, got number"},
      {{{"name", "build"}, {"steps", Json::array()}}, "steps", "has no steps"},
      {one_step({{"topic", "A"}, {"retry", {{"attempts", "x"}}}}),
       "steps[0].retry.attempts",
       "'steps[0].retry.attempts' must be an integer, got string"},
      {one_step(retry_of), "steps[0].retry.attempts",
       "step 'A' has retry attempts 0; expected 1 to 100"},
      {one_step({{"topic", "A"}, {"retry", {{"intervalMs", -1}}}}),
       "steps[0].retry.intervalMs",
       "step 'A' has a negative retry interval (-1 ms)"},
      {one_step({{"topic", "A"}, {"after", {"A"}}}), "steps[0].after",
       "step 'A' waits for itself"},
      {{{"name", "build"}, {"steps", {a, {{"topic", "B"}}}}},
       "steps[1].topic",
       "step 'B' uses unknown topic 'B'"},
      {{{"name", "build"}, {"steps", {a, a}}},
       "steps[1].name",
       "duplicate step name 'A' (steps 1 and 2); give one of them its own "
       "name"},
      {{{"name", "build"},
        {"steps",
         {{{"name", "x"}, {"topic", "A"}, {"after", {"y"}}},
          {{"name", "y"}, {"topic", "A"}, {"after", {"x"}}}}}},
       "steps[0].after",
       "steps wait for each other in a cycle: 'x' -> 'y' -> 'x' (each waits "
       "for the next)"},
      {{{"name", "build"},
        {"topics", {{{"name", "A"}}, {{"description", ""}}}}},
       "topics[1].name",
       "'topics[1].name' is missing"},
  };
  for (const Case& c : cases) {
    const FieldError error = field_error(c.config, &registry);
    EXPECT_EQ(error.field, c.field) << c.config.dump();
    EXPECT_EQ(error.problem, c.problem) << c.config.dump();
  }
}

TEST(ConfigurationErrorTest, AnErrorAboutNoFieldHasItsMessageAsTheProblem) {
  const ConfigurationError error("concurrency must be at least 1, not 0");
  EXPECT_EQ(error.field(), "");
  EXPECT_EQ(error.problem(), "concurrency must be at least 1, not 0");
}

}  // namespace
}  // namespace isoqube
