#include "message/plain_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "common/json_depth.h"
#include "common/utf8.h"
#include "isoqube/errors.h"

namespace isoqube::detail {
namespace {

// One pass over the text; every read returns false to give up.
class PlainReader {
 public:
  explicit PlainReader(std::string_view text) : text_(text) {}

  bool document(Json& out) {
    if (!value(out, 0)) return false;
    skip_space();
    return pos_ == text_.size();
  }

 private:
  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
      ++pos_;
    }
  }

  bool value(Json& out, int depth) {
    skip_space();
    if (pos_ == text_.size()) return false;
    switch (text_[pos_]) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        return literal("true", out, Json(true));
      case 'f':
        return literal("false", out, Json(false));
      case 'n':
        return literal("null", out, Json(nullptr));
      default:
        return number(out);
    }
  }

  bool literal(std::string_view word, Json& out, Json value) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  bool object(Json& out, int depth) {
    if (depth > kMaxPlainDepth) return false;
    ++pos_;  // '{'
    out = Json::object();
    auto& members = out.get_ref<Json::object_t&>();
    if (next_is('}')) return true;
    do {
      skip_space();
      std::string key;
      if (pos_ == text_.size() || text_[pos_] != '"' || !string(key)) {
        return false;
      }
      if (!next_is(':')) return false;
      Json member;
      if (!value(member, depth)) return false;
      // The last of duplicate keys wins, as in nlohmann's parser.
      members[std::move(key)] = std::move(member);
    } while (next_is(','));
    return next_is('}');
  }

  bool array(Json& out, int depth) {
    if (depth > kMaxPlainDepth) return false;
    ++pos_;  // '['
    out = Json::array();
    auto& elements = out.get_ref<Json::array_t&>();
    if (next_is(']')) return true;
    do {
      Json element;
      if (!value(element, depth)) return false;
      elements.push_back(std::move(element));
    } while (next_is(','));
    return next_is(']');
  }

  // Skips whitespace, then takes `c` if it comes next.
  bool next_is(char c) {
    skip_space();
    if (pos_ == text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // At the opening quote.
  bool string(std::string& out) {
    ++pos_;
    const std::size_t start = pos_;
    // Most strings have no escapes: copied in one go.
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        out.assign(text_.data() + start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c == '\\') break;
      const std::size_t length = character_length();
      if (length == 0) return false;
      pos_ += length;
    }
    out.assign(text_.data() + start, pos_ - start);
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c != '\\') {
        const std::size_t length = character_length();
        if (length == 0) return false;
        out.append(text_.data() + pos_, length);
        pos_ += length;
        continue;
      }
      if (++pos_ == text_.size()) return false;
      // The short escapes; \u and invalid ones give up.
      static constexpr std::string_view kEscaped = "\"\\/bfnrt";
      static constexpr std::string_view kMeant = "\"\\/\b\f\n\r\t";
      const std::size_t escape = kEscaped.find(text_[pos_++]);
      if (escape == std::string_view::npos) return false;
      out.push_back(kMeant[escape]);
    }
    return false;
  }

  // The length of the character at pos_ that a string may hold as it is:
  // no control character, well-formed UTF-8 (what nlohmann's lexer takes);
  // 0 otherwise.
  std::size_t character_length() const {
    const auto byte = static_cast<unsigned char>(text_[pos_]);
    if (byte < 0x20) return 0;
    if (byte < 0x80) return 1;
    return utf8_sequence_length(text_, pos_);
  }

  // A JSON number, read as nlohmann reads it: an integer without fraction
  // or exponent into uint64 (non-negative) or int64 (negative), any other
  // into a double. Gives up where nlohmann would not get an exact integer
  // of those types (it reads a double then) or a finite double.
  bool number(Json& out) {
    const std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    const std::size_t int_start = pos_;
    skip_digits();
    const std::size_t int_digits = pos_ - int_start;
    if (int_digits == 0) return false;
    if (int_digits > 1 && text_[int_start] == '0') return false;  // 01
    bool integral = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (skip_digits() == 0) return false;  // 1.
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (skip_digits() == 0) return false;  // 1e
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    if (!integral) return convert<double>(token, out);
    if (text_[start] == '-') return convert<int64_t>(token, out);
    return convert<uint64_t>(token, out);
  }

  // The whole token as a T; false when from_chars stops early or the value
  // is out of T's range (or, for a double, not finite).
  template <typename T>
  static bool convert(std::string_view token, Json& out) {
    T value{};
    const char* last = token.data() + token.size();
    const auto [end, error] = std::from_chars(token.data(), last, value);
    if (error != std::errc() || end != last) return false;
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(value)) return false;
    }
    out = value;
    return true;
  }

  std::size_t skip_digits() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      ++pos_;
    }
    return pos_ - start;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<Json> read_plain_json(std::string_view text) {
  // The likeliest reason to give up (Isoqube's own encoder writes control
  // characters as \u escapes), found before anything is built.
  if (text.find("\\u") != std::string_view::npos) return std::nullopt;
  Json out;
  if (!PlainReader(text).document(out)) return std::nullopt;
  return out;
}

Json read_json_text(std::string_view text, std::string_view what,
                    bool comments) {
  if (std::optional<Json> plain = read_plain_json(text)) {
    return std::move(*plain);
  }
  // The plain reader gives up past kMaxPlainDepth; nlohmann's parser reads
  // any depth, but what it builds could not be copied or sent safely.
  if (const auto at = deeper_than(text, kMaxTextDepth, comments)) {
    throw MessageError(std::string(what) +
                       " nests arrays and objects deeper than " +
                       std::to_string(kMaxTextDepth) + " levels (at byte " +
                       std::to_string(*at) + ")");
  }
  try {
    return Json::parse(text.begin(), text.end(), nullptr, true, comments);
  } catch (const Json::exception& e) {
    throw MessageError(std::string(what) + " is not valid JSON: " + e.what());
  }
}

}  // namespace isoqube::detail
