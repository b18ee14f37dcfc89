#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "isoqube/errors.h"
#include "isoqube/message.h"

namespace isoqube {
namespace {

using ::testing::HasSubstr;

Envelope step_message(Json message) {
  Envelope e;
  e.message_type = {"urn:message:Isoqube.Topics:Build"};
  e.message = std::move(message);
  return e;
}

Json coordinates() {
  return {{"correlationId", "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
          {"ingestionId", "ingest-1"},
          {"step", "Build"},
          {"stepIndex", 3},
          {"attempt", 2},
          {"payload", Json::object()}};
}

std::string step_ref_error(const Json& message) {
  try {
    step_ref(step_message(message));
  } catch (const MessageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "step_ref accepted " << message.dump();
  return "";
}

TEST(StepRefTest, ReadsRunStepAndAttemptFromTheMessage) {
  const StepRef ref = step_ref(step_message(coordinates()));
  EXPECT_EQ(ref.run_id, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
  EXPECT_EQ(ref.step, 3);
  EXPECT_EQ(ref.attempt, 2);
}

TEST(StepRefTest, ReadsAMessageDecodedFromText) {
  const Envelope decoded = decode(encode(step_message(coordinates())));
  EXPECT_EQ(step_ref(decoded).step, 3);
}

TEST(StepRefTest, ReadsAMessagePublishedOutsideAnyRun) {
  Json message = coordinates();
  message["correlationId"] = "";
  message["stepIndex"] = -1;
  const StepRef ref = step_ref(step_message(message));
  EXPECT_EQ(ref.run_id, "");
  EXPECT_EQ(ref.step, -1);
}

TEST(StepRefTest, MissingCorrelationIdIsNamed) {
  Json message = coordinates();
  message.erase("correlationId");
  EXPECT_THAT(step_ref_error(message), HasSubstr("no 'correlationId'"));
}

TEST(StepRefTest, CorrelationIdOfTheWrongTypeIsNamed) {
  Json message = coordinates();
  message["correlationId"] = 12;
  EXPECT_THAT(
      step_ref_error(message),
      HasSubstr("'correlationId' must be a string or null, got number"));
}

TEST(StepRefTest,
     AMessageWithoutStepIndexIsAContractNamingItsRunByCorrelationId) {
  // The seed's TopicBase, as System.Text.Json writes it.
  const StepRef ref =
      step_ref(step_message({{"timestamp", "2024-03-28T10:15:30.1234567Z"},
                             {"correlationId", "66057c2e8d4b1c0a6f1e9a31"},
                             {"ingestionId", "66057c2e8d4b1c0a6f1e9a31"},
                             {"predefinedFlow", nullptr},
                             {"flow", nullptr}}));
  EXPECT_FALSE(ref.names_step);
  EXPECT_EQ(ref.run_id, "66057c2e8d4b1c0a6f1e9a31");
  EXPECT_EQ(ref.step, -1);
}

TEST(StepRefTest, AContractWithoutCorrelationIdTakesTheEnvelopes) {
  Envelope envelope = step_message({{"orderId", 7}});
  EXPECT_EQ(step_ref(envelope).run_id, "");
  envelope.correlation_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  EXPECT_EQ(step_ref(envelope).run_id, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
  EXPECT_FALSE(step_ref(envelope).names_step);
}

TEST(StepRefTest, AContractsCorrelationIdThatIsNoStringIsNoRun) {
  Envelope envelope = step_message({{"correlationId", nullptr}});
  EXPECT_EQ(step_ref(envelope).run_id, "");
  envelope.message = {{"correlationId", 12}};
  EXPECT_EQ(step_ref(envelope).run_id, "");
}

TEST(StepRefTest, NullCorrelationIdIsAMessageOutsideAnyRun) {
  Json message = coordinates();
  message["correlationId"] = nullptr;
  message["stepIndex"] = -1;
  const StepRef ref = step_ref(step_message(message));
  EXPECT_TRUE(ref.names_step);
  EXPECT_EQ(ref.run_id, "");
}

TEST(StepRefTest, AStepIndexWithoutARunIsRejected) {
  Json message = coordinates();
  message["correlationId"] = nullptr;
  EXPECT_THAT(step_ref_error(message), HasSubstr("names step 3 but no run"));
}

TEST(StepRefTest, FractionalStepIndexIsRejected) {
  Json message = coordinates();
  message["stepIndex"] = 1.5;
  EXPECT_THAT(step_ref_error(message),
              HasSubstr("'stepIndex' must be an integer, got number"));
}

TEST(StepRefTest, StepIndexAsTextIsRejected) {
  Json message = coordinates();
  message["stepIndex"] = "2";
  EXPECT_THAT(step_ref_error(message),
              HasSubstr("'stepIndex' must be an integer, got string"));
}

TEST(StepRefTest, StepIndexBelowMinusOneIsOutOfRange) {
  Json message = coordinates();
  message["stepIndex"] = -2;
  EXPECT_THAT(step_ref_error(message),
              HasSubstr("'stepIndex' is out of range: -2"));
}

TEST(StepRefTest, StepIndexBeyondIntIsOutOfRange) {
  const auto big = int64_t{std::numeric_limits<int>::max()} + 1;
  Json message = coordinates();
  message["stepIndex"] = big;  // built in process: a signed JSON integer
  EXPECT_THAT(step_ref_error(message),
              HasSubstr("'stepIndex' is out of range"));
  const Json parsed = Json::parse(message.dump());  // parsed: unsigned
  EXPECT_THAT(step_ref_error(parsed), HasSubstr("'stepIndex' is out of range"));
}

TEST(StepRefTest, MissingAttemptIsNamed) {
  Json message = coordinates();
  message.erase("attempt");
  EXPECT_THAT(step_ref_error(message), HasSubstr("no 'attempt'"));
}

TEST(StepRefTest, NegativeAttemptIsOutOfRange) {
  Json message = coordinates();
  message["attempt"] = -1;
  EXPECT_THAT(step_ref_error(message),
              HasSubstr("'attempt' is out of range: -1"));
}

TEST(StepRefTest, MessageThatIsNotAnObjectIsRejected) {
  EXPECT_THAT(step_ref_error(Json::array()),
              HasSubstr("must be an object, got array"));
}

}  // namespace
}  // namespace isoqube
