// Service logs in MongoDB (the seed's "isolated logging"): every line of
// the isoqube loggers, also written as one document to a collection, so
// that the lines of many workers on many machines can be read in one place.
//
// One document per line, in the seed's (Serilog's) field names:
//   _id          ObjectId, made here: a retried insert never doubles a line
//   Timestamp    BSON date (milliseconds) when the line was logged
//   Level        Verbose, Debug, Information, Warning, Error or Fatal
//                (Serilog's words for trace, debug, info, warn, error,
//                critical)
//   Message      the line's text, without the console pattern
//   Logger       "isoqube.<part>" or "isoqube.<service>"
//   Application  the service, for a line of a service's consumers;
//                otherwise LogCollectionOptions::application
//   Environment  LogCollectionOptions::environment
//   Host         this machine's host name
//   ProcessId    this process's id
// Exception is not written: an spdlog line carries no exception object; a
// consumer's failure is in the Message of the line that reports it.
//
// The logging thread never waits for the database: it copies the line into
// a bounded queue and returns. A writer thread inserts the lines in batches
// (insert_many, unordered). When the queue is full, lines are dropped and
// counted; once the queue has drained, a Warning line in the collection
// (Logger "isoqube.log") says how many. When the database cannot be reached,
// the writer keeps its batch, retries with backoff (saying so once on
// standard error, never through the loggers) and keeps queueing up to the
// bound, so no line queued within the bound is lost to an outage.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace isoqube {

struct LogCollectionOptions {
  // Application of the lines that are not a service's (see above).
  std::string application = "isoqube";
  // The deployment, as ASP.NET names it (ASPNETCORE_ENVIRONMENT).
  std::string environment = "Production";
  std::string collection = "Logs";
  // The lowest level written, a word of set_log_level. Lines must also pass
  // the loggers' own level (set_log_level) to get here.
  std::string level = "info";
  // Lines waiting to be written (with those being written); more are
  // dropped and counted.
  std::size_t max_queued = 10000;
  // Lines per insert; this many waiting wakes the writer early.
  std::size_t batch = 500;
  // How long the writer waits for a full batch before writing what there is.
  std::chrono::milliseconds interval{200};
  // How long closing waits for the queued lines to be written.
  std::chrono::milliseconds flush_timeout{5000};
};

struct LogCollectionStats {
  uint64_t written = 0;   // lines inserted (the drop reports not counted)
  uint64_t dropped = 0;   // lines dropped because the queue was full
  uint64_t rejected = 0;  // lines the server refused for good (or lost
                          // when closing gave up on an outage)
  uint64_t queued = 0;    // lines waiting or being written now
  uint64_t failed_attempts = 0;  // inserts that failed and were retried
};

// The lines going to one collection. Destroying it flushes (waiting up to
// flush_timeout) and detaches it from the loggers.
//
// Thread-safety: flush() and stats() from any thread.
class LogCollection {
 public:
  virtual ~LogCollection() = default;

  // Waits until every line logged before the call is written, or `timeout`
  // has passed; returns whether they were all written.
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
  virtual LogCollectionStats stats() const = 0;
  // The collection's URI with its password masked.
  virtual const std::string& uri() const = 0;
};

// Attaches a log collection to every isoqube logger, existing and future.
// `mongodb_uri` is a mongodb:// or mongodb+srv:// URI; its database (default
// "Isoqube") holds the collection. Throws ConfigurationError for a bad URI,
// level or option, and StoreError, naming the URI with its password masked,
// when the server cannot be reached or refuses the credentials at start.
std::unique_ptr<LogCollection> send_logs_to(
    std::string_view mongodb_uri, const LogCollectionOptions& options = {});

}  // namespace isoqube
