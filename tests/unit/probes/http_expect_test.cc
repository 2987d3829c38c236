#include "probes/http_expect.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

namespace lookout {
namespace {

HttpObservation obs(int status, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}, int ms = 10) {
  return HttpObservation{status, std::move(headers), std::move(body), Duration{ms}};
}

TEST(HttpExpect, DefaultIsAny2xx) {
  HttpExpect e;
  EXPECT_EQ(evaluate(e, obs(204)).outcome, Outcome::kUp);
  const auto v = evaluate(e, obs(503));
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.kind, ErrorKind::kExpectation);
  EXPECT_EQ(v.cause, "expected status 2xx, got 503");
}

TEST(HttpExpect, ListsOfCodesAndClasses) {
  HttpExpect e;
  e.status = {{401, 401}, {403, 403}};
  EXPECT_EQ(evaluate(e, obs(403)).outcome, Outcome::kUp);
  EXPECT_EQ(evaluate(e, obs(200)).cause, "expected status 401 or 403, got 200");
  e.status = {{200, 200}, {300, 399}, {404, 404}};
  EXPECT_EQ(evaluate(e, obs(500)).cause, "expected status 200, 3xx or 404, got 500");
  EXPECT_EQ(evaluate(e, obs(302)).outcome, Outcome::kUp);
}

TEST(HttpExpect, BodyContainsAndRegex) {
  HttpExpect e;
  e.body_contains = Secret::plain("Sign in");
  e.body_regex.re = std::make_shared<RE2>("v[0-9]+");
  EXPECT_EQ(evaluate(e, obs(200, "<h1>Sign in</h1> v12")).outcome, Outcome::kUp);
  EXPECT_EQ(evaluate(e, obs(200, "<h1>Sign out</h1> v12")).cause,
            "body does not contain \"Sign in\"");
  EXPECT_EQ(evaluate(e, obs(200, "Sign in vX")).cause, "body does not match /v[0-9]+/");
  // Every failure is named, the status first.
  EXPECT_EQ(evaluate(e, obs(500, "")).cause,
            "expected status 2xx, got 500; body does not contain \"Sign in\"; body does not match "
            "/v[0-9]+/");
}

TEST(HttpExpect, ASecretExpectationIsMaskedInTheCause) {
  HttpExpect e;
  e.body_contains = Secret("canary-body-7f3a", true);
  e.body_regex.re = std::make_shared<RE2>("canary-[0-9]+");
  e.body_regex_secret = true;
  e.headers = {{"X-Build", Secret("canary-head-91c2", true)}};
  const auto pass =
      obs(200, "<p>canary-body-7f3a canary-42</p>", {{"X-Build", "id canary-head-91c2"}});
  EXPECT_EQ(evaluate(e, pass).outcome, Outcome::kUp) << "the secret is what is compared";
  const auto v = evaluate(e, obs(200, "nothing", {{"X-Build", "other"}}));
  EXPECT_EQ(v.cause,
            "body does not contain *** (a secret); body does not match *** (a secret); "
            "header X-Build is \"other\", expected it to contain *** (a secret)");
}

TEST(HttpExpect, JsonComparesByType) {
  HttpExpect e;
  e.json.emplace_back("/status", "ok");
  e.json.emplace_back("/n", 1);
  e.json.emplace_back("/list", nlohmann::json::array({1, 2}));
  EXPECT_EQ(evaluate(e, obs(200, R"({"status":"ok","n":1.0,"list":[1,2]})")).outcome, Outcome::kUp);
  EXPECT_EQ(evaluate(e, obs(200, R"({"status":"ok","n":"1","list":[1,2]})")).cause,
            "/n is \"1\", expected 1");
  EXPECT_EQ(evaluate(e, obs(200, R"({"n":1,"list":[1,2]})")).cause, "no /status in body");
  EXPECT_EQ(evaluate(e, obs(200, R"({"status":"ok","n":1,"list":[2,1]})")).cause,
            "/list is an array of 2 items, expected [1,2]");
  EXPECT_EQ(evaluate(e, obs(200, "<html>")).cause, "body is not valid JSON");
  HttpExpect code;
  code.json.emplace_back("/code", 200);
  EXPECT_NE(evaluate(code, obs(200, R"({"code":"200"})")).outcome, Outcome::kUp);
  EXPECT_EQ(evaluate(code, obs(200, R"({"code":200})")).outcome, Outcome::kUp);
}

TEST(HttpExpect, DeeplyNestedHostileJsonDoesNotCrash) {
  HttpExpect e;
  e.json.emplace_back("/a", 1);
  std::string body(200'000, '[');
  EXPECT_EQ(evaluate(e, obs(200, body)).cause, "body is not valid JSON");
  std::string nested = "{\"a\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_EQ(evaluate(e, obs(200, nested)).cause, "/a is an array of 1 items, expected 1");
}

// Found by fuzzing: a pointer whose token is no array index, on an array, threw out of evaluate().
TEST(HttpExpect, PointerIntoAnArrayWithANameIsMissingNotAThrow) {
  HttpExpect e;
  e.json.emplace_back("/", 1);
  e.json.emplace_back("/a/x", 1);
  EXPECT_EQ(evaluate(e, obs(200, "[]")).cause, "no / in body; no /a/x in body");
  EXPECT_EQ(evaluate(e, obs(200, R"({"a":[1]})")).cause, "no / in body; no /a/x in body");
}

TEST(HttpExpect, HeadersPresentAndContaining) {
  HttpExpect e;
  e.headers = {{"Strict-Transport-Security", Secret::plain("max-age=")}};
  EXPECT_EQ(evaluate(e, obs(200, "", {{"strict-transport-security", "max-age=63072000"}})).outcome,
            Outcome::kUp);
  EXPECT_EQ(evaluate(e, obs(200, "", {})).cause, "header Strict-Transport-Security is missing");
  EXPECT_EQ(evaluate(e, obs(200, "", {{"Strict-Transport-Security", "none"}})).cause,
            "header Strict-Transport-Security is \"none\", expected it to contain \"max-age=\"");
}

TEST(HttpExpect, SlowButCorrectIsDegradedAndDownWins) {
  HttpExpect e;
  e.max_latency = Duration{500};
  const auto slow = evaluate(e, obs(200, "", {}, 750));
  EXPECT_EQ(slow.outcome, Outcome::kDegraded);
  EXPECT_EQ(slow.kind, ErrorKind::kSlow);
  EXPECT_EQ(slow.cause, "took 750ms, above expect.max_latency 500ms");
  EXPECT_EQ(evaluate(e, obs(500, "", {}, 750)).outcome, Outcome::kDown);
  EXPECT_EQ(evaluate(e, obs(200, "", {}, 500)).outcome, Outcome::kUp);
}

}  // namespace
}  // namespace lookout
