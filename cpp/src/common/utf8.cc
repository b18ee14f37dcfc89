#include "common/utf8.h"

#include <cstdint>
#include <cstdio>
#include <optional>

#include "common/json_depth.h"

namespace isoqube::detail {

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) {
    return static_cast<uint8_t>(text[i + k]);
  };
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  uint8_t low = 0x80, high = 0xBF;  // the second byte's range
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return length;
}

namespace {

// The first invalid byte's offset, or npos.
std::size_t first_invalid(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string describe(std::string_view text, std::size_t at) {
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X",
                static_cast<unsigned>(static_cast<uint8_t>(text[at])));
  return "invalid UTF-8 byte " + std::string(byte) + " at offset " +
         std::to_string(at);
}

// A JSON pointer's reference token (RFC 6901: ~ and / escaped), itself
// made displayable.
std::string token(std::string_view key) {
  std::string out;
  for (char c : valid_utf8(key)) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// The first string or key of `value` that is not UTF-8: where (a JSON
// pointer below `value`) and what is wrong. The pointer is built on the
// way out, for the one that is found only: every step's output is checked.
struct Invalid {
  std::string pointer;
  std::string what;
  bool key = false;
};

std::optional<Invalid> find_invalid(const Json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    const std::size_t at = first_invalid(text);
    if (at == std::string_view::npos) return std::nullopt;
    return Invalid{"", describe(text, at)};
  }
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      const std::size_t at = first_invalid(key);
      if (at != std::string_view::npos) {
        return Invalid{"/" + token(key), describe(key, at), true};
      }
      if (std::optional<Invalid> found = find_invalid(item)) {
        found->pointer.insert(0, "/" + token(key));
        return found;
      }
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (std::optional<Invalid> found = find_invalid(value[i])) {
        found->pointer.insert(0, "/" + std::to_string(i));
        return found;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::size_t at = first_invalid(text);
  if (at == std::string_view::npos) return std::string(text);
  std::string out(text.substr(0, at));
  while (at < text.size()) {
    const std::size_t length = utf8_sequence_length(text, at);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++at;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

std::string invalid_utf8_in(const Json& value) {
  const std::optional<Invalid> found = find_invalid(value);
  if (!found) return {};
  if (found->key) return "the key of '" + found->pointer + "': " + found->what;
  return (found->pointer.empty() ? "the value" : "'" + found->pointer + "'") +
         ": " + found->what;
}

std::string unstorable(const Json& output) {
  if (deeper_than(output, kMaxJsonDepth)) {
    return "its output nests arrays and objects deeper than " +
           std::to_string(kMaxJsonDepth) + " levels";
  }
  const std::string invalid = invalid_utf8_in(output);
  if (invalid.empty()) return {};
  return "its output cannot be stored as JSON: " + invalid;
}

std::string escape_invalid_utf8(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t length = utf8_sequence_length(text, at);
    if (length == 0) {
      const auto byte = static_cast<unsigned char>(text[at]);
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      ++at;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

void append_json_string(std::string& out, std::string_view text) {
  if (first_invalid(text) != std::string_view::npos) {
    append_json_string(out, valid_utf8(text));
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace isoqube::detail
