// A fast reader for the plain JSON that envelopes are made of, in front of
// nlohmann's parser. Internal to the core.
//
// nlohmann's parser spends 16-20 us on a 1 KB envelope on the test machine
// (it keeps every character of a token for its error messages), on every
// step's path. read_plain_json() reads the subset below in a single pass
// and gives up on anything else, valid or not; read_json_text(), which
// every reader of JSON from the wire calls, then falls back to nlohmann's
// parser, whose results and error messages stay the reference. Where it reads a
// document, its result is the one nlohmann's parser gives, value types
// included: non-negative integers unsigned, negative ones signed, the last of
// duplicate keys, doubles correctly rounded (std::from_chars here, strtod
// there).
//
// The subset: objects, arrays, true/false/null, numbers (integers that fit
// int64/uint64 exactly, finite doubles), strings of well-formed UTF-8 with
// the escapes \" \\ \/ \b \f \n \r \t, whitespace, at most
// kMaxPlainDepth levels of nesting. It gives up on comments, \u escapes,
// integers that nlohmann would read as doubles, numbers out of a double's
// range, deeper nesting and every error.
#pragma once

#include <optional>
#include <string_view>

#include "isoqube/json.h"

namespace isoqube::detail {

inline constexpr int kMaxPlainDepth = 64;

std::optional<Json> read_plain_json(std::string_view text);

// JSON text that came from outside the process (an envelope, a raw JSON
// message, a broadcast batch): read_plain_json(), then nlohmann's parser,
// with comments when `comments`. Throws MessageError "<what> nests arrays
// and objects deeper than ..." for text nested past kMaxTextDepth
// (common/json_depth.h), checked before nlohmann's parser builds anything,
// and "<what> is not valid JSON: ..." for each of nlohmann's errors:
// parse_error, and out_of_range for a number past a double's range (1e400),
// which must not escape as anything but a bad message.
Json read_json_text(std::string_view text, std::string_view what,
                    bool comments);

}  // namespace isoqube::detail
