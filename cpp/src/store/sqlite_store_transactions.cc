// SqliteStore's transactions: the locking, the group commit of concurrent
// writes, rollback, and the check that keeps the run cache true to the file.
#include <exception>
#include <string>
#include <utility>

#include "isoqube/errors.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"

namespace isoqube::detail {

// Threads that write at the same time share one transaction: the first
// becomes the leader and commits every write queued by then, each in a
// savepoint of its own, while the others wait for the outcome. A commit
// costs a log append, file locks and, at checkpoints, syncs, whatever it
// holds; sharing it lets the writes of several threads cost little more
// than one. Each caller still returns only after its write is committed,
// and a write that fails is rolled back alone.
void SqliteStore::write(const char* operation,
                        const std::function<void()>& body) {
  WriteRequest request{operation, &body, nullptr, false};
  std::unique_lock<std::mutex> queue(queue_mutex_);
  queued_.push_back(&request);
  queue_cv_.wait(queue, [&] { return request.done || !committing_; });
  if (!request.done) {
    committing_ = true;
    std::vector<WriteRequest*> batch;
    batch.swap(queued_);
    stats_.writes += batch.size();
    ++stats_.transactions;
    queue.unlock();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      try {
        commit_batch(batch);
      } catch (...) {
        // commit_batch keeps each write's failure; this is only so that no
        // caller waits forever if something else fails (memory).
        for (WriteRequest* failed : batch) {
          if (!failed->error) failed->error = std::current_exception();
        }
      }
    }
    queue.lock();
    for (WriteRequest* done : batch) done->done = true;
    committing_ = false;
    queue_cv_.notify_all();
  }
  queue.unlock();
  if (request.error) std::rethrow_exception(request.error);
}

std::size_t SqliteStore::queued_writes() {
  std::lock_guard<std::mutex> queue(queue_mutex_);
  return queued_.size();
}

SqliteStore::WriteStats SqliteStore::write_stats() {
  std::lock_guard<std::mutex> queue(queue_mutex_);
  return stats_;
}

StoreStats SqliteStore::stats() const {
  return {read_transactions_.load(std::memory_order_relaxed),
          write_transactions_.load(std::memory_order_relaxed)};
}

void SqliteStore::read(const char* operation,
                       const std::function<void()>& body) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A read transaction gives all the queries of one call the same snapshot.
  in_transaction(operation, false, body);
}

void SqliteStore::commit_batch(const std::vector<WriteRequest*>& batch) {
  if (batch.size() == 1) {
    WriteRequest& only = *batch.front();
    try {
      // IMMEDIATE takes the write lock first, so nothing read in the
      // transaction can change before it commits: the compare-and-set
      // holds across processes.
      in_transaction(only.operation, true, *only.body);
    } catch (...) {
      only.error = std::current_exception();
    }
    return;
  }
  std::string failed_operation;
  ++write_transactions_;
  try {
    db_->prepare(kBeginWrite)->run();
    check_cache_locked();
    for (WriteRequest* request : batch) {
      failed_operation = request->operation;
      run_in_savepoint(*request);
    }
    failed_operation = "commit";
    db_->prepare(kCommit)->run();
  } catch (...) {
    // The whole transaction is lost (BEGIN or COMMIT failed, or SQLite
    // rolled back on a failure such as a full disk): no write of the batch
    // was committed, so each caller hears why.
    const std::exception_ptr error = std::current_exception();
    rollback_locked();
    for (WriteRequest* request : batch) {
      if (request->error) continue;
      request->error = translate(request->operation, error, failed_operation);
    }
  }
}

// Runs one write of a shared transaction; on failure rolls back only that
// write and keeps its error for its caller. Throws only when the
// transaction itself is lost.
void SqliteStore::run_in_savepoint(WriteRequest& request) {
  db_->prepare(kSavepoint)->run();
  for (int attempt = 0;; ++attempt) {
    try {
      (*request.body)();
      db_->prepare(kReleaseSavepoint)->run();
      return;
    } catch (...) {
      const std::exception_ptr error = std::current_exception();
      // The body may have changed cached runs before it failed.
      cache_.clear();
      if (sqlite3_get_autocommit(db_->handle()) != 0) throw;
      db_->prepare(kRollbackToSavepoint)->run();
      if (attempt == 0 && is_stale_cache(error)) continue;
      db_->prepare(kReleaseSavepoint)->run();
      request.error = translate(request.operation, error, std::string());
      return;
    }
  }
}

void SqliteStore::in_transaction(const char* operation, bool write,
                                 const std::function<void()>& body) {
  try {
    try {
      run_transaction(write, body);
    } catch (const StaleCache&) {
      // Another connection wrote without PRAGMA data_version telling:
      // nothing cached is trusted for the second try.
      run_transaction(write, body);
    }
  } catch (...) {
    std::rethrow_exception(
        translate(operation, std::current_exception(), std::string()));
  }
}

void SqliteStore::run_transaction(bool write,
                                  const std::function<void()>& body) {
  ++(write ? write_transactions_ : read_transactions_);
  try {
    db_->prepare(write ? kBeginWrite : kBeginRead)->run();
    check_cache_locked();
    body();
    db_->prepare(kCommit)->run();
  } catch (...) {
    rollback_locked();
    throw;
  }
}

bool SqliteStore::is_stale_cache(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const StaleCache&) {
    return true;
  } catch (...) {
    return false;
  }
}

// SQLite failures become StoreError naming the operation and the file;
// `step` names the part of a shared transaction that failed, when it was
// not the operation itself. Other errors pass unchanged.
std::exception_ptr SqliteStore::translate(const char* operation,
                                          const std::exception_ptr& error,
                                          const std::string& step) const {
  auto failure = [&](const std::string& reason) {
    std::string where =
        step.empty() || step == operation
            ? std::string()
            : " (in the transaction it shared, at " + step + ")";
    return std::make_exception_ptr(StoreError("SQLite store '" + options_.path +
                                              "': " + operation +
                                              " failed: " + reason + where));
  };
  try {
    std::rethrow_exception(error);
  } catch (const StaleCache&) {
    return failure("the file changed within a write transaction");
  } catch (const SqliteFailure& e) {
    std::string reason = e.what();
    if (e.primary_code() == SQLITE_BUSY) {
      reason +=
          " (another connection held the write lock longer than the "
          "busy timeout of " +
          std::to_string(options_.busy_timeout.count()) + " ms)";
    }
    return failure(reason);
  } catch (const Json::exception& e) {
    return std::make_exception_ptr(
        ConfigurationError(std::string(operation) +
                           ": cannot encode a value as JSON: " + e.what()));
  } catch (...) {
    return std::current_exception();
  }
}

void SqliteStore::rollback_locked() {
  // A body may have changed cached runs before it failed.
  cache_.clear();
  if (sqlite3_get_autocommit(db_->handle()) == 0) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void SqliteStore::check_cache_locked() {
  const int64_t version = db_->query_integer(kDataVersion);
  if (version == data_version_) return;
  cache_.clear();
  data_version_ = version;
}

}  // namespace isoqube::detail
