// EventFeed (store.h): a re-read window behind the newest seq delivered,
// and the events already delivered in it dropped by their identity.
#include <algorithm>

#include "isoqube/store.h"

namespace isoqube {
namespace {

constexpr std::size_t kPage = 1000;

}  // namespace

EventFeed::EventFeed(int64_t after_seq) : floor_(after_seq), seq_(after_seq) {}

std::vector<Event> EventFeed::read(Store& store, std::size_t limit) {
  const int64_t window = std::max<int64_t>(store.late_event_seqs(), 0);
  EventQuery query;
  query.after_seq = std::max(floor_, seq_ - window);
  query.limit = kPage;
  std::vector<Event> out;
  std::vector<Key> keys;
  while (out.size() < limit) {
    const std::vector<Event> page = store.events(query);
    for (const Event& event : page) {
      Key key(event.seq, event.run_id);
      if (out.size() == limit || delivered_.count(key) != 0) continue;
      keys.push_back(std::move(key));
      out.push_back(event);
    }
    if (page.size() < kPage) break;
    query.after_seq = page.back().seq;
  }
  // Only now, so that a read that threw delivered nothing.
  for (Key& key : keys) {
    seq_ = std::max(seq_, key.first);
    delivered_.insert(std::move(key));
  }
  // What the next read's window no longer reaches cannot come again.
  const int64_t gone = std::max(floor_, seq_ - window);
  delivered_.erase(delivered_.begin(), delivered_.lower_bound({gone + 1, ""}));
  return out;
}

}  // namespace isoqube
