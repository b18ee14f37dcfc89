// send_logs_to: the shipper, its writer thread and its sink, attached to
// the loggers for the life of the returned LogCollection.
#include <cstdio>
#include <thread>
#include <utility>

#include "common/uri.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "isoqube/log_collection.h"
#include "store/mongo_log_sink.h"
#include "store/mongo_store.h"

namespace isoqube {
namespace detail {
namespace {

// Names MongoDB refuses, or that would write into its own namespaces.
void check_collection_name(const std::string& uri, const std::string& name) {
  if (name.empty() || name.find('$') != std::string::npos ||
      name.find('\0') != std::string::npos || name.rfind("system.", 0) == 0) {
    throw ConfigurationError("log collection '" + name + "' for '" + uri +
                             "': not a collection name MongoDB accepts");
  }
}

void check_options(const std::string& uri, const LogCollectionOptions& o) {
  check_collection_name(uri, o.collection);
  if (o.max_queued == 0 || o.batch == 0) {
    throw ConfigurationError("log collection '" + uri +
                             "': max_queued and batch must be at least 1");
  }
  if (o.interval.count() <= 0) {
    throw ConfigurationError("log collection '" + uri +
                             "': interval must be positive");
  }
}

class MongoLogCollection final : public LogCollection {
 public:
  MongoLogCollection(std::shared_ptr<LogShipper> shipper,
                     spdlog::level::level_enum level)
      : shipper_(std::move(shipper)),
        sink_(std::make_shared<MongoLogSink>(shipper_)),
        writer_([shipper = shipper_] { shipper->run(); }) {
    sink_->set_level(level);
    add_log_sink(sink_);
  }

  ~MongoLogCollection() override {
    remove_log_sink(sink_);
    if (shipper_->close()) {
      writer_.join();
      return;
    }
    // The writer is stuck in an insert past the deadline (a server that
    // does not answer): leave it, with the shipper it shares, to finish
    // or to end with the process, rather than hang the caller.
    std::fprintf(stderr,
                 "isoqube: log collection '%s': gave up waiting for the "
                 "writer\n",
                 shipper_->masked_uri().c_str());
    writer_.detach();
  }

  bool flush(std::chrono::milliseconds timeout) override {
    return shipper_->flush(timeout);
  }
  LogCollectionStats stats() const override { return shipper_->stats(); }
  const std::string& uri() const override { return shipper_->masked_uri(); }

 private:
  std::shared_ptr<LogShipper> shipper_;
  std::shared_ptr<MongoLogSink> sink_;
  std::thread writer_;
};

}  // namespace
}  // namespace detail

std::unique_ptr<LogCollection> send_logs_to(
    std::string_view mongodb_uri, const LogCollectionOptions& options) {
  const std::string text(mongodb_uri);
  if (text.rfind("mongodb://", 0) != 0 &&
      text.rfind("mongodb+srv://", 0) != 0) {
    throw ConfigurationError("log collection URI '" +
                             detail::mask_password(text) +
                             "': expected mongodb://… or mongodb+srv://…");
  }
  detail::check_options(detail::mask_password(text), options);
  const auto level = parse_log_level(options.level);
  detail::MongoOptions mongo = detail::mongo_store_options(text);
  mongo.role = "log collection";
  auto shipper = std::make_shared<detail::LogShipper>(mongo, options);
  return std::make_unique<detail::MongoLogCollection>(std::move(shipper),
                                                      level);
}

}  // namespace isoqube
