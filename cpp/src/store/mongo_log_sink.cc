#include "store/mongo_log_sink.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

#include "isoqube/log.h"
#include "store/mongo_codec.h"

namespace isoqube::detail {
namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kLongestBackoff = std::chrono::milliseconds(5000);
constexpr char kReportLogger[] = "isoqube.log";

// Set on the writer thread: see MongoLogSink::log.
thread_local bool t_on_writer = false;

// Serilog's level words, as the seed's .NET services wrote them.
const char* level_word(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "Verbose";
    case spdlog::level::debug:
      return "Debug";
    case spdlog::level::info:
      return "Information";
    case spdlog::level::warn:
      return "Warning";
    case spdlog::level::err:
      return "Error";
    case spdlog::level::critical:
      return "Fatal";
    default:
      return "Information";
  }
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

// The driver refuses a whole insert for one string that is not UTF-8; a
// line with stray bytes keeps its ASCII and gets '?' for the rest.
void append_text(bson_t* doc, const char* key, const std::string& text) {
  if (bson_utf8_validate(text.data(), text.size(), false)) {
    bson_append_utf8(doc, key, -1, text.data(), static_cast<int>(text.size()));
    return;
  }
  std::string ascii = text;
  for (char& c : ascii) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') c = '?';
  }
  bson_append_utf8(doc, key, -1, ascii.data(), static_cast<int>(ascii.size()));
}

void say(const std::string& text) {
  // Standard error directly, never the loggers: see MongoLogSink::log.
  std::fprintf(stderr, "isoqube: log collection %s\n", text.c_str());
}

// How many of the reply's write errors are not duplicate keys. A duplicate
// _id means an earlier attempt, whose reply was lost, wrote that line.
std::size_t refused_lines(const bson_t& reply) {
  bson_iter_t iter, errors;
  std::size_t refused = 0;
  if (!bson_iter_init_find(&iter, &reply, "writeErrors") ||
      !BSON_ITER_HOLDS_ARRAY(&iter) || !bson_iter_recurse(&iter, &errors)) {
    return 0;
  }
  while (bson_iter_next(&errors)) {
    bson_iter_t error;
    if (BSON_ITER_HOLDS_DOCUMENT(&errors) &&
        bson_iter_recurse(&errors, &error) && bson_iter_find(&error, "code") &&
        bson_iter_as_int64(&error) == 11000) {
      continue;
    }
    ++refused;
  }
  return refused;
}

bool has_write_errors(const bson_t& reply) {
  bson_iter_t iter;
  return bson_iter_init_find(&iter, &reply, "writeErrors") &&
         BSON_ITER_HOLDS_ARRAY(&iter);
}

// The array insert_many takes. Not a std::vector<const bson_t*>: a template
// argument drops bson_t's alignment attribute (-Wignored-attributes).
class DocumentArray {
 public:
  explicit DocumentArray(const std::vector<BsonPtr>& docs)
      : array_(static_cast<const bson_t**>(bson_malloc0(
            sizeof(bson_t*) * std::max<std::size_t>(docs.size(), 1)))) {
    for (std::size_t i = 0; i < docs.size(); ++i) array_[i] = docs[i].get();
  }
  ~DocumentArray() { bson_free(static_cast<void*>(array_)); }
  DocumentArray(const DocumentArray&) = delete;
  DocumentArray& operator=(const DocumentArray&) = delete;
  const bson_t** get() const { return array_; }

 private:
  const bson_t** array_;
};

}  // namespace

LogShipper::LogShipper(const MongoOptions& mongo,
                       const LogCollectionOptions& options)
    : options_(options),
      client_(mongo),
      host_(host_name()),
      process_id_(static_cast<int64_t>(getpid())) {}

void LogShipper::push(LogLine line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_ || queue_.size() + in_flight_ >= options_.max_queued) {
    ++stats_.dropped;
    ++unreported_drops_;
    return;
  }
  queue_.push_back(std::move(line));
  ++accepted_;
  // Waking the writer costs a system call: only for a full batch.
  if (queue_.size() == options_.batch) wake_.notify_one();
}

void LogShipper::run() {
  t_on_writer = true;
  std::vector<LogLine> batch;
  uint64_t report = 0;
  while (take(batch, report)) {
    settle(batch.size(), write(batch, report));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  stopped_ = true;
  stats_.rejected += queue_.size();  // closing ran out of time
  settled_count_ += queue_.size();
  queue_.clear();
  settled_.notify_all();
}

bool LogShipper::take(std::vector<LogLine>& batch, uint64_t& report) {
  batch.clear();
  report = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  const auto urgent = [&] {
    return closing_ || flush_until_ > settled_count_ ||
           queue_.size() >= options_.batch;
  };
  for (;;) {
    if (!urgent()) wake_.wait_for(lock, options_.interval, urgent);
    if (closing_ && std::chrono::steady_clock::now() >= close_deadline_) {
      return false;
    }
    if (!queue_.empty() || unreported_drops_ > 0) break;
    if (closing_) return false;
    // A flush with nothing queued (its lines were settled meanwhile).
    if (flush_until_ > settled_count_) flush_until_ = settled_count_;
  }
  const std::size_t n = std::min(queue_.size(), options_.batch);
  std::move(queue_.begin(), queue_.begin() + n, std::back_inserter(batch));
  queue_.erase(queue_.begin(), queue_.begin() + n);
  in_flight_ = n;
  // Drops are reported once the queue has drained, so the report says
  // how many lines are missing from the outage or burst just written.
  if (queue_.empty()) report = std::exchange(unreported_drops_, 0);
  return true;
}

void LogShipper::settle(std::size_t lines, Written written) {
  std::lock_guard<std::mutex> lock(mutex_);
  in_flight_ = 0;
  settled_count_ += lines;
  if (written == Written::kLost) stats_.rejected += lines;
  settled_.notify_all();
}

BsonPtr LogShipper::document(const LogLine& line) const {
  BsonPtr doc = new_bson();
  bson_oid_t id;
  bson_oid_init(&id, nullptr);
  BSON_APPEND_OID(doc.get(), "_id", &id);
  BSON_APPEND_DATE_TIME(doc.get(), "Timestamp",
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            line.time.time_since_epoch())
                            .count());
  BSON_APPEND_UTF8(doc.get(), "Level", level_word(line.level));
  append_text(doc.get(), "Message", line.message);
  append_text(doc.get(), "Logger", line.logger);
  const std::string service = service_of_logger(line.logger);
  append_text(doc.get(), "Application",
              service.empty() ? options_.application : service);
  append_text(doc.get(), "Environment", options_.environment);
  append_text(doc.get(), "Host", host_);
  BSON_APPEND_INT64(doc.get(), "ProcessId", process_id_);
  return doc;
}

