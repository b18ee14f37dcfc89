#include "common/uri.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "isoqube/errors.h"

namespace isoqube::detail {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(const std::string& text) {
  try {
    parse_uri(text);
  } catch (const ConfigurationError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigurationError for '" << text << "'";
  return "";
}

TEST(ParseUriTest, ReadsEveryComponentOfAnAmqpUri) {
  const Uri uri = parse_uri(
      "AMQP://guest:secret@rabbit.example:5672/isoqube?heartbeat=30&x=y");
  EXPECT_EQ(uri.scheme, "amqp");
  EXPECT_EQ(uri.user, "guest");
  EXPECT_EQ(uri.password, "secret");
  EXPECT_EQ(uri.host, "rabbit.example");
  EXPECT_EQ(uri.port, 5672);
  EXPECT_EQ(uri.path, "/isoqube");
  EXPECT_EQ(uri.query.at("heartbeat"), "30");
  EXPECT_EQ(uri.query.at("x"), "y");
}

TEST(ParseUriTest, MemoryUriHasNothingButItsScheme) {
  const Uri uri = parse_uri("memory://");
  EXPECT_EQ(uri.scheme, "memory");
  EXPECT_EQ(uri.host, "");
  EXPECT_EQ(uri.port, 0);
  EXPECT_EQ(uri.path, "");
  EXPECT_TRUE(uri.query.empty());
}

TEST(ParseUriTest, SqliteAbsolutePathHasEmptyHost) {
  const Uri uri = parse_uri("sqlite:///abs/path.db");
  EXPECT_EQ(uri.host, "");
  EXPECT_EQ(uri.path, "/abs/path.db");
}

TEST(ParseUriTest, SqliteRelativeNameLandsInHost) {
  const Uri uri = parse_uri("sqlite://relative.db");
  EXPECT_EQ(uri.host, "relative.db");
  EXPECT_EQ(uri.path, "");
}

TEST(ParseUriTest, UserWithoutPassword) {
  const Uri uri = parse_uri("amqp://guest@localhost");
  EXPECT_EQ(uri.user, "guest");
  EXPECT_EQ(uri.password, "");
  EXPECT_EQ(uri.host, "localhost");
}

TEST(ParseUriTest, DecodesPercentEncodingInEveryComponent) {
  const Uri uri =
      parse_uri("amqp://us%40er:p%2Fss%3Aw@h%6Fst/%2Fvhost?k%20ey=v%26al");
  EXPECT_EQ(uri.user, "us@er");
  EXPECT_EQ(uri.password, "p/ss:w");
  EXPECT_EQ(uri.host, "host");
  EXPECT_EQ(uri.path, "//vhost");
  EXPECT_EQ(uri.query.at("k ey"), "v&al");
}

TEST(ParseUriTest, PasswordMayContainAnUnencodedAt) {
  const Uri uri = parse_uri("amqp://user:p@ss@host");
  EXPECT_EQ(uri.password, "p@ss");
  EXPECT_EQ(uri.host, "host");
}

TEST(ParseUriTest, ReadsBracketedIpv6HostAndPort) {
  const Uri uri = parse_uri("amqp://[::1]:5673/vh");
  EXPECT_EQ(uri.host, "::1");
  EXPECT_EQ(uri.port, 5673);
  EXPECT_EQ(uri.path, "/vh");
}

TEST(ParseUriTest, KeepsAMongoHostListWhole) {
  const Uri uri = parse_uri("mongodb://a:27017,b:27018/Isoqube?replicaSet=rs0");
  EXPECT_EQ(uri.host, "a:27017,b:27018");
  EXPECT_EQ(uri.port, 0);
  EXPECT_EQ(uri.path, "/Isoqube");
  EXPECT_EQ(uri.query.at("replicaSet"), "rs0");
}

TEST(ParseUriTest, QueryWithoutPathAndFlagWithoutValue) {
  const Uri uri = parse_uri("memory://?fast&n=2");
  EXPECT_EQ(uri.query.at("fast"), "");
  EXPECT_EQ(uri.query.at("n"), "2");
}

TEST(ParseUriTest, MissingSchemeNamesTheUriAndTheExpectedForm) {
  EXPECT_THAT(error_of("localhost:5672"),
              AllOf(HasSubstr("'localhost:5672'"), HasSubstr("scheme://")));
}

TEST(ParseUriTest, EmptyTextIsAnError) {
  EXPECT_THAT(error_of(""), HasSubstr("scheme://"));
}

TEST(ParseUriTest, BadSchemeIsAnError) {
  EXPECT_THAT(error_of("1amqp://host"), HasSubstr("bad scheme '1amqp'"));
}

TEST(ParseUriTest, NonNumericPortIsAnErrorThatHidesThePassword) {
  EXPECT_THAT(
      error_of("amqp://u:secret@host:56x2/"),
      AllOf(HasSubstr("bad port '56x2'"),
            HasSubstr("'amqp://u:***@host:56x2/'"), Not(HasSubstr("secret"))));
}

TEST(ParseUriTest, PortOutOfRangeIsAnError) {
  EXPECT_THAT(error_of("amqp://host:65536"), HasSubstr("65536"));
  EXPECT_THAT(error_of("amqp://host:0"), HasSubstr("out of range"));
  EXPECT_THAT(error_of("amqp://host:99999999999999999999"),
              HasSubstr("bad port"));
}

TEST(ParseUriTest, EmptyPortIsAnError) {
  EXPECT_THAT(error_of("amqp://host:/vh"), HasSubstr("empty port"));
}

TEST(ParseUriTest, BadPercentEncodingIsAnErrorNamingTheComponent) {
  EXPECT_THAT(error_of("sqlite:///tmp/%zz.db"),
              AllOf(HasSubstr("percent-encoding"), HasSubstr("path")));
  EXPECT_THAT(error_of("amqp://u:pw%4@host"),
              AllOf(HasSubstr("percent-encoding"), HasSubstr("password"),
                    Not(HasSubstr("pw%4"))));
}

TEST(ParseUriTest, FragmentIsAnError) {
  EXPECT_THAT(error_of("memory://#x"), HasSubstr("fragments"));
}

TEST(ParseUriTest, UnclosedIpv6BracketIsAnError) {
  EXPECT_THAT(error_of("amqp://[::1:5672"), HasSubstr("unclosed '['"));
}

TEST(UriMaskedTest, ReplacesThePasswordOnly) {
  const Uri uri = parse_uri("amqp://guest:secret@host:5672/vh?a=1&b=2");
  EXPECT_EQ(uri.masked(), "amqp://guest:***@host:5672/vh?a=1&b=2");
}

TEST(UriMaskedTest, LeavesUrisWithoutPasswordAsTheyWere) {
  EXPECT_EQ(parse_uri("amqp://guest@host").masked(), "amqp://guest@host");
  EXPECT_EQ(parse_uri("sqlite:///a/b.db").masked(), "sqlite:///a/b.db");
  EXPECT_EQ(parse_uri("amqp://[::1]:5672").masked(), "amqp://[::1]:5672");
}

TEST(MaskPasswordTest, MasksRawText) {
  EXPECT_EQ(mask_password("amqps://u:p@h:5671/v"), "amqps://u:***@h:5671/v");
}

TEST(MaskPasswordTest, MasksPasswordsContainingSlashesAndAts) {
  EXPECT_EQ(mask_password("amqp://u:p/a@b@h/v"), "amqp://u:***@h/v");
}

TEST(MaskPasswordTest, LeavesTextWithoutPasswordUnchanged) {
  EXPECT_EQ(mask_password("amqp://u@h:5672"), "amqp://u@h:5672");
  EXPECT_EQ(mask_password("amqp://h:5672"), "amqp://h:5672");
  EXPECT_EQ(mask_password("not a uri"), "not a uri");
  EXPECT_EQ(mask_password("memory://?to=a@b"), "memory://?to=a@b");
}

}  // namespace
}  // namespace isoqube::detail
