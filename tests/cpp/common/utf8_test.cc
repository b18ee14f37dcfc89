// UTF-8 checks for text that leaves the process (common/utf8.h).
#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace isoqube::detail {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8Test, ValidTextIsKeptAsItIs) {
  for (const std::string& text :
       {std::string(), std::string("plain"), std::string("caf\xC3\xA9"),
        std::string("\xE2\x82\xAC 5"), std::string("\xF0\x9F\x98\x80"),
        std::string("nul \0 inside", 12)}) {
    EXPECT_EQ(valid_utf8(text), text);
    EXPECT_EQ(invalid_utf8_in(Json(text)), "") << text;
  }
}

TEST(Utf8Test, EachByteOutsideAValidSequenceBecomesAReplacementCharacter) {
  EXPECT_EQ(valid_utf8("a\xFF"
                       "b"),
            "a" + kReplacement + "b");
  // An overlong "/", a surrogate, a code point past U+10FFFF
  EXPECT_EQ(valid_utf8("\xC0\xAF"), kReplacement + kReplacement);
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"),
            kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"),
            kReplacement + kReplacement + kReplacement + kReplacement);
  // A sequence cut short at the end, and a valid one after a stray byte
  EXPECT_EQ(valid_utf8("ok\xE2\x82"), "ok" + kReplacement + kReplacement);
  EXPECT_EQ(valid_utf8("\x80\xC3\xA9"), kReplacement + "\xC3\xA9");
  // What comes out can always be written as JSON
  EXPECT_NO_THROW(Json(valid_utf8("\xFE\xFF\xC3")).dump());
}

TEST(Utf8Test, TheFirstInvalidStringOrKeyIsNamedByItsJsonPointer) {
  const Json good = {{"files", {"a.txt", "caf\xC3\xA9"}}, {"n", 1}};
  EXPECT_EQ(invalid_utf8_in(good), "");
  EXPECT_EQ(invalid_utf8_in(Json("x\xFF")),
            "the value: invalid UTF-8 byte 0xFF at offset 1");

  Json in_array = good;
  in_array["files"].push_back("bad\xFE");
  EXPECT_EQ(invalid_utf8_in(in_array),
            "'/files/2': invalid UTF-8 byte 0xFE at offset 3");

  Json in_key = good;
  in_key["logs"] = {{"a/b~\xC0", true}};
  EXPECT_EQ(invalid_utf8_in(in_key),
            "the key of '/logs/a~1b~0" + kReplacement +
                "': invalid UTF-8 byte 0xC0 at offset 4");
}

TEST(Utf8Test, JsonStringLiteralsAreWhatDumpWrites) {
  std::string every_byte_below_0x80;
  for (int c = 0; c < 0x80; ++c) every_byte_below_0x80 += static_cast<char>(c);
  for (const std::string& text :
       {std::string(), every_byte_below_0x80, std::string("caf\xC3\xA9"),
        std::string("\xF0\x9F\x98\x80 \"q\" \\")}) {
    std::string out = "prefix ";
    append_json_string(out, text);
    EXPECT_EQ(out, "prefix " + Json(text).dump()) << text;
  }
  std::string out;
  append_json_string(out, "bad \xFF\n");
  EXPECT_EQ(
      out,
      Json("bad \xFF\n").dump(-1, ' ', false, Json::error_handler_t::replace));
}

TEST(Utf8Test, InvalidBytesAreEscapedSoThatQuotedBadInputStaysReadable) {
  EXPECT_EQ(escape_invalid_utf8("caf\xC3\xA9 ok"), "caf\xC3\xA9 ok");
  EXPECT_EQ(escape_invalid_utf8("last read: '\xFF\xFE'"),
            "last read: '\\xFF\\xFE'");
  // A sequence cut short, and an overlong '/'.
  EXPECT_EQ(escape_invalid_utf8("\xE2\x82 \xC0\xAF"), "\\xE2\\x82 \\xC0\\xAF");
  EXPECT_EQ(invalid_utf8_in(Json(escape_invalid_utf8("\x80\xBF\xF5"))), "");
}

TEST(Utf8Test, AnOutputThatCannotBeStoredSaysWhy) {
  EXPECT_EQ(unstorable(Json{{"ok", "yes"}}), "");
  Json deep = 1;
  for (int i = 0; i <= kMaxJsonDepth; ++i) deep = Json::array({deep});
  EXPECT_EQ(unstorable(deep),
            "its output nests arrays and objects deeper than 64 levels");
  EXPECT_EQ(unstorable(Json{{"name", "\xFF"}}),
            "its output cannot be stored as JSON: '/name': invalid UTF-8 byte "
            "0xFF at offset 0");
}

}  // namespace
}  // namespace isoqube::detail
