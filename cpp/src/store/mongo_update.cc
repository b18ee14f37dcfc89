#include "store/mongo_update.h"

#include <algorithm>

namespace isoqube::detail {
namespace {

using namespace mongo_fields;

}  // namespace

std::string RunUpdate::step_path(int step, std::string_view field) const {
  std::string path = kTopics;
  path += '.';
  path += std::to_string(step);
  path += '.';
  path += field;
  return path;
}

void RunUpdate::add_condition(std::string_view path, const bson_t* condition) {
  const ArrayKey key(condition_count_++);
  bson_t element;
  bson_append_document_begin(conditions_.get(), key.c_str(), -1, &element);
  bson_iter_t iter;
  if (bson_iter_init(&iter, condition) && bson_iter_next(&iter)) {
    bson_append_iter(&element, path.data(), static_cast<int>(path.size()),
                     &iter);
  }
  bson_append_document_end(conditions_.get(), &element);
}

void RunUpdate::require_step(int step, StepStatus status) {
  require_step_in(step, {status});
}

void RunUpdate::require_step_in(int step,
                                const std::vector<StepStatus>& statuses) {
  // {"": {"$in": [...]}}: the value to put under the step's path.
  BsonPtr value = new_bson();
  bson_t in;
  bson_t list;
  bson_append_document_begin(value.get(), "", 0, &in);
  bson_append_array_begin(&in, "$in", -1, &list);
  uint32_t n = 0;
  for (StepStatus status : statuses) {
    const ArrayKey key(n++);
    append_status(&list, key.view(), status);
  }
  bson_append_array_end(&in, &list);
  bson_append_document_end(value.get(), &in);
  add_condition(step_path(step, kStatus), value.get());
}

void RunUpdate::require_attempts(int step, int attempts) {
  BsonPtr value = new_bson();
  bson_append_int32(value.get(), "", 0, attempts);
  add_condition(step_path(step, kAttempts), value.get());
}

void RunUpdate::require_run(RunStatus status) {
  BsonPtr value = new_bson();
  append_status(value.get(), "", status);
  add_condition(kStatus, value.get());
}

void RunUpdate::set_step_status(int step, StepStatus status) {
  append_status(set_.get(), step_path(step, kStatus), status);
}

void RunUpdate::set_step_attempts(int step, int attempts) {
  const std::string path = step_path(step, kAttempts);
  bson_append_int32(set_.get(), path.c_str(), -1, attempts);
}

void RunUpdate::set_step_time(int step, StepTime field, TimePoint time) {
  const std::string_view name = field_name(field);
  append_time(set_.get(), step_path(step, name), time);
  std::string exact = step_path(step, kMicros);
  exact += '.';
  exact += name;
  bson_append_int64(set_.get(), exact.c_str(), -1, to_micros(time));
}

void RunUpdate::set_step_error(int step, const std::string& error) {
  const std::string path = step_path(step, kError);
  bson_append_utf8(set_.get(), path.c_str(), -1, error.data(),
                   static_cast<int>(error.size()));
}

void RunUpdate::set_step_output(int step, const Json& output) {
  append_json(set_.get(), step_path(step, kOutput), output);
}

void RunUpdate::set_run_status(RunStatus status) {
  append_status(set_.get(), kStatus, status);
}

void RunUpdate::set_run_error(const std::string& error) {
  bson_append_utf8(set_.get(), kError, -1, error.data(),
                   static_cast<int>(error.size()));
}

void RunUpdate::set_modified(TimePoint time) {
  append_time(set_.get(), kModifiedOn, time);
  bson_append_int64(set_.get(), "Micros.ModifiedOn", -1, to_micros(time));
}

void RunUpdate::add_event(Event event) {
  event.run_id = run_id_;
  events_.push_back(std::move(event));
}

void RunUpdate::stamp(int64_t first, int64_t stride) {
  for (Event& event : events_) {
    event.seq = first;
    first += stride;
  }
}

bool RunUpdate::applied_in(const bson_t* doc) const {
  if (events_.empty()) return false;
  for (const Event& event :
       events_from_document(doc, events_.front().seq - 1)) {
    if (event.seq == events_.front().seq) return true;
  }
  return false;
}

BsonPtr RunUpdate::filter() const {
  // The id on its own at the top: FerretDB looks a document up by _id only
  // when _id is a top-level key of the filter (else it scans).
  BsonPtr doc = new_bson();
  bson_append_utf8(doc.get(), kId, -1, run_id_.data(),
                   static_cast<int>(run_id_.size()));
  if (condition_count_ > 0) {
    bson_append_array(doc.get(), "$and", -1, conditions_.get());
  }
  return doc;
}

BsonPtr RunUpdate::update() const {
  BsonPtr doc = new_bson();
  bson_t set;
  bson_append_document_begin(doc.get(), "$set", -1, &set);
  bson_concat(&set, set_.get());
  bson_append_document_end(doc.get(), &set);
  if (!events_.empty()) {
    // EventSeq is the run's newest seq, which another writer may have set
    // above ours.
    bson_t max;
    bson_append_document_begin(doc.get(), "$max", -1, &max);
    bson_append_int64(&max, kEventSeq, -1, events_.back().seq);
    bson_append_document_end(doc.get(), &max);
    bson_t push;
    bson_t events;
    bson_t each;
    bson_append_document_begin(doc.get(), "$push", -1, &push);
    bson_append_document_begin(&push, kEvents, -1, &events);
    bson_append_array_begin(&events, "$each", -1, &each);
    uint32_t index = 0;
    for (const Event& event : events_) {
      const ArrayKey key(index++);
      append_event(&each, key.view(), event);
    }
    bson_append_array_end(&events, &each);
    bson_append_document_end(&push, &events);
    bson_append_document_end(doc.get(), &push);
  }
  return doc;
}

}  // namespace isoqube::detail
