#include "common/json_depth.h"

#include <utility>
#include <vector>

namespace isoqube::detail {
namespace {

// Where a comment that starts at text[i] ends (the offset after it), or i
// when none starts there.
std::size_t skip_comment(std::string_view text, std::size_t i) {
  if (text[i] != '/' || i + 1 >= text.size()) return i;
  if (text[i + 1] == '/') {
    const std::size_t end = text.find('\n', i + 2);
    return end == std::string_view::npos ? text.size() : end + 1;
  }
  if (text[i + 1] == '*') {
    const std::size_t end = text.find("*/", i + 2);
    return end == std::string_view::npos ? text.size() : end + 2;
  }
  return i;
}

// The offset after the string whose opening quote is at text[i].
std::size_t skip_string(std::string_view text, std::size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return text.size();
}

}  // namespace

std::optional<std::size_t> deeper_than(std::string_view text, int limit,
                                       bool comments) {
  int depth = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      i = skip_string(text, i);
      continue;
    }
    if (comments && c == '/') {
      const std::size_t after = skip_comment(text, i);
      if (after != i) {
        i = after;
        continue;
      }
    }
    if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    ++i;
  }
  return std::nullopt;
}

bool deeper_than(const Json& value, int limit) {
  // Containers still to visit, with their level; scalars are never pushed.
  std::vector<std::pair<const Json*, int>> pending;
  if (value.is_structured()) pending.emplace_back(&value, 1);
  while (!pending.empty()) {
    const auto [container, level] = pending.back();
    pending.pop_back();
    if (level > limit) return true;
    for (const Json& child : *container) {
      if (child.is_structured()) pending.emplace_back(&child, level + 1);
    }
  }
  return false;
}

}  // namespace isoqube::detail
