// Every BSON document of the MongoDB store is built and read here, in the
// seed's collections and field names (docs/mongodb.md), with Isoqube's
// additions beside them:
//
//   Configurations  { _id, Name, Description,
//                     Topics: [ { Name, Description, Type, After?, Retry,
//                                 Payload } ] }
//   Run             { _id, ConfigurationId, ConfigurationName, Description,
//                     IngestionId, Status, Error, Payload, CreatedOn,
//                     ModifiedOn, CreatedSeq, EventSeq, Micros,
//                     Topics: [ step ], Events: [ event ] }
//     step          { Name, Description, Type, After?, Retry, Payload,
//                     Status, Attempts, InvokedOn, CompletedOn, SucceededOn,
//                     FailedOn, RetriedOn, CancelledOn, Error, Output,
//                     Micros }
//     event         { Seq, Step, From, To, Time, Micros, Detail }
//                   (Step: the step's index, -1 for the run itself)
//   Topics          { _id: name, Name, Description, EntityName, Namespace,
//                     Schema }
//
// A step's Name is the step's name (the topic's, unless the configuration
// renamed it) and Type its topic, as in the seed. Times are BSON dates
// (milliseconds), so every MongoDB tool shows them; `Micros` beside them
// holds the same times in microseconds since the epoch, which Isoqube
// reads when they agree with the date (a date written by another program
// wins). Unset times are null. Payloads and outputs are stored as BSON
// documents; a value that not every MongoDB-wire server can store (keys
// with '.' or a leading '$', arrays inside arrays) is kept as its JSON
// text under {IsoqubeJson: "..."}.
//
// Internal.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "isoqube/configuration.h"
#include "isoqube/json.h"
#include "isoqube/registry.h"
#include "isoqube/run.h"
#include "isoqube/time.h"

namespace isoqube::detail {

// An owned bson_t on the heap (a class, not unique_ptr<bson_t>: bson_t's
// alignment attribute is dropped on template arguments).
class BsonPtr {
 public:
  BsonPtr() = default;
  BsonPtr(std::nullptr_t) {}  // NOLINT: "return nullptr"
  explicit BsonPtr(bson_t* doc) : doc_(doc) {}
  BsonPtr(BsonPtr&& other) noexcept : doc_(other.doc_) { other.doc_ = nullptr; }
  BsonPtr& operator=(BsonPtr&& other) noexcept {
    std::swap(doc_, other.doc_);
    return *this;
  }
  BsonPtr(const BsonPtr&) = delete;
  BsonPtr& operator=(const BsonPtr&) = delete;
  ~BsonPtr() {
    if (doc_ != nullptr) bson_destroy(doc_);
  }
  bson_t* get() const { return doc_; }
  void reset(bson_t* doc) { *this = BsonPtr(doc); }
  explicit operator bool() const { return doc_ != nullptr; }

 private:
  bson_t* doc_ = nullptr;
};

inline BsonPtr new_bson() { return BsonPtr(bson_new()); }

// The key of an array's element `index` ("0", "1", ...), as BSON spells
// arrays: documents with those keys.
class ArrayKey {
 public:
  explicit ArrayKey(uint32_t index)
      : length_(bson_uint32_to_string(index, &key_, buffer_, sizeof buffer_)) {}
  ArrayKey(const ArrayKey&) = delete;
  ArrayKey& operator=(const ArrayKey&) = delete;
  const char* c_str() const { return key_; }
  std::string_view view() const { return {key_, length_}; }

 private:
  char buffer_[16];
  const char* key_ = nullptr;
  std::size_t length_;
};

namespace mongo_fields {
inline constexpr char kId[] = "_id";
inline constexpr char kName[] = "Name";
inline constexpr char kTopics[] = "Topics";
inline constexpr char kStatus[] = "Status";
inline constexpr char kAttempts[] = "Attempts";
inline constexpr char kError[] = "Error";
inline constexpr char kOutput[] = "Output";
inline constexpr char kModifiedOn[] = "ModifiedOn";
inline constexpr char kCreatedOn[] = "CreatedOn";
inline constexpr char kCreatedSeq[] = "CreatedSeq";
inline constexpr char kEventSeq[] = "EventSeq";
inline constexpr char kEvents[] = "Events";
inline constexpr char kMicros[] = "Micros";
inline constexpr char kConfigurationId[] = "ConfigurationId";
inline constexpr char kConfigurationName[] = "ConfigurationName";
inline constexpr char kSeq[] = "Seq";
inline constexpr char kCancelledOn[] = "CancelledOn";
}  // namespace mongo_fields

// The seed's step time fields, in Step order.
enum class StepTime {
  kInvokedOn,
  kCompletedOn,
  kSucceededOn,
  kFailedOn,
  kRetriedOn,
  kCancelledOn
};
std::string_view field_name(StepTime field);

// Values.
void append_json(bson_t* doc, std::string_view key, const Json& value);
// Throws StoreError for a value nested deeper than detail::kMaxTextDepth
// (common/json_depth.h); `depth`: the levels above the value.
Json read_json(const bson_iter_t& iter);
Json read_json(const bson_iter_t& iter, int depth);
// A date and, under the document's Micros, the exact time: both keys are
// given, as they differ in $set paths ("Topics.2.InvokedOn",
// "Topics.2.Micros.InvokedOn").
void append_time(bson_t* doc, std::string_view key, TimePoint time);
void append_status(bson_t* doc, std::string_view key, StepStatus status);
void append_status(bson_t* doc, std::string_view key, RunStatus status);

// Topic name -> its description, for the seed's Description beside each
// step (what the store has seen of the registered topics).
using TopicDescriptions = std::map<std::string, std::string, std::less<>>;

// Documents.
BsonPtr configuration_document(const Configuration& config,
                               const TopicDescriptions& topics);
Configuration configuration_from_document(const bson_t* doc);

// The run with its first event (`created`, whose seq is also CreatedSeq and
// EventSeq).
BsonPtr run_document(const Run& run, const Event& created,
                     const TopicDescriptions& topics);
// Reads a Run document; Events are not read (see events_from_document).
Run run_from_document(const bson_t* doc);
int64_t event_seq_of(const bson_t* doc);

void append_event(bson_t* array, std::string_view key, const Event& event);
// The events of a Run document (with Events, and Topics for the step
// names) in the order they were committed: those after the one with seq
// `after_seq` if the run has it, else those with a greater seq.
std::vector<Event> events_from_document(const bson_t* doc, int64_t after_seq);

BsonPtr topic_document(const Topic& topic);
Topic topic_from_document(const bson_t* doc);

}  // namespace isoqube::detail
