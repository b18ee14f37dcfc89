#include "store/mongo_codec.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>

#include "common/json_depth.h"
#include "isoqube/errors.h"

namespace isoqube::detail {
namespace {

using namespace mongo_fields;

constexpr char kEscapedJson[] = "IsoqubeJson";
constexpr StepTime kStepTimes[] = {
    StepTime::kInvokedOn, StepTime::kCompletedOn, StepTime::kSucceededOn,
    StepTime::kFailedOn,  StepTime::kRetriedOn,   StepTime::kCancelledOn};

int key_length(std::string_view key) { return static_cast<int>(key.size()); }

void append_string(bson_t* doc, std::string_view key, std::string_view value) {
  bson_append_utf8(doc, key.data(), key_length(key), value.data(),
                   static_cast<int>(value.size()));
}

// Whether every MongoDB-wire server keeps `value` as a BSON value as it
// is: no key with a '.' or a leading '$' (update paths and operators), none
// empty or with a NUL, and no array directly inside an array (FerretDB 1.x
// refuses those; see docs/mongodb.md).
bool storable(const Json& value) {
  if (value.is_array()) {
    return std::all_of(value.begin(), value.end(), [](const Json& v) {
      return !v.is_array() && storable(v);
    });
  }
  if (!value.is_object()) return true;
  for (const auto& [key, child] : value.items()) {
    if (key.empty() || key.front() == '$' ||
        key.find_first_of(std::string_view(".\0", 2)) != std::string::npos) {
      return false;
    }
    if (!storable(child)) return false;
  }
  return true;
}

void append_value(bson_t* doc, std::string_view key, const Json& value);

void append_children(bson_t* doc, const Json& value) {
  if (value.is_array()) {
    uint32_t index = 0;
    for (const Json& child : value) {
      const ArrayKey key(index++);
      append_value(doc, key.view(), child);
    }
    return;
  }
  for (const auto& [key, child] : value.items()) append_value(doc, key, child);
}

void append_value(bson_t* doc, std::string_view key, const Json& value) {
  const char* k = key.data();
  const int n = key_length(key);
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      bson_append_null(doc, k, n);
      return;
    case Json::value_t::boolean:
      bson_append_bool(doc, k, n, value.get<bool>());
      return;
    case Json::value_t::number_integer: {
      const int64_t v = value.get<int64_t>();
      if (v >= std::numeric_limits<int32_t>::min() &&
          v <= std::numeric_limits<int32_t>::max()) {
        bson_append_int32(doc, k, n, static_cast<int32_t>(v));
      } else {
        bson_append_int64(doc, k, n, v);
      }
      return;
    }
    case Json::value_t::number_unsigned: {
      const uint64_t v = value.get<uint64_t>();
      if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        bson_append_int64(doc, k, n, static_cast<int64_t>(v));
      } else {
        bson_append_double(doc, k, n, static_cast<double>(v));
      }
      return;
    }
    case Json::value_t::number_float:
      bson_append_double(doc, k, n, value.get<double>());
      return;
    case Json::value_t::string:
      append_string(doc, key, value.get_ref<const std::string&>());
      return;
    case Json::value_t::binary:
    case Json::value_t::array: {
      bson_t child;
      bson_append_array_begin(doc, k, n, &child);
      if (value.is_array()) append_children(&child, value);
      bson_append_array_end(doc, &child);
      return;
    }
    case Json::value_t::object: {
      bson_t child;
      bson_append_document_begin(doc, k, n, &child);
      append_children(&child, value);
      bson_append_document_end(doc, &child);
      return;
    }
  }
}

