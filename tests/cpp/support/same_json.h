// Equal with the same types all the way down: nlohmann's operator== holds
// 1 (unsigned) and 1 (signed) equal, the plain JSON reader must not read
// one for the other. Shared by the reader's differential test and its fuzz
// harness.
#pragma once

#include <cstddef>

#include "isoqube/json.h"

namespace isoqube::testing {

inline bool same_json(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      if (other == b.end() || !same_json(*it, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_json(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace isoqube::testing
