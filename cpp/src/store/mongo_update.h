// One change to a Run document, made by one guarded findAndModify: the
// conditions go into the filter (on dot-indexed paths such as
// "Topics.3.Status", never arrayFilters or positional '$', which
// MongoDB-compatible servers often lack), the changes into $set, and the
// change's events into $push, so the change and its events are written
// together or not at all.
//
// Internal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/run.h"
#include "isoqube/store.h"
#include "store/mongo_codec.h"

namespace isoqube::detail {

class RunUpdate {
 public:
  explicit RunUpdate(std::string_view run_id) : run_id_(run_id) {}

  // Conditions.
  void require_step(int step, StepStatus status);
  void require_step_in(int step, const std::vector<StepStatus>& statuses);
  void require_attempts(int step, int attempts);
  void require_run(RunStatus status);

  // Changes. Each path may be set once.
  void set_step_status(int step, StepStatus status);
  void set_step_attempts(int step, int attempts);
  void set_step_time(int step, StepTime field, TimePoint time);
  void set_step_error(int step, const std::string& error);
  void set_step_output(int step, const Json& output);
  void set_run_status(RunStatus status);
  void set_run_error(const std::string& error);
  void set_modified(TimePoint time);

  // Events, in order; their seqs are given by stamp().
  void add_event(Event event);
  const std::vector<Event>& events() const { return events_; }
  std::size_t event_count() const { return events_.size(); }
  // Gives the events the seqs first, first + stride, ...
  void stamp(int64_t first, int64_t stride);

  // Whether `doc` (a Run document with Events) has this update's first
  // event: the update was applied by an attempt whose reply was lost.
  bool applied_in(const bson_t* doc) const;

  // The filter: the run and every condition.
  BsonPtr filter() const;
  BsonPtr update() const;

 private:
  std::string step_path(int step, std::string_view field) const;
  void add_condition(std::string_view path, const bson_t* condition);

  std::string run_id_;
  BsonPtr conditions_ = new_bson();  // the $and array's elements
  uint32_t condition_count_ = 0;
  BsonPtr set_ = new_bson();
  std::vector<Event> events_;
};

}  // namespace isoqube::detail