// A read-only view of one document (or array) inside another.
class Reader {
 public:
  explicit Reader(const bson_t* doc) : doc_(doc) {}
  Reader(const bson_iter_t& iter) {  // NOLINT: documents and arrays
    uint32_t length = 0;
    const uint8_t* data = nullptr;
    if (BSON_ITER_HOLDS_DOCUMENT(&iter)) {
      bson_iter_document(&iter, &length, &data);
    } else if (BSON_ITER_HOLDS_ARRAY(&iter)) {
      bson_iter_array(&iter, &length, &data);
    }
    if (data != nullptr && bson_init_static(&own_, data, length)) {
      doc_ = &own_;
    } else {
      bson_init(&own_);
      doc_ = &own_;
    }
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  bool find(std::string_view key, bson_iter_t& iter) const {
    return bson_iter_init_find_w_len(&iter, doc_, key.data(), key_length(key));
  }
  std::string string(std::string_view key) const {
    bson_iter_t iter;
    if (!find(key, iter) || !BSON_ITER_HOLDS_UTF8(&iter)) return {};
    uint32_t length = 0;
    const char* text = bson_iter_utf8(&iter, &length);
    return std::string(text, length);
  }
  int64_t integer(std::string_view key, int64_t fallback = 0) const {
    bson_iter_t iter;
    if (!find(key, iter) || !BSON_ITER_HOLDS_NUMBER(&iter)) return fallback;
    return bson_iter_as_int64(&iter);
  }
  double number(std::string_view key, double fallback) const {
    bson_iter_t iter;
    if (!find(key, iter) || !BSON_ITER_HOLDS_NUMBER(&iter)) return fallback;
    return bson_iter_as_double(&iter);
  }
  Json json(std::string_view key, Json fallback) const {
    bson_iter_t iter;
    if (!find(key, iter)) return fallback;
    return read_json(iter);
  }
  // A date, made exact by Micros.<key> when that agrees with it.
  std::optional<TimePoint> time(std::string_view key) const {
    bson_iter_t iter;
    if (!find(key, iter) || !BSON_ITER_HOLDS_DATE_TIME(&iter)) {
      return std::nullopt;
    }
    const int64_t ms = bson_iter_date_time(&iter);
    bson_iter_t micros;
    if (find(kMicros, micros) && BSON_ITER_HOLDS_DOCUMENT(&micros)) {
      const Reader exact(micros);
      const int64_t us =
          exact.integer(key, std::numeric_limits<int64_t>::min());
      // The date is the exact time truncated to milliseconds (floor).
      if (us != std::numeric_limits<int64_t>::min() && us >= ms * 1000 &&
          us < ms * 1000 + 1000) {
        return from_micros(us);
      }
    }
    return from_micros(ms * 1000);
  }
  // Calls `each` with a Reader of every document in the array `key`.
  template <class F>
  void each(std::string_view key, F each) const {
    bson_iter_t iter;
    if (!find(key, iter) || !BSON_ITER_HOLDS_ARRAY(&iter)) return;
    bson_iter_t child;
    bson_iter_recurse(&iter, &child);
    while (bson_iter_next(&child)) {
      if (BSON_ITER_HOLDS_DOCUMENT(&child)) {
        const Reader element(child);
        each(element);
      }
    }
  }
  std::optional<std::vector<std::string>> strings(std::string_view key) const {
    bson_iter_t iter;
    if (!find(key, iter) || !BSON_ITER_HOLDS_ARRAY(&iter)) return std::nullopt;
    std::vector<std::string> out;
    bson_iter_t child;
    bson_iter_recurse(&iter, &child);
    while (bson_iter_next(&child)) {
      if (!BSON_ITER_HOLDS_UTF8(&child)) continue;
      uint32_t length = 0;
      const char* text = bson_iter_utf8(&child, &length);
      out.emplace_back(text, length);
    }
    return out;
  }

 private:
  bson_t own_{};
  const bson_t* doc_ = nullptr;
};

// TimePoint -> BSON milliseconds, rounding towards the past so that the
// date is never later than the exact time.
int64_t millis(TimePoint time) {
  const int64_t us = to_micros(time);
  return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

// An array of documents under `key`, one per item, each filled by `fill`.
template <class Items, class Fill>
void append_documents(bson_t* doc, const char* key, const Items& items,
                      Fill fill) {
  bson_t array;
  bson_append_array_begin(doc, key, -1, &array);
  uint32_t index = 0;
  for (const auto& item : items) {
    const ArrayKey element(index++);
    bson_t child;
    bson_append_document_begin(&array, element.c_str(), -1, &child);
    fill(&child, item);
    bson_append_document_end(&array, &child);
  }
  bson_append_array_end(doc, &array);
}

// The step spec fields shared by configurations and runs.
void append_step_spec(bson_t* doc, const StepSpec& spec,
                      const TopicDescriptions& topics) {
  append_string(doc, kName, spec.name);
  const auto known = topics.find(spec.topic);
  append_string(doc, "Description",
                known == topics.end() ? std::string_view() : known->second);
  append_string(doc, "Type", spec.topic);
  if (spec.after) {
    bson_t after;
    bson_append_array_begin(doc, "After", -1, &after);
    append_children(&after, Json(*spec.after));
    bson_append_array_end(doc, &after);
  }
  bson_t retry;
  bson_append_document_begin(doc, "Retry", -1, &retry);
  bson_append_int32(&retry, "Attempts", -1, spec.retry.attempts);
  bson_append_int64(&retry, "IntervalMs", -1, spec.retry.interval.count());
  bson_append_double(&retry, "Backoff", -1, spec.retry.backoff);
  bson_append_document_end(doc, &retry);
  append_json(doc, "Payload", spec.payload);
}

StepSpec step_spec_from(const Reader& doc) {
  StepSpec spec;
  spec.name = doc.string(kName);
  spec.topic = doc.string("Type");
  spec.after = doc.strings("After");
  bson_iter_t retry_iter;
  if (doc.find("Retry", retry_iter) && BSON_ITER_HOLDS_DOCUMENT(&retry_iter)) {
    const Reader retry(retry_iter);
    spec.retry.attempts = static_cast<int>(retry.integer("Attempts", 1));
    spec.retry.interval =
        std::chrono::milliseconds(retry.integer("IntervalMs", 0));
    spec.retry.backoff = retry.number("Backoff", 1.0);
  }
  spec.payload = doc.json("Payload", Json::object());
  return spec;
}

const std::optional<TimePoint>& step_time(const Step& step, StepTime field) {
  switch (field) {
    case StepTime::kInvokedOn:
      return step.invoked_on;
    case StepTime::kCompletedOn:
      return step.completed_on;
    case StepTime::kSucceededOn:
      return step.succeeded_on;
    case StepTime::kFailedOn:
      return step.failed_on;
    case StepTime::kRetriedOn:
      return step.retried_on;
    case StepTime::kCancelledOn:
      return step.cancelled_on;
  }
  return step.invoked_on;
}

std::optional<TimePoint>& step_time(Step& step, StepTime field) {
  return const_cast<std::optional<TimePoint>&>(
      step_time(static_cast<const Step&>(step), field));
}

void append_step(bson_t* doc, const Step& step,
                 const TopicDescriptions& topics) {
  append_step_spec(doc, step.spec, topics);
  append_status(doc, kStatus, step.status);
  bson_append_int32(doc, kAttempts, -1, step.attempts);
  bson_t micros;
  for (StepTime field : kStepTimes) {
    const std::string_view key = field_name(field);
    const auto& value = step_time(step, field);
    if (value) {
      bson_append_date_time(doc, key.data(), key_length(key), millis(*value));
    } else {
      bson_append_null(doc, key.data(), key_length(key));
    }
  }
  append_string(doc, kError, step.error);
  append_json(doc, kOutput, step.output);
  bson_append_document_begin(doc, kMicros, -1, &micros);
  for (StepTime field : kStepTimes) {
    const std::string_view key = field_name(field);
    const auto& value = step_time(step, field);
    if (value) {
      bson_append_int64(&micros, key.data(), key_length(key),
                        to_micros(*value));
    }
  }
  bson_append_document_end(doc, &micros);
}

Step step_from(const Reader& doc) {
  Step step;
  step.spec = step_spec_from(doc);
  step.status = step_status_from_string(doc.string(kStatus));
  step.attempts = static_cast<int>(doc.integer(kAttempts));
  for (StepTime field : kStepTimes) {
    step_time(step, field) = doc.time(field_name(field));
  }
  step.error = doc.string(kError);
  step.output = doc.json(kOutput, Json());
  return step;
}

Event event_from(const Reader& doc, const std::string& run_id) {
  Event event;
  event.seq = doc.integer(kSeq);
  event.run_id = run_id;
  event.step = static_cast<int>(doc.integer("Step", -1));
  event.from = doc.string("From");
  event.to = doc.string("To");
  event.time = doc.time("Time").value_or(TimePoint{});
  event.detail = doc.string("Detail");
  return event;
}

}  // namespace

std::string_view field_name(StepTime field) {
  switch (field) {
    case StepTime::kInvokedOn:
      return "InvokedOn";
    case StepTime::kCompletedOn:
      return "CompletedOn";
    case StepTime::kSucceededOn:
      return "SucceededOn";
    case StepTime::kFailedOn:
      return "FailedOn";
    case StepTime::kRetriedOn:
      return "RetriedOn";
    case StepTime::kCancelledOn:
      return kCancelledOn;
  }
  return "InvokedOn";
}

void append_json(bson_t* doc, std::string_view key, const Json& value) {
  if (storable(value)) {
    append_value(doc, key, value);
    return;
  }
  bson_t escaped;
  bson_append_document_begin(doc, key.data(), key_length(key), &escaped);
  append_string(&escaped, kEscapedJson, value.dump());
  bson_append_document_end(doc, &escaped);
}

Json read_json(const bson_iter_t& iter) { return read_json(iter, 0); }

Json read_json(const bson_iter_t& iter, int depth) {
  // Documents written by other tools may nest deeper than Isoqube writes;
  // past the limit this recursion is refused, not left to the stack.
  const bson_type_t type = bson_iter_type(&iter);
  if ((type == BSON_TYPE_ARRAY || type == BSON_TYPE_DOCUMENT) &&
      depth >= detail::kMaxTextDepth) {
    throw StoreError("a stored value nests arrays and objects deeper than " +
                     std::to_string(detail::kMaxTextDepth) + " levels");
  }
  switch (type) {
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED:
      return nullptr;
    case BSON_TYPE_BOOL:
      return bson_iter_bool(&iter);
    case BSON_TYPE_INT32:
      return bson_iter_int32(&iter);
    case BSON_TYPE_INT64:
      return bson_iter_int64(&iter);
    case BSON_TYPE_DOUBLE:
      return bson_iter_double(&iter);
    case BSON_TYPE_UTF8: {
      uint32_t length = 0;
      const char* text = bson_iter_utf8(&iter, &length);
      return std::string(text, length);
    }
    case BSON_TYPE_DATE_TIME:
      return format_time(from_micros(bson_iter_date_time(&iter) * 1000));
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(&iter), hex);
      return std::string(hex);
    }
    case BSON_TYPE_ARRAY: {
      Json out = Json::array();
      bson_iter_t child;
      bson_iter_recurse(&iter, &child);
      while (bson_iter_next(&child)) {
        out.push_back(read_json(child, depth + 1));
      }
      return out;
    }
    case BSON_TYPE_DOCUMENT: {
      Json out = Json::object();
      bson_iter_t child;
      bson_iter_recurse(&iter, &child);
      while (bson_iter_next(&child)) {
        out[bson_iter_key(&child)] = read_json(child, depth + 1);
      }
      if (out.size() == 1 && out.contains(kEscapedJson) &&
          out[kEscapedJson].is_string()) {
        const auto& text = out[kEscapedJson].get_ref<const std::string&>();
        if (detail::deeper_than(text, detail::kMaxTextDepth - depth,
                                /*comments=*/false)) {
          throw StoreError(
              "a stored value nests arrays and objects deeper than " +
              std::to_string(detail::kMaxTextDepth) + " levels");
        }
        return Json::parse(text, nullptr, /*allow_exceptions=*/false);
      }
      return out;
    }
    default: {
      // Types JSON has no word for (decimal128, binary, regex, ...) are
      // shown as their relaxed extended JSON text.
      bson_t wrapper = BSON_INITIALIZER;
      bson_append_iter(&wrapper, "v", 1, &iter);
      char* text = bson_as_relaxed_extended_json(&wrapper, nullptr);
      Json out = text != nullptr ? Json(std::string(text)) : Json();
      bson_free(text);
      bson_destroy(&wrapper);
      return out;
    }
  }
}

