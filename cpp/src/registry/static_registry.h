// The process-wide record of ISOQUBE_TOPIC / ISOQUBE_CONSUMER registrations,
// each tagged with its origin: the module being loaded when its static
// initialiser ran, or "" for the program itself. Internal to the core.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "isoqube/registry.h"

namespace isoqube::detail {

// While alive, registrations made on this thread are tagged with `origin`.
// The module loader holds one around dlopen(), during which the module's
// static initialisers run on the loading thread. Guards nest; the previous
// origin is restored on destruction.
class LoadingOrigin {
 public:
  explicit LoadingOrigin(std::string origin);
  ~LoadingOrigin();
  LoadingOrigin(const LoadingOrigin&) = delete;
  LoadingOrigin& operator=(const LoadingOrigin&) = delete;

 private:
  std::string previous_;
};

struct StaticRegistrations {
  std::vector<Topic> topics;        // in registration order
  std::vector<Consumer> consumers;  // in registration order, origin filled

  bool empty() const { return topics.empty() && consumers.empty(); }
};

// Copies of everything registered under `origin` so far.
StaticRegistrations static_registrations(std::string_view origin);

}  // namespace isoqube::detail
