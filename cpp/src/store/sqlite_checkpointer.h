// Copies a SQLite store's write-ahead log back into its database file on a
// thread of its own, so that writers do not wait for it. Internal.
//
// SQLite's own automatic checkpoint runs inside the commit that fills the
// log past 1000 pages: the writer copies the pages and waits for two
// syncs, holding the store's lock, while every other thread waits for the
// store. Here that commit only wakes the checkpointer, which copies the
// pages through a connection of its own (a PASSIVE checkpoint: readers and
// writers go on). The log starts again from its beginning only when a
// write finds every page of it copied, which never happens while writes
// keep coming; so when the log has grown to kCatchUpFrames pages, the
// checkpointer copies the few pages written since its last pass while
// holding the store's lock. Should the checkpointer's thread fall behind
// (a machine too busy to run it), the commit that fills the log to
// kBackstopFrames copies it itself, as SQLite's own automatic checkpoint
// would: the log never grows much past that.
// https://www.sqlite.org/wal.html#automatic_checkpoint
//
// Thread-safety: constructed and destroyed by the store's owner; the hook
// runs on whichever thread commits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/sqlite_connection.h"

namespace isoqube::detail {

class SqliteCheckpointer {
 public:
  // Log pages that wake the checkpointer, as SQLite's default.
  static constexpr int kCheckpointFrames = 1000;
  // Log pages at which it copies the rest under the store's lock.
  static constexpr int kCatchUpFrames = 4000;
  // Log pages at which the committing thread copies the log itself.
  static constexpr int kBackstopFrames = kCatchUpFrames * 3 / 2;

  // Opens its own connection to `path` and takes over the automatic
  // checkpoints of `store` (whose calls are serialized by `store_mutex`).
  // Throws SqliteFailure when the file cannot be opened.
  SqliteCheckpointer(const std::string& path, Connection& store,
                     std::mutex& store_mutex);
  // Stops the thread and gives the automatic checkpoints back to SQLite.
  ~SqliteCheckpointer();
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // How many passes ran, and how many of them under the store's lock
  // (the committing thread's own copies included).
  int passes() const { return passes_.load(); }
  int catch_ups() const { return catch_ups_.load(); }

 private:
  struct Pass {
    bool ok = false;
    int frames = 0;  // pages in the log
    int copied = 0;  // of which copied into the file
  };

  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  void loop();
  // One PASSIVE checkpoint.
  Pass checkpoint();

  Connection& store_;
  std::mutex& store_mutex_;
  Connection own_;
  std::atomic<int> next_at_{kCheckpointFrames};
  std::atomic<int> backstop_at_{kBackstopFrames};
  std::atomic<int> passes_{0};
  std::atomic<int> catch_ups_{0};
  // Held through each checkpoint of this process, by the thread or by a
  // committing thread's backstop copy; taken after the store's lock.
  std::mutex pass_mutex_;
  std::mutex mutex_;  // the two flags below
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace isoqube::detail