void append_time(bson_t* doc, std::string_view key, TimePoint time) {
  bson_append_date_time(doc, key.data(), key_length(key), millis(time));
}

void append_status(bson_t* doc, std::string_view key, StepStatus status) {
  append_string(doc, key, to_string(status));
}

void append_status(bson_t* doc, std::string_view key, RunStatus status) {
  append_string(doc, key, to_string(status));
}

BsonPtr configuration_document(const Configuration& config,
                               const TopicDescriptions& topics) {
  BsonPtr doc = new_bson();
  append_string(doc.get(), kId, config.id);
  append_string(doc.get(), kName, config.name);
  append_string(doc.get(), "Description", config.description);
  append_documents(doc.get(), kTopics, config.steps,
                   [&](bson_t* step, const StepSpec& spec) {
                     append_step_spec(step, spec, topics);
                   });
  return doc;
}

Configuration configuration_from_document(const bson_t* doc) {
  const Reader reader(doc);
  Configuration config;
  config.id = reader.string(kId);
  config.name = reader.string(kName);
  config.description = reader.string("Description");
  reader.each(kTopics, [&](const Reader& step) {
    config.steps.push_back(step_spec_from(step));
  });
  return config;
}

BsonPtr run_document(const Run& run, const Event& created,
                     const TopicDescriptions& topics) {
  BsonPtr doc = new_bson();
  bson_t* d = doc.get();
  append_string(d, kId, run.id);
  append_string(d, kConfigurationId, run.configuration_id);
  append_string(d, kConfigurationName, run.configuration_name);
  append_string(d, "Description", run.description);
  append_string(d, "IngestionId", run.ingestion_id);
  append_status(d, kStatus, run.status);
  append_string(d, kError, run.error);
  append_json(d, "Payload", run.payload);
  append_time(d, kCreatedOn, run.created_on);
  append_time(d, kModifiedOn, run.modified_on);
  bson_append_int64(d, kCreatedSeq, -1, created.seq);
  bson_append_int64(d, kEventSeq, -1, created.seq);
  bson_t micros;
  bson_append_document_begin(d, kMicros, -1, &micros);
  bson_append_int64(&micros, kCreatedOn, -1, to_micros(run.created_on));
  bson_append_int64(&micros, kModifiedOn, -1, to_micros(run.modified_on));
  bson_append_document_end(d, &micros);
  append_documents(d, kTopics, run.steps, [&](bson_t* child, const Step& step) {
    append_step(child, step, topics);
  });
  bson_t events;
  bson_append_array_begin(d, kEvents, -1, &events);
  append_event(&events, "0", created);
  bson_append_array_end(d, &events);
  return doc;
}

