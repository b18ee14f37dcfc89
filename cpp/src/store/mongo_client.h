// The connection side of the MongoDB store: mongo-c-driver set up once per
// process, one client pool per store, server errors turned into Isoqube
// errors, and transient ones (a server restarting, a network drop, a
// primary stepping down) retried with backoff. Internal; only the mongo_*
// files of this folder include mongo-c-driver.
#pragma once

#include <mongoc/mongoc.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace isoqube::detail {

struct MongoOptions {
  std::string uri;  // as given, with its password
  // How long an operation keeps retrying transient failures before it
  // fails with StoreError (URI option isoqubeRetryMS; default 60 s).
  std::chrono::milliseconds retry_for{60'000};
  // What the errors call it: "store" or "log collection".
  std::string role = "store";
};

// What one attempt of an operation reports back to MongoClient::run.
enum class Attempt { kDone, kFailed };

// Where an attempt leaves its error and the server's reply.
struct Reply {
  Reply() { bson_init(&reply); }
  ~Reply() { bson_destroy(&reply); }
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  bson_error_t error{};
  bson_t reply;
};

class MongoClient {
 public:
  // Parses the URI and connects (one ping). Throws ConfigurationError for a
  // malformed URI and StoreError, naming the URI with its password masked,
  // when the server cannot be reached within the URI's
  // serverSelectionTimeoutMS or refuses the credentials.
  explicit MongoClient(const MongoOptions& options);
  ~MongoClient();
  MongoClient(const MongoClient&) = delete;
  MongoClient& operator=(const MongoClient&) = delete;

  const std::string& database() const { return database_; }
  const std::string& masked_uri() const { return masked_uri_; }

  // One operation against a pooled client. `attempt` gets the client and
  // the attempt number (0 first) and returns kDone, or kFailed with the
  // Reply's error (and reply, when the server sent one) filled in. Transient
  // failures are retried with backoff, logged as warnings, up to retry_for;
  // others throw StoreError at once: "MongoDB store <uri>: <what>: <reason>".
  // An attempt after a transient failure may find the first one applied
  // (the reply was lost): operations that are not idempotent check for it
  // when the attempt number is above 0.
  using AttemptFn =
      std::function<Attempt(mongoc_client_t*, int attempt, Reply& reply)>;
  void run(const char* what, const AttemptFn& attempt);

  // One attempt against a pooled client: no retries, nothing logged. For
  // callers with a retry policy of their own that must not log through
  // the isoqube loggers (the log collection's writer).
  Attempt once(const AttemptFn& attempt, Reply& reply, int number = 0);

  // The error text for a failed operation, with the masked URI.
  [[noreturn]] void fail(const char* what, const bson_error_t& error) const;

  // The driver's server monitor: tells, once per outage, that a server
  // stopped answering (operations then wait for it, up to the URI's
  // serverSelectionTimeoutMS, and are retried) and when it is back. Quiet
  // until the client has opened: before, the opening's error tells.
  void server_lost(const std::string& host, const bson_error_t& error);
  void server_answered(const std::string& host);

 private:
  std::mutex down_mutex_;
  std::set<std::string> down_;  // hosts that failed their last check
  bool opened_ = false;         // under down_mutex_

  mongoc_uri_t* uri_ = nullptr;
  mongoc_client_pool_t* pool_ = nullptr;
  std::string database_;
  std::string masked_uri_;
  std::string role_;
  std::chrono::milliseconds retry_for_;
};

// A collection of a pooled client's database, released with it.
class Collection {
 public:
  Collection(mongoc_client_t* client, const std::string& database,
             const char* name)
      : collection_(
            mongoc_client_get_collection(client, database.c_str(), name)) {}
  ~Collection() { mongoc_collection_destroy(collection_); }
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;
  mongoc_collection_t* get() const { return collection_; }

 private:
  mongoc_collection_t* collection_;
};

// Whether a failure may go away on its own: network and server-selection
// errors, and server errors that mean "not now" (shutting down, not the
// primary, interrupted, a retryable write).
bool is_transient(const bson_error_t& error, const bson_t* reply);

// Whether the server refused a write for a duplicate key (code 11000).
bool is_duplicate_key(const bson_error_t& error);

}  // namespace isoqube::detail
