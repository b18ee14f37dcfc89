#include "store/sqlite_run_cache.h"

#include <utility>

namespace isoqube::detail {

Run* RunCache::find(std::string_view id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  runs_.splice(runs_.begin(), runs_, it->second);
  return &*it->second;
}

Run* RunCache::put(Run run) {
  erase(run.id);
  runs_.push_front(std::move(run));
  index_.emplace(runs_.front().id, runs_.begin());
  while (runs_.size() > capacity_) {
    index_.erase(runs_.back().id);
    runs_.pop_back();
  }
  return &runs_.front();
}

void RunCache::erase(std::string_view id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return;
  const auto node = it->second;
  index_.erase(it);  // before the id it views goes away
  runs_.erase(node);
}

void RunCache::clear() {
  index_.clear();
  runs_.clear();
}

}  // namespace isoqube::detail
