#include "store/mongo_client.h"

#include <algorithm>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/uri.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"

namespace isoqube::detail {
namespace {

constexpr char kDefaultDatabase[] = "Isoqube";
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kLongestBackoff = std::chrono::milliseconds(2000);

// Where the driver's warnings and errors on this thread go while a client
// opens (DriverLinesCapture), or null: the logger.
thread_local std::vector<std::string>* t_captured_lines = nullptr;

// The driver's own log lines go to the "isoqube.mongoc" logger. Its
// warning that a server does not know endSessions (FerretDB, at every
// client's end) says nothing a user can act on: debug.
void log_driver_line(mongoc_log_level_t level, const char* domain,
                     const char* message, void*) {
  if (t_captured_lines != nullptr && level <= MONGOC_LOG_LEVEL_WARNING) {
    t_captured_lines->emplace_back(message);
    return;
  }
  static const auto log = logger("mongoc");
  spdlog::level::level_enum to = spdlog::level::debug;
  if (level <= MONGOC_LOG_LEVEL_CRITICAL) {
    to = spdlog::level::critical;
  } else if (level == MONGOC_LOG_LEVEL_WARNING) {
    to = std::string_view(message).find("endSessions") == std::string_view::npos
             ? spdlog::level::warn
             : spdlog::level::debug;
  } else if (level <= MONGOC_LOG_LEVEL_MESSAGE) {
    to = spdlog::level::info;
  } else if (level == MONGOC_LOG_LEVEL_TRACE) {
    to = spdlog::level::trace;
  }
  log->log(to, "{}: {}", domain, message);
}

// What the driver says on this thread while a client opens: when opening
// fails, it belongs in the one error that explains why (the driver logs a
// bad URI as "critical" and then returns the same reason); when opening
// succeeds, it is logged as usual, as warnings.
class DriverLinesCapture {
 public:
  explicit DriverLinesCapture(std::string uri) : uri_(std::move(uri)) {
    t_captured_lines = &lines_;
  }
  ~DriverLinesCapture() {
    t_captured_lines = nullptr;
    for (const std::string& line : lines_) {
      logger("mongoc")->warn("{}", masked(line));
    }
  }
  DriverLinesCapture(const DriverLinesCapture&) = delete;
  DriverLinesCapture& operator=(const DriverLinesCapture&) = delete;

  // `reason` and what the driver said beyond it; forgets those lines.
  std::string explain(const std::string& reason) {
    std::string out = masked(reason);
    for (const std::string& line : lines_) {
      const std::string said = masked(line);
      if (out.find(said) == std::string::npos) out += "; " + said;
    }
    lines_.clear();
    return out;
  }

 private:
  // The driver may quote the URI: never its password.
  std::string masked(std::string text) const {
    const std::string hidden = mask_password(uri_);
    for (std::size_t at = text.find(uri_);
         !uri_.empty() && at != std::string::npos;
         at = text.find(uri_, at + hidden.size())) {
      text.replace(at, uri_.size(), hidden);
    }
    return text;
  }

