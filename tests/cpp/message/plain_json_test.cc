#include "message/plain_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "isoqube/message.h"
#include "isoqube/time.h"
#include "support/same_json.h"

namespace isoqube::detail {
namespace {

using isoqube::testing::same_json;

// nlohmann's reading, with comments allowed as codec.cc reads envelopes
// (out_of_range: a number past a double's range).
std::optional<Json> reference(const std::string& text) {
  try {
    return Json::parse(text.begin(), text.end(), nullptr, true,
                       /*ignore_comments=*/true);
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

// Random JSON-like text: mostly inside the plain subset, often outside it
// (escapes, \u, UTF-8, fractions, long integers, comments, deep nesting),
// sometimes invalid (leading zeros, trailing commas, bad literals, control
// characters, cut short).
class TextMaker {
 public:
  explicit TextMaker(uint64_t seed) : random_(seed) {}

  std::string document() {
    std::string text;
    space(text);
    value(text, 0);
    space(text);
    if (chance(50)) cut(text);
    return text;
  }

 private:
  bool chance(int one_in) { return pick(one_in) == 0; }
  int pick(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random_);
  }

  void space(std::string& text) {
    static const char* kSpaces[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    text += kSpaces[pick(7)];
    if (chance(80)) text += "/* note */ ";
    if (chance(120)) text += "// line\n";
  }

  void value(std::string& text, int depth) {
    const int limit = depth > 6 ? 6 : 9;
    switch (pick(limit)) {
      case 0:
      case 1:
        number(text);
        break;
      case 2:
      case 3:
        string(text);
        break;
      case 4:
        text += std::vector<const char*>{"true", "false", "null", "nul",
                                         "True"}[pick(chance(20) ? 5 : 3)];
        break;
      case 5:
        text += "\"plain\"";
        break;
      case 6:
      case 7:
        object(text, depth + 1);
        break;
      default:
        array(text, depth + 1);
        break;
    }
  }

  void number(std::string& text) {
    static const char* kNumbers[] = {"0",
                                     "-0",
                                     "7",
                                     "-7",
                                     "42",
                                     "123456789012345678",
                                     "-123456789012345678",
                                     "1234567890123456789",
                                     "18446744073709551615",
                                     "18446744073709551616",
                                     "-9223372036854775808",
                                     "-9223372036854775809",
                                     "1.5",
                                     "-0.25",
                                     "1e3",
                                     "2E-2",
                                     "01",
                                     "-",
                                     "1.",
                                     ".5",
                                     "+1",
                                     "-01",
                                     "1e400",
                                     "-1e400",
                                     "1e-400",
                                     "4.9e-324",
                                     "0.1",
                                     "3.141592653589793238462643",
                                     "1E+2",
                                     "1e",
                                     "1e+",
                                     "-0.0",
                                     "0e0",
                                     "2.2250738585072014e-308"};
    if (chance(4)) {
      // A random double: digits, a fraction, maybe an exponent.
      if (chance(2)) text += '-';
      text += std::to_string(pick(100000));
      text += '.' + std::to_string(pick(1000000000));
      if (chance(2)) text += "e" + std::to_string(pick(700) - 350);
    } else if (chance(3)) {
      text += std::to_string(
          std::uniform_int_distribution<int64_t>(-1000000, 1000000)(random_));
    } else {
      text += kNumbers[pick(sizeof kNumbers / sizeof *kNumbers)];
    }
  }

  void string(std::string& text) {
    static const char* kPieces[] = {"a",
                                    "Zz09",
                                    " ",
                                    "urn:message:Isoqube.Topics:Build",
                                    "\\\"",
                                    "\\\\",
                                    "\\/",
                                    "\\n",
                                    "\\t",
                                    "\\b\\f\\r",
                                    "\\u00e9",
                                    "\\ud83d\\ude00",
                                    "\\ud83d",
                                    "\\x",
                                    "\xc3\xa9",
                                    "\xff",
                                    "\x01",
                                    "\x7f",
                                    "~",
                                    "{}[],:",
                                    "\xf0\x9f\x98\x80",
                                    "\xc0\xaf",
                                    "\xed\xa0\x80",
                                    "\xf4\x90\x80\x80",
                                    "\xe2\x82",
                                    "\xe2\x82\xac",
                                    "\xef\xbf\xbf",
                                    "\x80"};
    text += '"';
    for (int i = pick(5); i > 0; --i) {
      text +=
          kPieces[pick(chance(3) ? static_cast<int>(std::size(kPieces)) : 4)];
    }
    if (!chance(60)) text += '"';
  }

  void object(std::string& text, int depth) {
    if (chance(200)) {
      // Deeper than the reader goes: nlohmann reads it, the reader gives up.
      const int levels = kMaxPlainDepth + pick(3);
      text += std::string(static_cast<std::size_t>(levels), '[') + "1" +
              std::string(static_cast<std::size_t>(levels), ']');
      return;
    }
    text += '{';
    const int members = pick(5);
    for (int i = 0; i < members; ++i) {
      space(text);
      // Few distinct keys: duplicates happen.
      text += std::vector<const char*>{"\"a\"", "\"b\"", "\"message\"",
                                       "\"k\\u0041\"",
                                       "x"}[pick(chance(15) ? 5 : 3)];
      space(text);
      text += ':';
      value(text, depth);
      space(text);
      if (i + 1 < members || chance(40)) text += ',';
    }
    text += '}';
  }

  void array(std::string& text, int depth) {
    text += '[';
    const int elements = pick(5);
    for (int i = 0; i < elements; ++i) {
      value(text, depth);
      space(text);
      if (i + 1 < elements || chance(40)) text += ',';
    }
    text += ']';
  }

  void cut(std::string& text) {
    if (!text.empty())
      text.resize(
          static_cast<std::size_t>(pick(static_cast<int>(text.size()))));
  }

  std::mt19937_64 random_;
};

TEST(PlainJsonTest, WhatItReadsIsWhatNlohmannReadsAndItReadsNothingInvalid) {
  TextMaker maker(20261129);
  int read = 0;
  int invalid = 0;
  int given_up_valid = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string text = maker.document();
    const std::optional<Json> expected = reference(text);
    const std::optional<Json> got = read_plain_json(text);
    if (!expected) ++invalid;
    if (got) {
      ++read;
      ASSERT_TRUE(expected.has_value()) << "read invalid JSON: " << text;
      ASSERT_TRUE(same_json(*got, *expected))
          << text << "\nread: " << got->dump()
          << "\nnlohmann: " << expected->dump();
    } else if (expected) {
      ++given_up_valid;
    }
  }
  // The texts cover all three outcomes, so the assertions above were
  // exercised.
  EXPECT_GT(read, 10000);
  EXPECT_GT(invalid, 5000);
  EXPECT_GT(given_up_valid, 2000);
}

TEST(PlainJsonTest, IntegersKeepNlohmannsTypes) {
  const std::optional<Json> read =
      read_plain_json(R"({"u": 7, "i": -7, "z": 0, "nz": -0,
                          "big": 123456789012345678})");
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE((*read)["u"].is_number_unsigned());
  EXPECT_TRUE((*read)["z"].is_number_unsigned());
  EXPECT_FALSE((*read)["i"].is_number_unsigned());
  EXPECT_EQ((*read)["i"].get<int64_t>(), -7);
  EXPECT_FALSE((*read)["nz"].is_number_unsigned());
  EXPECT_EQ((*read)["big"].get<uint64_t>(), 123456789012345678u);
}

TEST(PlainJsonTest, ReadsFractionsExponentsAndUtf8) {
  const std::optional<Json> read = read_plain_json(
      "{\"f\": -0.25, \"e\": 1E+2, \"max\": 18446744073709551615, "
      "\"min\": -9223372036854775808, \"s\": \"Zo\xc3\xab "
      "\xf0\x9f\x98\x80\x7f\"}");
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE((*read)["f"].is_number_float());
  EXPECT_EQ((*read)["f"].get<double>(), -0.25);
  EXPECT_TRUE((*read)["e"].is_number_float());
  EXPECT_EQ((*read)["max"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_EQ((*read)["min"].get<int64_t>(), INT64_MIN);
  EXPECT_EQ((*read)["s"].get<std::string>(), "Zo\xc3\xab \xf0\x9f\x98\x80\x7f");
}

TEST(PlainJsonTest, TheLastOfDuplicateKeysWins) {
  const std::optional<Json> read = read_plain_json(R"({"a": 1, "a": [2]})");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->dump(), R"({"a":[2]})");
}

TEST(PlainJsonTest, GivesUpOutsideTheSubset) {
  for (const char* text :
       {"18446744073709551616", "-9223372036854775809", "1e400", R"("\u0041")",
        "\"\xc3\x28\"", "\"\x7f\x01\"", "/* c */ 1", "[1] // c", "", " ",
        "[1,]", "{\"a\":1,}", "01", "-", "nul", "[1] x", "\"cut"}) {
    EXPECT_FALSE(read_plain_json(text).has_value()) << text;
  }
}

// The engine's own envelopes are what the reader is for.
TEST(PlainJsonTest, ReadsTheEnvelopesIsoqubeWrites) {
  Envelope envelope;
  envelope.message_id = "9d0f7c52-7c0f-4d8a-9f0e-3c2b1a0e9d8c";
  envelope.correlation_id = "0b7d5c1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e";
  envelope.message_type = {"urn:message:Isoqube.Topics:Build"};
  envelope.sent_time = from_micros(1795829132123456);
  envelope.headers = {{"Isoqube-Step", "build"}};
  envelope.host = {{"machineName", "worker-1"}, {"processId", 4242}};
  envelope.message = {{"correlationId", envelope.correlation_id},
                      {"stepIndex", 3},
                      {"attempt", 1},
                      {"payload", {{"branch", "main"}, {"tags", {"a", "b"}}}}};
  const std::string text = encode(envelope);
  const std::optional<Json> read = read_plain_json(text);
  ASSERT_TRUE(read.has_value()) << text;
  EXPECT_TRUE(same_json(*read, Json::parse(text)));
}

}  // namespace
}  // namespace isoqube::detail
