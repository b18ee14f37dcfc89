#include "common/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace isoqube::detail {
namespace {

std::string nested(int levels, const std::string& inside = "1") {
  return std::string(levels, '[') + inside + std::string(levels, ']');
}

TEST(JsonDepthTest, TextAtTheLimitPassesAndOneLevelMoreIsFoundWhereItOpens) {
  EXPECT_EQ(deeper_than(nested(64), 64, false), std::nullopt);
  EXPECT_EQ(deeper_than(nested(65), 64, false), std::optional<size_t>(64));
  EXPECT_EQ(deeper_than("{\"a\":" + nested(64) + "}", 64, false),
            std::optional<size_t>(68));
}

TEST(JsonDepthTest, SiblingsDoNotAddUp) {
  std::string text = "[";
  for (int i = 0; i < 1000; ++i) text += (i ? "," : "") + nested(10);
  text += "]";
  EXPECT_EQ(deeper_than(text, 11, false), std::nullopt);
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
  const std::string text = "[\"[[[[\\\"[[[[\", \"{{{{\"]";
  EXPECT_EQ(deeper_than(text, 1, false), std::nullopt);
}

TEST(JsonDepthTest, BracketsInsideCommentsCountOnlyWhenCommentsAreNotJson) {
  const std::string text = "[ // [[[[\n /* {{{{ */ 1]";
  EXPECT_EQ(deeper_than(text, 1, true), std::nullopt);
  EXPECT_NE(deeper_than(text, 1, false), std::nullopt);
}

TEST(JsonDepthTest, ThirtyThousandLevelsAreMeasuredWithoutRecursion) {
  // Far deeper than any stack could recurse through.
  EXPECT_EQ(deeper_than(nested(300000), 64, false), std::optional<size_t>(64));
}

TEST(JsonDepthTest, TextThatIsNotJsonStillReturns) {
  EXPECT_EQ(deeper_than("]]]}}\"unterminated [[[", 1, false), std::nullopt);
  EXPECT_EQ(deeper_than("", 0, false), std::nullopt);
}

TEST(JsonDepthTest, ValuesAreMeasuredByLevelsOfArraysAndObjects) {
  EXPECT_FALSE(deeper_than(Json(1), 0));
  EXPECT_TRUE(deeper_than(Json::array(), 0));
  EXPECT_FALSE(deeper_than(Json::parse(nested(64)), 64));
  EXPECT_TRUE(deeper_than(Json::parse(nested(65)), 64));
  EXPECT_TRUE(deeper_than(Json{{"a", {{"b", {{"c", Json::array()}}}}}}, 3));
  EXPECT_FALSE(deeper_than(Json{{"a", {{"b", {{"c", Json::array()}}}}}}, 4));
}

}  // namespace
}  // namespace isoqube::detail
