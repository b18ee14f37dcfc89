// The runs a SqliteStore last read or wrote, kept so that a transition
// need not read its run back from the file and parse every step's JSON
// again. Internal.
//
// The cache only ever holds what a read of the file would return at the
// moment it was filled or updated; SqliteStore empties it whenever another
// connection may have written (see SqliteStore::check_cache_locked) and
// whenever a transaction fails. Least recently used runs are dropped
// beyond the capacity.
//
// Thread-safety: none; SqliteStore uses it under its mutex.
#pragma once

#include <cstddef>
#include <list>
#include <string_view>
#include <unordered_map>

#include "isoqube/run.h"

namespace isoqube::detail {

class RunCache {
 public:
  // Keeps at least one run: the one a call works on.
  explicit RunCache(std::size_t capacity)
      : capacity_(capacity > 0 ? capacity : 1) {}

  // The cached run, made the most recently used; nullptr when absent. The
  // pointer is valid until the next put(), erase() or clear().
  Run* find(std::string_view id);
  // Inserts or replaces the run with that id; returns the cached copy.
  Run* put(Run run);
  void erase(std::string_view id);
  void clear();

  std::size_t size() const { return runs_.size(); }

 private:
  std::size_t capacity_;
  std::list<Run> runs_;  // most recently used first
  // Keyed by a view of the cached run's own id: list nodes never move.
  std::unordered_map<std::string_view, std::list<Run>::iterator> index_;
};

}  // namespace isoqube::detail