BsonPtr LogShipper::drop_report(uint64_t dropped) const {
  LogLine line{
      spdlog::level::warn, std::chrono::system_clock::now(), kReportLogger,
      "dropped " + std::to_string(dropped) + " log lines: more than " +
          std::to_string(options_.max_queued) + " were waiting to be written"};
  BsonPtr doc = document(line);
  BSON_APPEND_INT64(doc.get(), "Dropped", static_cast<int64_t>(dropped));
  return doc;
}

LogShipper::Written LogShipper::write(const std::vector<LogLine>& batch,
                                      uint64_t report) {
  std::vector<BsonPtr> docs;
  docs.reserve(batch.size() + 1);
  for (const LogLine& line : batch) docs.push_back(document(line));
  if (report > 0) docs.push_back(drop_report(report));
  const DocumentArray pointers(docs);
  // Unordered: one refused line does not hold back the rest.
  const BsonPtr opts(BCON_NEW("ordered", BCON_BOOL(false)));

  for (auto backoff = kFirstBackoff;;
       backoff = std::min(backoff * 2, kLongestBackoff)) {
    Reply r;
    const Attempt outcome = client_.once(
        [&](mongoc_client_t* client, int, Reply& reply) {
          const Collection c(client, client_.database(),
                             options_.collection.c_str());
          return mongoc_collection_insert_many(c.get(), pointers.get(),
                                               docs.size(), opts.get(),
                                               &reply.reply, &reply.error)
                     ? Attempt::kDone
                     : Attempt::kFailed;
        },
        r);
    const bool refused = outcome == Attempt::kFailed &&
                         has_write_errors(r.reply) &&
                         !is_transient(r.error, &r.reply);
    if (outcome == Attempt::kDone || refused) {
      if (outage_) say("'" + masked_uri() + "': writing again");
      outage_ = false;
      const std::size_t lost = refused ? refused_lines(r.reply) : 0;
      if (lost > 0) {
        say("'" + masked_uri() + "': the server refused " +
            std::to_string(lost) + " lines: " + r.error.message);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.rejected += lost;
      stats_.written += batch.size() - std::min(lost, batch.size());
      return Written::kAll;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.failed_attempts;
    }
    if (!outage_) {
      say("'" + masked_uri() + "': cannot write " +
          std::to_string(docs.size()) + " lines (" + r.error.message +
          "); retrying, keeping up to " + std::to_string(options_.max_queued) +
          " lines");
      outage_ = true;
    }
    if (!wait_to_retry(backoff)) {
      say("'" + masked_uri() + "': closing: " + std::to_string(batch.size()) +
          " lines not written");
      return Written::kLost;
    }
  }
}

bool LogShipper::wait_to_retry(std::chrono::milliseconds backoff) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto until = std::chrono::steady_clock::now() + backoff;
  if (closing_) {
    if (std::chrono::steady_clock::now() >= close_deadline_) return false;
    until = std::min(until, close_deadline_);
  }
  // Only closing cuts the wait short (its deadline may come sooner).
  wake_.wait_until(lock, until, [&] {
    return closing_ && std::chrono::steady_clock::now() >= close_deadline_;
  });
  return !(closing_ && std::chrono::steady_clock::now() >= close_deadline_);
}

bool LogShipper::flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = accepted_;
  flush_until_ = std::max(flush_until_, target);
  wake_.notify_one();
  return settled_.wait_for(lock, timeout, [&] {
    return settled_count_ >= target || stopped_;
  }) && settled_count_ >= target;
}

bool LogShipper::close() {
  std::unique_lock<std::mutex> lock(mutex_);
  closing_ = true;
  close_deadline_ = std::chrono::steady_clock::now() + options_.flush_timeout;
  wake_.notify_one();
  // A little beyond the writer's own deadline, for its last insert.
  return settled_.wait_until(lock,
                             close_deadline_ + std::chrono::milliseconds(500),
                             [&] { return stopped_; });
}

LogCollectionStats LogShipper::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  LogCollectionStats out = stats_;
  out.queued = queue_.size() + in_flight_;
  return out;
}

void MongoLogSink::log(const spdlog::details::log_msg& msg) {
  if (t_on_writer) return;
  try {
    shipper_->push(
        LogLine{msg.level, msg.time,
                std::string(msg.logger_name.data(), msg.logger_name.size()),
                std::string(msg.payload.data(), msg.payload.size())});
  } catch (...) {
    // Out of memory copying a line: it is lost, the logger must go on.
  }
}

}  // namespace isoqube::detail
