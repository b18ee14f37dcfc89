// The one sink every isoqube logger writes to: it passes each line on to
// the sinks attached at that moment (standard error, and whatever
// add_log_sink attached). Loggers keep their sinks in a vector that spdlog
// does not let change under logging threads; this sink's list may change
// at any time instead.
//
// Thread-safety: log() and flush() from any thread, without a lock: the
// list is replaced whole (copy on write) and read through an atomic
// shared_ptr, so attaching a sink never waits for, or makes wait, a
// logging thread. add() and remove() are serialised by a mutex.
#pragma once

#include <spdlog/sinks/sink.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace isoqube::detail {

class FanoutSink final : public spdlog::sinks::sink {
 public:
  using SinkPtr = std::shared_ptr<spdlog::sinks::sink>;

  explicit FanoutSink(SinkPtr first);

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  // Each attached sink keeps its own pattern and formatter.
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

  void add(SinkPtr sink);
  void remove(const SinkPtr& sink);

 private:
  using Sinks = std::vector<SinkPtr>;
  std::shared_ptr<const Sinks> snapshot() const;

  std::mutex change_mutex_;
  std::shared_ptr<const Sinks> sinks_;  // read and replaced atomically
};

}  // namespace isoqube::detail
