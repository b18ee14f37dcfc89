#include "store/sqlite_checkpointer.h"

namespace isoqube::detail {

SqliteCheckpointer::SqliteCheckpointer(const std::string& path,
                                       Connection& store,
                                       std::mutex& store_mutex)
    : store_(store), store_mutex_(store_mutex), own_(path) {
  // A first read opens the log, which a checkpoint needs.
  own_.set_busy_timeout(std::chrono::milliseconds(5000));
  own_.query_integer("PRAGMA user_version");
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(store_.handle(), &SqliteCheckpointer::on_commit, this);
  thread_ = std::thread([this] { loop(); });
}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_wal_autocheckpoint(store_.handle(), kCheckpointFrames);
}

// Runs on the committing thread, under the store's lock: a wake-up, and
// the backstop copy when the checkpointer has fallen far behind.
int SqliteCheckpointer::on_commit(void* self, sqlite3* db, const char*,
                                  int frames) {
  auto& checkpointer = *static_cast<SqliteCheckpointer*>(self);
  if (frames >= checkpointer.backstop_at_.load(std::memory_order_relaxed)) {
    int log = 0;
    int copied = 0;
    // Waits for a pass of the checkpointer's thread to end: two
    // checkpoints at once, the second returns BUSY and copies nothing,
    // and the log would go on growing behind a starved thread.
    std::lock_guard<std::mutex> pass_lock(checkpointer.pass_mutex_);
    if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                  &copied) == SQLITE_OK) {
      ++checkpointer.catch_ups_;
      // Copied whole, the log starts again at the next write; else (a
      // reader in another process) not again until it has grown as much.
      checkpointer.backstop_at_ =
          copied == log ? kBackstopFrames : log + kCatchUpFrames;
    }
  }
  if (frames < checkpointer.next_at_.load(std::memory_order_relaxed)) {
    return SQLITE_OK;
  }
  {
    std::lock_guard<std::mutex> lock(checkpointer.mutex_);
    if (checkpointer.due_) return SQLITE_OK;
    checkpointer.due_ = true;
  }
  checkpointer.wake_.notify_one();
  return SQLITE_OK;
}

void SqliteCheckpointer::loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return due_ || stopping_; });
      if (stopping_) return;
    }
    Pass pass;
    {
      std::lock_guard<std::mutex> pass_lock(pass_mutex_);
      pass = checkpoint();
    }
    if (pass.ok && pass.frames >= kCatchUpFrames) {
      // No write of this process can come in between: the log is copied
      // whole, and the next write starts it again from the beginning.
      // (The store's lock first: a commit holds it when it takes the
      // pass lock for its backstop copy.)
      std::lock_guard<std::mutex> store_lock(store_mutex_);
      std::lock_guard<std::mutex> pass_lock(pass_mutex_);
      pass = checkpoint();
      ++catch_ups_;
    }
    if (pass.ok) {
      // A log copied whole starts again at the next write. Otherwise (a
      // reader in another process still uses its end) try again once it
      // has grown by as much again, not at every commit.
      const bool whole = pass.copied == pass.frames;
      next_at_ = (whole ? 0 : pass.frames) + kCheckpointFrames;
    }
    ++passes_;
    std::lock_guard<std::mutex> lock(mutex_);
    due_ = false;
  }
}

SqliteCheckpointer::Pass SqliteCheckpointer::checkpoint() {
  Pass pass;
  const int rc = sqlite3_wal_checkpoint_v2(own_.handle(), nullptr,
                                           SQLITE_CHECKPOINT_PASSIVE,
                                           &pass.frames, &pass.copied);
  // BUSY: another connection is checkpointing; a later pass copies.
  pass.ok = rc == SQLITE_OK;
  return pass;
}

}  // namespace isoqube::detail
