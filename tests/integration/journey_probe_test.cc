// The journey kind against a sample client portal started by the test: a login form with a
// CSRF token bound to a cookie, a session endpoint returning a bearer token, /api/me, and
// per-client invoices. The journey signs in, reads its own invoice and proves another
// client's is refused; when the portal's authorization check breaks, the journey fails
// naming that step. Extracted values and secrets never reach a cause, a log or the database.
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <thread>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr const char* kPassword = "canary-pass-Zq81";

std::string random_token(std::mt19937_64& rng) {
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

class Portal {
 public:
  Portal() {
    auto& r = server_.routes();
    r.Get("/login", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      const std::string sid = random_token(rng_);
      const std::string csrf = random_token(rng_);
      csrf_by_sid_[sid] = csrf;
      res.set_header("Set-Cookie", "sid=" + sid + "; Path=/; HttpOnly");
      res.set_content(
          fmt::format(
              "<form method=post><input type=hidden name=\"csrf\" value=\"{}\">Sign in</form>",
              csrf),
          "text/html");
    });
    r.Post("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      const std::string cookie = req.get_header_value("Cookie");
      const auto at = cookie.find("sid=");
      const std::string sid = at == std::string::npos ? "" : cookie.substr(at + 4, 32);
      const auto it = csrf_by_sid_.find(sid);
      if (it == csrf_by_sid_.end() || req.get_param_value("csrf") != it->second) {
        res.status = 403;
        res.set_content("{\"error\":\"bad csrf\"}", "application/json");
        return;
      }
      if (req.get_param_value("email") != "ops@acme.test" ||
          req.get_param_value("password") != kPassword) {
        res.status = 401;
        return;
      }
      const std::string token = random_token(rng_);
      tokens_[token] = "acme";
      last_token_ = token;
      res.set_content(nlohmann::json{{"token", token}}.dump(), "application/json");
    });
    r.Get("/api/me", [this](const httplib::Request& req, httplib::Response& res) {
      const auto client = client_of(req);
      if (client.empty()) {
        res.status = 401;
        return;
      }
      res.set_content(
          nlohmann::json{{"client", client},
                         {"token_echo", req.get_header_value("Authorization").substr(7)}}
              .dump(),
          "application/json");
    });
    r.Get(R"(/api/invoices/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      const auto client = client_of(req);
      if (client.empty()) {
        res.status = 401;
        return;
      }
      const std::string id = req.matches[1];
      const std::string owner = id == "1000" ? "acme" : "globex";
      if (owner != client && check_authorization) {
        res.status = 404;
        return;
      }
      res.set_content(
          nlohmann::json{{"id", std::stoi(id)}, {"client", owner}, {"total", 120.5}}.dump(),
          "application/json");
    });
    r.Get("/huge", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(50 << 20, 'x'), "text/plain");
    });
    server_.start();
  }
  int port() const { return server_.port(); }
  std::string last_token() {
    std::lock_guard lock(mu_);
    return last_token_;
  }
  std::atomic<bool> check_authorization{true};

 private:
  std::string client_of(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) != 0) return "";
    const auto it = tokens_.find(auth.substr(7));
    return it == tokens_.end() ? "" : it->second;
  }
  TargetServer server_;
  std::mutex mu_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::map<std::string, std::string> csrf_by_sid_, tokens_;
  std::string last_token_;
};

std::string journey(int port, const std::string& extra_me = "") {
  return fmt::format(R"toml(
[[monitor]]
name = "client-journey"
type = "journey"
public = true
interval = "1s"
timeout = "1s"
fail_after = 1
recover_after = 1
  [[monitor.step]]
  name = "login page"
  url = "http://127.0.0.1:{0}/login"
  expect.body_contains = "Sign in"
  extract.csrf = {{ regex = 'name="csrf" value="([^"]+)"' }}
  extract.sid = {{ cookie = "sid" }}
  [[monitor.step]]
  name = "sign in"
  method = "POST"
  url = "http://127.0.0.1:{0}/api/session"
  form = {{ email = "ops@acme.test", password = "${{env:JOURNEY_PASS}}", csrf = "{{{{csrf}}}}" }}
  expect.status = [200]
  extract.token = {{ json = "/token" }}
  [[monitor.step]]
  name = "dashboard"
  url = "http://127.0.0.1:{0}/api/me"
  headers = {{ Authorization = "Bearer {{{{token}}}}" }}
  expect.json = {{ "/client" = "acme" {1} }}
  [[monitor.step]]
  name = "own invoice"
  url = "http://127.0.0.1:{0}/api/invoices/1000"
  headers = {{ Authorization = "Bearer {{{{token}}}}" }}
  expect.json = {{ "/client" = "acme" }}
  [[monitor.step]]
  name = "another client's invoice is refused"
  url = "http://127.0.0.1:{0}/api/invoices/1001"
  headers = {{ Authorization = "Bearer {{{{token}}}}" }}
  expect.status = [403, 404]
)toml",
                     port, extra_me);
}