  const std::string uri_;
  std::vector<std::string> lines_;
};

void init_driver_once() {
  static std::once_flag once;
  // mongoc_cleanup() is never called: the driver stays usable until the
  // process exits, whatever order static destructors run in.
  std::call_once(once, [] {
    mongoc_init();
    mongoc_log_set_handler(log_driver_line, nullptr);
  });
}

// Server error codes that mean "try again": host unreachable or not found,
// network timeout, interrupted at or shutting down, primary stepped down,
// exceeded time limit, socket exception, not primary (old and new codes).
bool is_transient_server_code(uint32_t code) {
  static constexpr uint32_t kCodes[] = {
      6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 10058};
  return std::find(std::begin(kCodes), std::end(kCodes), code) !=
         std::end(kCodes);
}

std::string host_name(const mongoc_host_list_t* host) {
  return host == nullptr ? std::string("?") : std::string(host->host_and_port);
}

void on_heartbeat_failed(const mongoc_apm_server_heartbeat_failed_t* event) {
  bson_error_t error;
  mongoc_apm_server_heartbeat_failed_get_error(event, &error);
  static_cast<MongoClient*>(
      mongoc_apm_server_heartbeat_failed_get_context(event))
      ->server_lost(
          host_name(mongoc_apm_server_heartbeat_failed_get_host(event)), error);
}

void on_heartbeat_succeeded(
    const mongoc_apm_server_heartbeat_succeeded_t* event) {
  static_cast<MongoClient*>(
      mongoc_apm_server_heartbeat_succeeded_get_context(event))
      ->server_answered(
          host_name(mongoc_apm_server_heartbeat_succeeded_get_host(event)));
}

}  // namespace

bool is_transient(const bson_error_t& error, const bson_t* reply) {
  if (error.domain == MONGOC_ERROR_STREAM ||
      error.domain == MONGOC_ERROR_SERVER_SELECTION) {
    return true;
  }
  if (reply != nullptr &&
      (mongoc_error_has_label(reply, "RetryableWriteError") ||
       mongoc_error_has_label(reply, "TransientTransactionError"))) {
    return true;
  }
  return (error.domain == MONGOC_ERROR_SERVER ||
          error.domain == MONGOC_ERROR_WRITE_CONCERN) &&
         is_transient_server_code(error.code);
}

bool is_duplicate_key(const bson_error_t& error) {
  return error.code == 11000 && (error.domain == MONGOC_ERROR_SERVER ||
                                 error.domain == MONGOC_ERROR_COLLECTION ||
                                 error.domain == MONGOC_ERROR_COMMAND);
}

MongoClient::MongoClient(const MongoOptions& options)
    : masked_uri_(mask_password(options.uri)),
      role_(options.role),
      retry_for_(options.retry_for) {
  init_driver_once();
  DriverLinesCapture driver(options.uri);
  bson_error_t error;
  uri_ = mongoc_uri_new_with_error(options.uri.c_str(), &error);
  if (uri_ == nullptr) {
    throw ConfigurationError(
        role_ + " URI '" + masked_uri_ +
        "' is not a valid MongoDB URI: " + driver.explain(error.message));
  }
  const char* database = mongoc_uri_get_database(uri_);
  database_ =
      database != nullptr && *database != '\0' ? database : kDefaultDatabase;
  mongoc_uri_set_appname(uri_, "isoqube");
  pool_ = mongoc_client_pool_new(uri_);
  if (pool_ == nullptr) {
    mongoc_uri_destroy(uri_);
    throw ConfigurationError(
        role_ + " URI '" + masked_uri_ +
        "': " + driver.explain("mongo-c-driver refused it (TLS options?)"));
  }
  mongoc_client_pool_set_error_api(pool_, MONGOC_ERROR_API_VERSION_2);
  mongoc_apm_callbacks_t* callbacks = mongoc_apm_callbacks_new();
  mongoc_apm_set_server_heartbeat_failed_cb(callbacks, on_heartbeat_failed);
  mongoc_apm_set_server_heartbeat_succeeded_cb(callbacks,
                                               on_heartbeat_succeeded);
  mongoc_client_pool_set_apm_callbacks(pool_, callbacks, this);
  mongoc_apm_callbacks_destroy(callbacks);

  // One ping now, so that an unreachable server, bad credentials or a bad
  // TLS setup fail at startup with one clear message instead of at the
  // first run. Not retried: serverSelectionTimeoutMS bounds it.
  mongoc_client_t* client = mongoc_client_pool_pop(pool_);
  bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
  const bool ok = mongoc_client_command_simple(client, "admin", ping, nullptr,
                                               nullptr, &error);
  bson_destroy(ping);
  mongoc_client_pool_push(pool_, client);
  if (!ok) {
    mongoc_client_pool_destroy(pool_);
    mongoc_uri_destroy(uri_);
    throw StoreError("cannot open MongoDB " + role_ + " '" + masked_uri_ +
                     "': " + driver.explain(error.message));
  }
  std::lock_guard<std::mutex> lock(down_mutex_);
  opened_ = true;
}

MongoClient::~MongoClient() {
  mongoc_client_pool_destroy(pool_);
  mongoc_uri_destroy(uri_);
}

void MongoClient::run(const char* what, const AttemptFn& attempt) {
  const auto deadline = std::chrono::steady_clock::now() + retry_for_;
  auto backoff = kFirstBackoff;
  for (int number = 0;; ++number) {
    Reply reply;
    const Attempt outcome = once(attempt, reply, number);
    const bson_error_t& error = reply.error;
    const bool transient =
        outcome == Attempt::kFailed && is_transient(error, &reply.reply);
    if (outcome == Attempt::kDone) {
      if (number > 0) {
        logger("store")->info("MongoDB {} {}: {} succeeded again", role_,
                              masked_uri_, what);
      }
      return;
    }
    if (!transient || std::chrono::steady_clock::now() + backoff > deadline) {
      fail(what, error);
    }
    logger("store")->warn("MongoDB {} {}: {} failed ({}); retrying in {} ms",
                          role_, masked_uri_, what, error.message,
                          backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(kLongestBackoff));
  }
}

void MongoClient::server_lost(const std::string& host,
                              const bson_error_t& error) {
  {
    std::lock_guard<std::mutex> lock(down_mutex_);
    if (!opened_ || !down_.insert(host).second) return;
  }
  logger("store")->warn(
      "MongoDB {} {}: server {} does not answer ({}); operations wait for "
      "it and are retried",
      role_, masked_uri_, host, error.message);
}

void MongoClient::server_answered(const std::string& host) {
  {
    std::lock_guard<std::mutex> lock(down_mutex_);
    if (down_.erase(host) == 0) return;
  }
  logger("store")->info("MongoDB {} {}: server {} answers again", role_,
                        masked_uri_, host);
}

Attempt MongoClient::once(const AttemptFn& attempt, Reply& reply, int number) {
  mongoc_client_t* client = mongoc_client_pool_pop(pool_);
  Attempt outcome = Attempt::kFailed;
  try {
    outcome = attempt(client, number, reply);
  } catch (...) {
    mongoc_client_pool_push(pool_, client);
    throw;
  }
  mongoc_client_pool_push(pool_, client);
  return outcome;
}

void MongoClient::fail(const char* what, const bson_error_t& error) const {
  throw StoreError("MongoDB " + role_ + " '" + masked_uri_ + "': " + what +
                   ": " + error.message);
}

}  // namespace isoqube::detail
