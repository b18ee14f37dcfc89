// UTF-8 checks for text that leaves the process: JSON text (nlohmann's
// dump() throws on a string that is not UTF-8), BSON and Python's str all
// need valid UTF-8, and a consumer may hand over any bytes. Internal.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "isoqube/json.h"

namespace isoqube::detail {

// The length of the well-formed UTF-8 sequence starting at text[i]
// (Unicode 15, table 3-7: no overlongs, surrogates or code points past
// U+10FFFF), or 0. Requires i < text.size().
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// `text` with each byte that does not belong to a valid UTF-8 sequence
// replaced by U+FFFD, as JSON encoders do with invalid input when told
// to replace: for display text such as a consumer's error message.
std::string valid_utf8(std::string_view text);

// Where in `value` a string or an object key is not valid UTF-8, as a JSON
// pointer ("" for the value itself, "/files/0"), with what is wrong; empty
// when every string is valid (then dump() cannot fail).
std::string invalid_utf8_in(const Json& value);

// Why a consumer's output cannot be stored and sent as JSON text ("its
// output nests ...", "its output cannot be stored as JSON: ..."), or empty
// when it can: stores and brokers keep it as JSON text, which must be UTF-8
// and nest at most kMaxJsonDepth levels. Either is the step's failure with
// that reason, not a transition that cannot be written and a message given
// back forever.
std::string unstorable(const Json& output);

// `text` with each byte that is not part of a valid UTF-8 sequence written
// as the four characters \xNN: for text that quotes bad input (a fault
// message) and must itself be valid UTF-8 without hiding which bytes were
// wrong.
std::string escape_invalid_utf8(std::string_view text);

// Appends `text` as a JSON string literal, quoted and escaped, made valid
// UTF-8 first: what Json(text).dump() with replacement writes, without
// building a Json.
void append_json_string(std::string& out, std::string_view text);

}  // namespace isoqube::detail
