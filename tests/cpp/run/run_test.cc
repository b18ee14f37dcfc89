#include "isoqube/run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "isoqube/errors.h"

namespace isoqube {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kCreated = 1795829132123456;  // 2026-11-28T01:25:32.123456Z

std::string error_of(void (*read)(const Json&), const Json& j) {
  try {
    read(j);
  } catch (const ConfigurationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted " << j.dump();
  return "";
}

Run sample_run() {
  Run run;
  run.id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  run.configuration_id = "c-1";
  run.configuration_name = "build";
  run.description = "nightly";
  run.ingestion_id = "ingest-42";
  run.status = RunStatus::kRunning;
  run.created_on = from_micros(kCreated);
  run.modified_on = from_micros(kCreated + 5'000'000);
  run.payload = {{"branch", "main"}};

  Step ingest;
  ingest.spec.name = "Ingest";
  ingest.spec.topic = "DefaultSourceIngestion";
  ingest.spec.after = std::vector<std::string>{};
  ingest.status = StepStatus::kCompleted;
  ingest.attempts = 1;
  ingest.invoked_on = from_micros(kCreated + 1'000'000);
  ingest.completed_on = from_micros(kCreated + 2'000'000);
  ingest.succeeded_on = ingest.completed_on;
  ingest.output = {{"files", 12}};

  Step build;
  build.spec.name = "Build";
  build.spec.topic = "LinuxUbuntu2004Build";
  build.spec.after = std::vector<std::string>{"Ingest"};
  build.spec.retry = RetryPolicy{3, std::chrono::milliseconds(5000), 2.0};
  build.spec.payload = {{"image", "ubuntu-20.04"}};
  build.status = StepStatus::kRetrying;
  build.attempts = 2;
  build.invoked_on = from_micros(kCreated + 3'000'000);
  build.retried_on = from_micros(kCreated + 4'000'000);
  build.error = "compiler crashed";

  run.steps = {ingest, build};
  return run;
}

TEST(StatusTest, RunStatusWordsRoundTrip) {
  for (RunStatus s :
       {RunStatus::kPending, RunStatus::kRunning, RunStatus::kCompleted,
        RunStatus::kFailed, RunStatus::kCancelled}) {
    EXPECT_EQ(run_status_from_string(to_string(s)), s) << to_string(s);
  }
  EXPECT_EQ(to_string(RunStatus::kCancelled), "cancelled");
}

TEST(StatusTest, StepStatusWordsAreTheDocumentedLowercaseWords) {
  EXPECT_EQ(to_string(StepStatus::kPending), "pending");
  EXPECT_EQ(to_string(StepStatus::kQueued), "queued");
  EXPECT_EQ(to_string(StepStatus::kRunning), "running");
  EXPECT_EQ(to_string(StepStatus::kRetrying), "retrying");
  EXPECT_EQ(to_string(StepStatus::kCompleted), "completed");
  EXPECT_EQ(to_string(StepStatus::kFailed), "failed");
  EXPECT_EQ(to_string(StepStatus::kCancelled), "cancelled");
  EXPECT_EQ(step_status_from_string("retrying"), StepStatus::kRetrying);
}

TEST(StatusTest, UnknownWordIsAConfigurationErrorListingTheValidOnes) {
  try {
    run_status_from_string("queued");  // a step status, not a run status
    FAIL() << "no ConfigurationError";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown run status 'queued'"));
    EXPECT_THAT(e.what(), HasSubstr("pending, running, completed, failed, "
                                    "cancelled"));
  }
  EXPECT_THROW(step_status_from_string("Completed"), ConfigurationError);
}

TEST(StatusTest, CompletedFailedAndCancelledRunsAreTerminal) {
  EXPECT_FALSE(is_terminal(RunStatus::kPending));
  EXPECT_FALSE(is_terminal(RunStatus::kRunning));
  EXPECT_TRUE(is_terminal(RunStatus::kCompleted));
  EXPECT_TRUE(is_terminal(RunStatus::kFailed));
  EXPECT_TRUE(is_terminal(RunStatus::kCancelled));
}

TEST(RunTest, StepIndexFindsStepsByName) {
  const isoqube::Run run = sample_run();
  EXPECT_EQ(run.step_index("Ingest"), 0);
  EXPECT_EQ(run.step_index("Build"), 1);
  EXPECT_EQ(run.step_index("LinuxUbuntu2004Build"), -1);
}

TEST(RunJsonTest, StepUsesTheSeedsTimestampNames) {
  const Json j = to_json(sample_run().steps[1]);
  EXPECT_EQ(j["name"], "Build");
  EXPECT_EQ(j["topic"], "LinuxUbuntu2004Build");
  EXPECT_EQ(j["after"], Json({"Ingest"}));
  EXPECT_EQ(j["status"], "retrying");
  EXPECT_EQ(j["attempts"], 2);
  EXPECT_EQ(j["invokedOn"], "2026-11-28T01:25:35.123456Z");
  EXPECT_EQ(j["retriedOn"], "2026-11-28T01:25:36.123456Z");
  EXPECT_TRUE(j["completedOn"].is_null());
  EXPECT_TRUE(j["succeededOn"].is_null());
  EXPECT_TRUE(j["failedOn"].is_null());
  EXPECT_TRUE(j["cancelledOn"].is_null());
  EXPECT_EQ(j["error"], "compiler crashed");
  EXPECT_TRUE(j["output"].is_null());
}

TEST(RunJsonTest, RunHasCamelCaseFields) {
  const Json j = to_json(sample_run());
  EXPECT_EQ(j["id"], "7c9e6679-7425-40de-944b-e07fc1f90ae7");
  EXPECT_EQ(j["configurationId"], "c-1");
  EXPECT_EQ(j["configurationName"], "build");
  EXPECT_EQ(j["description"], "nightly");
  EXPECT_EQ(j["ingestionId"], "ingest-42");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["createdOn"], "2026-11-28T01:25:32.123456Z");
  EXPECT_EQ(j["modifiedOn"], "2026-11-28T01:25:37.123456Z");
  EXPECT_EQ(j["error"], "");
  EXPECT_EQ(j["payload"], Json({{"branch", "main"}}));
  ASSERT_EQ(j["steps"].size(), 2u);
  EXPECT_EQ(j["steps"][0]["output"], Json({{"files", 12}}));
}

TEST(RunJsonTest, EventHasCamelCaseFields) {
  Event event;
  event.seq = 17;
  event.run_id = "r-1";
  event.step = 2;
  event.step_name = "Build";
  event.from = "queued";
  event.to = "running";
  event.time = from_micros(kCreated);
  event.detail = "LinuxBuildConsumer";
  const Json j = to_json(event);
  EXPECT_EQ(j, Json({{"seq", 17},
                     {"runId", "r-1"},
                     {"step", 2},
                     {"stepName", "Build"},
                     {"from", "queued"},
                     {"to", "running"},
                     {"time", "2026-11-28T01:25:32.123456Z"},
                     {"detail", "LinuxBuildConsumer"}}));
}

TEST(RunJsonTest, EventTextIsWhatItsJsonDumps) {
  Event event;
  event.seq = -3;
  event.run_id = "r-1";
  event.step = -1;
  event.from = "";
  event.to = "failed";
  event.time = from_micros(kCreated);
  for (const std::string& detail :
       {std::string(), std::string("plain"),
        std::string("\"quoted\" \\ back\tslash\nnew line\x01\x1f\x7f"),
        std::string("caf\xC3\xA9 \xF0\x9F\x98\x80"),
        std::string("nul \0 inside", 12)}) {
    event.detail = detail;
    event.step_name = detail;
    EXPECT_EQ(to_json_text(event), to_json(event).dump()) << detail;
  }
  // Bytes that are not UTF-8 become replacement characters, as dump()
  // writes them when told to replace
  event.detail = "disk \xFF full";
  EXPECT_EQ(
      to_json_text(event),
      to_json(event).dump(-1, ' ', false, Json::error_handler_t::replace));
  EXPECT_EQ(Json::parse(to_json_text(event))["detail"],
            "disk \xEF\xBF\xBD full");
}

TEST(RunJsonTest, RunRoundTripsThroughJson) {
  const isoqube::Run run = sample_run();
  const isoqube::Run back = run_from_json(to_json(run));
  EXPECT_EQ(to_json(back), to_json(run));
  EXPECT_EQ(back.created_on, run.created_on);
  EXPECT_EQ(back.steps[1].status, StepStatus::kRetrying);
  EXPECT_EQ(back.steps[1].spec.retry.attempts, 3);
  EXPECT_EQ(back.steps[0].succeeded_on, run.steps[0].succeeded_on);
  EXPECT_FALSE(back.steps[1].completed_on.has_value());
}

TEST(RunJsonTest, StepRoundTripsThroughJson) {
  const Step step = sample_run().steps[0];
  EXPECT_EQ(to_json(step_from_json(to_json(step))), to_json(step));
}

TEST(RunJsonTest, EventRoundTripsThroughJson) {
  Event event;
  event.seq = 5;
  event.run_id = "r-2";
  event.from = "";
  event.to = "pending";
  event.time = from_micros(kCreated);
  EXPECT_EQ(to_json(event_from_json(to_json(event))), to_json(event));
}

TEST(RunJsonTest, UnknownStepStatusIsNamedByItsPath) {
  Json j = to_json(sample_run());
  j["steps"][1]["status"] = "exploded";
  EXPECT_THAT(error_of([](const Json& x) { run_from_json(x); }, j),
              HasSubstr("'steps[1].status' is invalid: unknown step status "
                        "'exploded'"));
}

TEST(RunJsonTest, BadTimestampIsNamedByItsPath) {
  Json j = to_json(sample_run());
  j["steps"][0]["invokedOn"] = "monday";
  EXPECT_THAT(error_of([](const Json& x) { run_from_json(x); }, j),
              HasSubstr("'steps[0].invokedOn' is not an ISO-8601 UTC time"));
}

TEST(RunJsonTest, RunWithoutIdIsRejected) {
  Json j = to_json(sample_run());
  j.erase("id");
  EXPECT_THAT(error_of([](const Json& x) { run_from_json(x); }, j),
              HasSubstr("'id' is missing"));
}

TEST(RunJsonTest, RunThatIsNotAnObjectIsRejected) {
  EXPECT_THAT(error_of([](const Json& x) { run_from_json(x); }, Json(3)),
              HasSubstr("must be a JSON object, got number"));
}

TEST(RunJsonTest, EventWithoutTargetStatusIsRejected) {
  EXPECT_THAT(error_of([](const Json& x) { event_from_json(x); },
                       {{"runId", "r"}, {"seq", 1}}),
              HasSubstr("'to' is missing"));
}

}  // namespace
}  // namespace isoqube
