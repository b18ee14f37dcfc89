#include "store/sqlite_codec.h"

#include <utility>

#include "isoqube/errors.h"
#include "run/json_reader.h"
#include "store/store_rules.h"

namespace isoqube::detail {
namespace {

[[noreturn]] void corrupt(const std::string& record, const char* column,
                          const std::string& reason) {
  throw StoreError("SQLite store holds an unreadable " + record + ": column '" +
                   column + "': " + reason);
}

Json parse_json(const std::string& text, const std::string& record,
                const char* column) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    corrupt(record, column, e.what());
  }
}

template <typename Status>
Status parse_status(const std::string& word, const std::string& record,
                    const char* column, Status (*parse)(std::string_view)) {
  try {
    return parse(word);
  } catch (const ConfigurationError& e) {
    corrupt(record, column, e.what());
  }
}

// Compact JSON text: these columns are read by programs, not people.
std::string dump(const Json& value) { return value.dump(); }

}  // namespace

std::string encode_spec(const StepSpec& spec) {
  Json j = Json::object();
  if (spec.after) j["after"] = *spec.after;
  j["retry"] = {{"attempts", spec.retry.attempts},
                {"intervalMs", spec.retry.interval.count()},
                {"backoff", spec.retry.backoff}};
  j["payload"] = spec.payload;
  return dump(j);
}

void bind_step_row(Statement& statement, const std::string& run_id, int index,
                   const Step& step) {
  statement.bind(1, run_id);
  statement.bind(2, static_cast<int64_t>(index));
  statement.bind(3, step.spec.name);
  statement.bind(4, step.spec.topic);
  statement.bind(5, encode_spec(step.spec));
  statement.bind(6, to_string(step.status));
  statement.bind(7, static_cast<int64_t>(step.attempts));
  statement.bind(8, step.invoked_on);
  statement.bind(9, step.completed_on);
  statement.bind(10, step.succeeded_on);
  statement.bind(11, step.failed_on);
  statement.bind(12, step.retried_on);
  statement.bind(13, step.cancelled_on);
  statement.bind(14, step.error);
  statement.bind(15, dump(step.output));
}

std::string encode_output(const Json& output) { return dump(output); }

Json decode_output(const std::string& text) {
  if (text == "null") return Json();
  return Json::parse(text);
}

void bind_step_update(Statement& statement, std::string_view run_id,
                      StepStatus old_status, int old_attempts,
                      const StepTransition& t,
                      const std::optional<std::string>& output) {
  statement.bind(1, run_id);
  statement.bind(2, static_cast<int64_t>(t.step));
  statement.bind(3, to_string(old_status));
  statement.bind(4, static_cast<int64_t>(old_attempts));
  statement.bind(5, to_string(t.to));
  if (t.attempts >= 0) {
    statement.bind(6, static_cast<int64_t>(t.attempts));
  } else {
    statement.bind_null(6);
  }
  statement.bind(7, t.invoked_on);
  statement.bind(8, t.completed_on);
  statement.bind(9, t.succeeded_on);
  statement.bind(10, t.failed_on);
  statement.bind(11, t.retried_on);
  statement.bind(12, t.cancelled_on);
  statement.bind(13, written_error(t));
  statement.bind(14, output);
}

void bind_run_row(Statement& statement, const Run& run) {
  statement.bind(1, run.id);
  statement.bind(2, run.configuration_id);
  statement.bind(3, run.configuration_name);
  statement.bind(4, run.description);
  statement.bind(5, run.ingestion_id);
  statement.bind(6, to_string(run.status));
  statement.bind(7, to_micros(run.created_on));
  statement.bind(8, to_micros(run.modified_on));
  statement.bind(9, run.error);
  statement.bind(10, dump(run.payload));
}

void bind_topic_row(Statement& statement, const Topic& topic) {
  statement.bind(1, topic.name);
  statement.bind(2, topic.description);
  statement.bind(3, topic.entity_name);
  statement.bind(4, topic.ns);
  statement.bind(5, dump(topic.schema));
}

Run read_run_row(const Statement& row) {
  Run run;
  run.id = row.text(0);
  const std::string record = "run '" + run.id + "'";
  run.configuration_id = row.text(1);
  run.configuration_name = row.text(2);
  run.description = row.text(3);
  run.ingestion_id = row.text(4);
  run.status =
      parse_status(row.text(5), record, "status", &run_status_from_string);
  run.created_on = from_micros(row.integer(6));
  run.modified_on = from_micros(row.integer(7));
  run.error = row.text(8);
  run.payload = parse_json(row.text(9), record, "payload");
  return run;
}

Step read_step_row(const Statement& row, const std::string& run_id) {
  const std::string record =
      "step " + std::to_string(row.integer(0)) + " of run '" + run_id + "'";
  Json spec = parse_json(row.text(3), record, "spec");
  if (!spec.is_object()) corrupt(record, "spec", "not a JSON object");
  spec["name"] = row.text(1);
  spec["topic"] = row.text(2);
  Step step;
  try {
    step.spec = read_step_spec(spec, record, "");
  } catch (const ConfigurationError& e) {
    corrupt(record, "spec", e.what());
  }
  step.status =
      parse_status(row.text(4), record, "status", &step_status_from_string);
  step.attempts = static_cast<int>(row.integer(5));
  step.invoked_on = row.time(6);
  step.completed_on = row.time(7);
  step.succeeded_on = row.time(8);
  step.failed_on = row.time(9);
  step.retried_on = row.time(10);
  step.cancelled_on = row.time(11);
  step.error = row.text(12);
  step.output = parse_json(row.text(13), record, "output");
  return step;
}

Configuration read_configuration_row(const Statement& row) {
  const std::string id = row.text(0);
  const std::string record = "configuration '" + id + "'";
  try {
    Configuration config =
        configuration_from_json(parse_json(row.text(1), record, "body"));
    config.id = id;
    return config;
  } catch (const ConfigurationError& e) {
    corrupt(record, "body", e.what());
  }
}

Event read_event_row(const Statement& row) {
  Event event;
  event.seq = row.integer(0);
  event.run_id = row.text(1);
  event.step = static_cast<int>(row.integer(2));
  event.step_name = row.text(3);
  event.from = row.text(4);
  event.to = row.text(5);
  event.time = from_micros(row.integer(6));
  event.detail = row.text(7);
  return event;
}

Topic read_topic_row(const Statement& row) {
  Topic topic;
  topic.name = row.text(0);
  topic.description = row.text(1);
  topic.entity_name = row.text(2);
  topic.ns = row.text(3);
  topic.schema =
      parse_json(row.text(4), "topic '" + topic.name + "'", "schema");
  return topic;
}

}  // namespace isoqube::detail
