// The pure parts of a journey: {{name}} templates with the escaping of each place, and the
// values taken from responses.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "probes/extract.h"
#include "probes/template.h"

namespace lookout {
namespace {

TEST(Template, EscapesForEachPlace) {
  const std::map<std::string, std::string> vars{{"token", "a b&c/\"d\"\n"}, {"id", "42"}};
  EXPECT_EQ(render_template("/api/{{id}}?t={{token}}", vars, Escape::kUrl),
            "/api/42?t=a%20b%26c%2F%22d%22%0A");
  EXPECT_EQ(render_template("{\"t\":\"{{token}}\"}", vars, Escape::kJson),
            "{\"t\":\"a b&c/\\\"d\\\"\\n\"}");
  EXPECT_EQ(render_template("Bearer {{token}}", vars, Escape::kNone), "Bearer a b&c/\"d\"\n");
  EXPECT_EQ(render_template("{{unknown}} {{id", vars, Escape::kNone), "{{unknown}} {{id");
  EXPECT_EQ(form_encode({{"email", "a+b@c.test"}, {"csrf", "x=y"}}),
            "email=a%2Bb%40c.test&csrf=x%3Dy");
}

TEST(Extract, FromJsonRegexHeaderAndCookie) {
  HttpObservation obs;
  obs.body = R"({"token":"t0k","n":{"id":7}} name="csrf" value="c5rf")";
  obs.headers = {{"X-Request-Id", "r1"}};
  std::string why;
  Extract json{"token", Extract::From::kJson, "/token", {}};
  // The body above is not JSON as a whole: the pointer cannot be read.
  EXPECT_FALSE(extract_value(json, obs, {}, why));
  EXPECT_NE(why.find("not JSON"), std::string::npos);
  obs.body = R"({"token":"t0k","n":{"id":7}})";
  EXPECT_EQ(extract_value(json, obs, {}, why), "t0k");
  EXPECT_EQ(extract_value(Extract{"id", Extract::From::kJson, "/n/id", {}}, obs, {}, why), "7");
  EXPECT_FALSE(extract_value(Extract{"x", Extract::From::kJson, "/missing", {}}, obs, {}, why));
  EXPECT_EQ(why, "no /missing in the body to take as x");

  obs.body = R"html(<input name="csrf" value="c5rf">)html";
  auto re = std::make_shared<RE2>(R"re(name="csrf" value="([^"]+)")re");
  EXPECT_EQ(
      extract_value(Extract{"csrf", Extract::From::kRegex, re->pattern(), {re}}, obs, {}, why),
      "c5rf");
  EXPECT_EQ(extract_value(Extract{"rid", Extract::From::kHeader, "x-request-id", {}}, obs, {}, why),
            "r1");
  const auto cookies =
      parse_cookie_lines({"127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\tdef",
                          "#HttpOnly_x\tFALSE\t/\tFALSE\t0\tother\t1", "broken line"});
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_EQ(extract_value(Extract{"sid", Extract::From::kCookie, "sid", {}}, obs, cookies, why),
            "abc\tdef");
  EXPECT_FALSE(
      extract_value(Extract{"none", Extract::From::kCookie, "none", {}}, obs, cookies, why));
  EXPECT_EQ(why, "no cookie none to take as none");
}

}  // namespace
}  // namespace lookout
