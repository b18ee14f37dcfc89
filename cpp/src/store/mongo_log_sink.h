// The log collection (isoqube/log_collection.h) in two halves: the spdlog
// sink the loggers call, which only copies a line into a bounded queue, and
// LogShipper, the queue with the writer thread that inserts the lines into
// MongoDB in batches. Internal; only mongo_* files include mongo-c-driver.
//
// Thread-safety: MongoLogSink::log from any thread, never blocking on I/O
// (one short mutex section). LogShipper::run is the writer thread's body;
// the other LogShipper methods may be called from any thread.
#pragma once

#include <spdlog/sinks/sink.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "isoqube/log_collection.h"
#include "store/mongo_client.h"
#include "store/mongo_codec.h"

namespace isoqube::detail {

// One line, as the logging thread hands it over.
struct LogLine {
  spdlog::level::level_enum level = spdlog::level::info;
  std::chrono::system_clock::time_point time;
  std::string logger;
  std::string message;
};

class LogShipper {
 public:
  // Connects (see MongoClient). Throws ConfigurationError, StoreError.
  LogShipper(const MongoOptions& mongo, const LogCollectionOptions& options);

  // Queues the line, or drops and counts it when max_queued lines wait.
  void push(LogLine line);
  // The writer thread: runs until close() and the queue is written (or
  // close's deadline has passed).
  void run();
  // See LogCollection::flush.
  bool flush(std::chrono::milliseconds timeout);
  // Asks the writer to write what is queued and stop, and waits for it up
  // to flush_timeout. Returns whether the writer has stopped.
  bool close();
  LogCollectionStats stats() const;
  const std::string& masked_uri() const { return client_.masked_uri(); }

 private:
  enum class Written { kAll, kLost };
  // Waits for work; moves the next batch into `batch` and the drop count
  // to report into `report`. False when closing with nothing left.
  bool take(std::vector<LogLine>& batch, uint64_t& report);
  // Inserts the batch (and the drop report), retrying until it is written,
  // refused for good, or closing has run out of time.
  Written write(const std::vector<LogLine>& batch, uint64_t report);
  // Waits `backoff` between attempts; false when closing's deadline passed.
  bool wait_to_retry(std::chrono::milliseconds backoff);
  void settle(std::size_t lines, Written written);
  BsonPtr document(const LogLine& line) const;
  BsonPtr drop_report(uint64_t dropped) const;

  const LogCollectionOptions options_;
  MongoClient client_;
  const std::string host_;
  const int64_t process_id_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the writer: work, flush or close
  std::condition_variable settled_;  // flush and close: lines written
  std::deque<LogLine> queue_;
  std::size_t in_flight_ = 0;   // taken by the writer, not yet settled
  uint64_t accepted_ = 0;       // lines queued since the start
  uint64_t settled_count_ = 0;  // of those, written or given up
  uint64_t flush_until_ = 0;    // a flush waits for settled_count_ to reach it
  uint64_t unreported_drops_ = 0;
  bool closing_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point close_deadline_;
  LogCollectionStats stats_;
  bool outage_ = false;  // writer only: the last insert failed
};

// What the loggers call; it hands each line to the shipper.
class MongoLogSink final : public spdlog::sinks::sink {
 public:
  explicit MongoLogSink(std::shared_ptr<LogShipper> shipper)
      : shipper_(std::move(shipper)) {}

  // Lines logged on the writer thread itself (the driver's own, while it
  // inserts) are left to standard error: queueing them would feed the
  // writer its own complaints during an outage.
  void log(const spdlog::details::log_msg& msg) override;
  void flush() override {}  // lines are written by the shipper's schedule
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  std::shared_ptr<LogShipper> shipper_;
};

}  // namespace isoqube::detail