Run run_from_document(const bson_t* doc) {
  const Reader reader(doc);
  Run run;
  run.id = reader.string(kId);
  run.configuration_id = reader.string(kConfigurationId);
  run.configuration_name = reader.string(kConfigurationName);
  run.description = reader.string("Description");
  run.ingestion_id = reader.string("IngestionId");
  run.status = run_status_from_string(reader.string(kStatus));
  run.error = reader.string(kError);
  run.payload = reader.json("Payload", Json::object());
  run.created_on = reader.time(kCreatedOn).value_or(TimePoint{});
  run.modified_on = reader.time(kModifiedOn).value_or(TimePoint{});
  reader.each(kTopics, [&](const Reader& step) {
    run.steps.push_back(step_from(step));
  });
  return run;
}

int64_t event_seq_of(const bson_t* doc) {
  return Reader(doc).integer(kEventSeq);
}

void append_event(bson_t* array, std::string_view key, const Event& event) {
  bson_t doc;
  bson_append_document_begin(array, key.data(), key_length(key), &doc);
  bson_append_int64(&doc, kSeq, -1, event.seq);
  bson_append_int32(&doc, "Step", -1, event.step);
  append_string(&doc, "From", event.from);
  append_string(&doc, "To", event.to);
  append_time(&doc, "Time", event.time);
  append_string(&doc, "Detail", event.detail);
  bson_t micros;
  bson_append_document_begin(&doc, kMicros, -1, &micros);
  bson_append_int64(&micros, "Time", -1, to_micros(event.time));
  bson_append_document_end(&doc, &micros);
  bson_append_document_end(array, &doc);
}

