// How deep JSON nests, found without recursion. Internal.
//
// Copying, dumping, comparing and destroying a Json, converting it to BSON
// or to Python, all recurse once per level of nested arrays and objects. A
// message 150 KB long can nest 30,000 levels and overflow a thread's stack
// in any of them, so every place where JSON enters the core measures it
// first, with these functions, which use no recursion themselves:
//   - text from the wire (envelopes, raw JSON, broadcasts): read_json_text
//     refuses text nested deeper than kMaxTextDepth before parsing it;
//   - values handed to the core (payloads, consumer outputs): refused when
//     deeper than kMaxJsonDepth (isoqube/json.h).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "isoqube/json.h"

namespace isoqube::detail {

// Text from the wire wraps values in levels of its own (an envelope and its
// message object hold a step's payload two levels down), so it may nest a
// few levels more than a value: whatever a peer may put in `message`, and
// whatever Isoqube itself sends, reads back.
inline constexpr int kMaxTextDepth = kMaxJsonDepth + 8;

// The offset of the first '[' or '{' that opens level `limit` + 1 of `text`,
// or nullopt when the text nests no deeper than `limit`. Brackets inside
// strings (and, with `comments`, inside // and /* */ comments) do not
// count. Meant to run before a parser: on text that is not JSON it still
// returns, and the parser then reports the syntax error.
std::optional<std::size_t> deeper_than(std::string_view text, int limit,
                                       bool comments);

// True when `value` holds arrays or objects nested more than `limit`
// levels deep (a scalar is level 0, `[1]` level 1, `[[1]]` level 2).
bool deeper_than(const Json& value, int limit);

}  // namespace isoqube::detail