TEST(JourneyProbe, PassesThenFailsNamingTheStepWhenAuthorizationBreaks) {
  TempDir dir;
  Portal portal;
  Daemon d(dir, journey(portal.port()), "", {{"JOURNEY_PASS", kPassword}});
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("client-journey")["state"] == "up"; }, 10'000ms))
      << d.monitor("client-journey").dump();

  portal.check_authorization = false;
  ASSERT_TRUE(wait_until([&] { return d.monitor("client-journey")["state"] == "down"; }, 10'000ms));
  // The cause of the failed run names the step by number and name.
  const auto incidents =
      nlohmann::json::parse(http_get(d.port(), "/api/v1/incidents?state=open").body);
  ASSERT_EQ(incidents["incidents"].size(), 1u);
  EXPECT_EQ(incidents["incidents"][0]["cause"],
            "step 5 'another client's invoice is refused': expected status 403 or 404, got 200");

  portal.check_authorization = true;
  ASSERT_TRUE(wait_until([&] { return d.monitor("client-journey")["state"] == "up"; }, 10'000ms));
}

TEST(JourneyProbe, ExtractedValuesAndSecretsNeverShow) {
  TempDir dir;
  Portal portal;
  // The dashboard step fails with a cause that would quote the extracted token.
  Daemon d(dir, journey(portal.port(), ", \"/token_echo\" = \"not-the-token\""), "",
           {{"JOURNEY_PASS", kPassword}});
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("client-journey")["state"] == "down"; }, 10'000ms));
  const std::string token = portal.last_token();
  ASSERT_FALSE(token.empty());
  const auto m = d.monitor("client-journey");
  const std::string incidents = http_get(d.port(), "/api/v1/incidents").body;
  EXPECT_NE(incidents.find("step 3 'dashboard': /token_echo is \\\"***\\\""), std::string::npos)
      << incidents;
  d.process().signal(SIGTERM);
  d.process().wait(10'000ms);
  const std::string logs = d.process().err() + d.process().out();
  const std::string db = read_file(d.db_path()) + read_file(d.db_path() + "-wal");
  for (const std::string& secret : {token, std::string(kPassword)}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << "in the log: " << secret;
    EXPECT_EQ(incidents.find(secret), std::string::npos);
    EXPECT_EQ(db.find(secret), std::string::npos) << "in the database: " << secret;
  }
}

TEST(JourneyProbe, AHugeStepAnswerAndTheWholeRunTimeoutFailTheRun) {
  TempDir dir;
  Portal portal;
  TargetServer slow;
  slow.routes().Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    res.set_content("ok", "text/plain");
  });
  slow.start();
  dir.write("c.toml", fmt::format(R"(
[[monitor]]
name = "huge"
type = "journey"
  [[monitor.step]]
  url = "http://127.0.0.1:{0}/login"
  [[monitor.step]]
  name = "report"
  url = "http://127.0.0.1:{0}/huge"

[[monitor]]
name = "slow"
type = "journey"
timeout = "1s"
  [[monitor.step]]
  url = "http://127.0.0.1:{1}/slow"
  [[monitor.step]]
  url = "http://127.0.0.1:{1}/slow"
  [[monitor.step]]
  name = "third"
  url = "http://127.0.0.1:{1}/slow"
)",
                                  portal.port(), slow.port()));
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(r.at("huge")["cause"],
            "step 2 'report': body is larger than max_body 1MiB; the rest was not downloaded");
  EXPECT_EQ(r.at("slow")["cause"],
            "step 3 'third': the journey did not finish within its timeout 1s");
}

}  // namespace
}  // namespace lookout::testing