std::vector<Event> events_from_document(const bson_t* doc, int64_t after_seq) {
  const Reader reader(doc);
  const std::string run_id = reader.string(kId);
  std::vector<std::string> step_names;
  reader.each(kTopics, [&](const Reader& step) {
    step_names.push_back(step.string(kName));
  });
  // In commit order: those after the event with seq `after_seq` when the
  // run has it, else those with a greater seq.
  std::vector<Event> out;
  bool after_found = false;
  reader.each(kEvents, [&](const Reader& element) {
    const int64_t seq = element.integer(kSeq);
    if (after_seq != 0 && seq == after_seq) {
      out.clear();
      after_found = true;
      return;
    }
    if (!after_found && seq <= after_seq) return;
    out.push_back(event_from(element, run_id));
    const int step = out.back().step;
    if (step >= 0 && static_cast<std::size_t>(step) < step_names.size()) {
      out.back().step_name = step_names[step];
    }
  });
  return out;
}

BsonPtr topic_document(const Topic& topic) {
  BsonPtr doc = new_bson();
  append_string(doc.get(), kId, topic.name);
  append_string(doc.get(), kName, topic.name);
  append_string(doc.get(), "Description", topic.description);
  append_string(doc.get(), "EntityName", topic.entity_name);
  append_string(doc.get(), "Namespace", topic.ns);
  append_json(doc.get(), "Schema", topic.schema);
  return doc;
}

Topic topic_from_document(const bson_t* doc) {
  const Reader reader(doc);
  Topic topic;
  topic.name = reader.string(kName);
  topic.description = reader.string("Description");
  topic.entity_name = reader.string("EntityName");
  topic.ns = reader.string("Namespace");
  topic.schema = reader.json("Schema", Json());
  return topic;
}

}  // namespace isoqube::detail
