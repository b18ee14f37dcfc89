#include "isoqube/run.h"

#include <array>
#include <utility>

#include "common/utf8.h"
#include "isoqube/errors.h"
#include "run/json_reader.h"

namespace isoqube {
namespace {

constexpr std::array<std::string_view, 5> kRunWords = {
    "pending", "running", "completed", "failed", "cancelled"};
constexpr std::array<std::string_view, 7> kStepWords = {
    "pending",   "queued", "running",  "retrying",
    "completed", "failed", "cancelled"};

template <size_t N>
std::string word_list(const std::array<std::string_view, N>& words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

template <typename Status, size_t N>
Status from_word(const std::array<std::string_view, N>& words,
                 std::string_view text, const char* kind) {
  for (size_t i = 0; i < N; ++i) {
    if (words[i] == text) return static_cast<Status>(i);
  }
  throw ConfigurationError("unknown " + std::string(kind) + " status '" +
                           std::string(text) + "': expected one of " +
                           word_list(words));
}

Json time_or_null(const std::optional<TimePoint>& t) {
  return t ? Json(format_time(*t)) : Json(nullptr);
}

// Wraps the reader's own checks so a status word that is not known names its
// field too.
template <typename Status>
Status read_status(const detail::JsonReader& reader, const char* key,
                   Status (*parse)(std::string_view)) {
  const std::string word = reader.required_string(key);
  try {
    return parse(word);
  } catch (const ConfigurationError& e) {
    reader.fail(reader.path_of(key), std::string("is invalid: ") + e.what());
  }
}

Step read_step(const Json& j, const std::string& what,
               const std::string& path) {
  const detail::JsonReader reader(j, what, path);
  Step step;
  step.spec = detail::read_step_spec(j, what, path);
  step.status = read_status(reader, "status", &step_status_from_string);
  step.attempts = reader.integer("attempts", 0);
  step.invoked_on = reader.time("invokedOn");
  step.completed_on = reader.time("completedOn");
  step.succeeded_on = reader.time("succeededOn");
  step.failed_on = reader.time("failedOn");
  step.retried_on = reader.time("retriedOn");
  step.cancelled_on = reader.time("cancelledOn");
  step.error = reader.string("error");
  const Json* output = reader.find("output");
  step.output = output != nullptr ? *output : Json(nullptr);
  return step;
}

}  // namespace

std::string_view to_string(RunStatus s) {
  return kRunWords.at(static_cast<size_t>(s));
}

std::string_view to_string(StepStatus s) {
  return kStepWords.at(static_cast<size_t>(s));
}

RunStatus run_status_from_string(std::string_view s) {
  return from_word<RunStatus>(kRunWords, s, "run");
}

StepStatus step_status_from_string(std::string_view s) {
  return from_word<StepStatus>(kStepWords, s, "step");
}

bool is_terminal(RunStatus s) {
  return s == RunStatus::kCompleted || s == RunStatus::kFailed ||
         s == RunStatus::kCancelled;
}

int Run::step_index(std::string_view name) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].spec.name == name) return static_cast<int>(i);
  }
  return -1;
}

// The spec's fields (name, topic, after, retry, payload) first, then the
// state with the seed's timestamp names.
Json to_json(const Step& step) {
  Json j = to_json(step.spec);
  j["status"] = to_string(step.status);
  j["attempts"] = step.attempts;
  j["invokedOn"] = time_or_null(step.invoked_on);
  j["completedOn"] = time_or_null(step.completed_on);
  j["succeededOn"] = time_or_null(step.succeeded_on);
  j["failedOn"] = time_or_null(step.failed_on);
  j["retriedOn"] = time_or_null(step.retried_on);
  j["cancelledOn"] = time_or_null(step.cancelled_on);
  j["error"] = step.error;
  j["output"] = step.output;
  return j;
}

Json to_json(const Run& run) {
  Json steps = Json::array();
  for (const Step& step : run.steps) steps.push_back(to_json(step));
  return {{"id", run.id},
          {"configurationId", run.configuration_id},
          {"configurationName", run.configuration_name},
          {"description", run.description},
          {"ingestionId", run.ingestion_id},
          {"status", to_string(run.status)},
          {"createdOn", format_time(run.created_on)},
          {"modifiedOn", format_time(run.modified_on)},
          {"error", run.error},
          {"payload", run.payload},
          {"steps", std::move(steps)}};
}

Json to_json(const Event& event) {
  return {{"seq", event.seq},
          {"runId", event.run_id},
          {"step", event.step},
          {"stepName", event.step_name},
          {"from", event.from},
          {"to", event.to},
          {"time", format_time(event.time)},
          {"detail", event.detail}};
}

// Keys in to_json()'s order (nlohmann's objects sort them), so that the
// text is the same.
std::string to_json_text(const Event& event) {
  std::string out;
  out.reserve(160 + event.detail.size());
  out += "{\"detail\":";
  detail::append_json_string(out, event.detail);
  out += ",\"from\":";
  detail::append_json_string(out, event.from);
  out += ",\"runId\":";
  detail::append_json_string(out, event.run_id);
  out += ",\"seq\":";
  out += std::to_string(event.seq);
  out += ",\"step\":";
  out += std::to_string(event.step);
  out += ",\"stepName\":";
  detail::append_json_string(out, event.step_name);
  out += ",\"time\":";
  detail::append_json_string(out, format_time(event.time));
  out += ",\"to\":";
  detail::append_json_string(out, event.to);
  out += '}';
  return out;
}

Step step_from_json(const Json& j) { return read_step(j, "step", ""); }

Run run_from_json(const Json& j) {
  std::string what = "run";
  if (j.is_object() && j.contains("id") && j["id"].is_string()) {
    what += " '" + j["id"].get<std::string>() + "'";
  }
  const detail::JsonReader reader(j, what);
  Run run;
  run.id = reader.required_string("id");
  run.configuration_id = reader.string("configurationId");
  run.configuration_name = reader.string("configurationName");
  run.description = reader.string("description");
  run.ingestion_id = reader.string("ingestionId");
  run.status = read_status(reader, "status", &run_status_from_string);
  run.created_on = reader.time("createdOn").value_or(TimePoint{});
  run.modified_on = reader.time("modifiedOn").value_or(TimePoint{});
  run.error = reader.string("error");
  run.payload = reader.object("payload");
  const Json& steps = reader.array("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    run.steps.push_back(
        read_step(steps[i], what, "steps[" + std::to_string(i) + "]"));
  }
  return run;
}

Event event_from_json(const Json& j) {
  const detail::JsonReader reader(j, "event");
  Event event;
  event.seq = reader.integer64("seq", 0);
  event.run_id = reader.string("runId");
  event.step = reader.integer("step", -1);
  event.step_name = reader.string("stepName");
  event.from = reader.string("from");
  event.to = reader.required_string("to");
  event.time = reader.time("time").value_or(TimePoint{});
  event.detail = reader.string("detail");
  return event;
}

}  // namespace isoqube
