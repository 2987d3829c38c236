// A canary secret put everywhere a secret may stand must come out nowhere: not in logs, the
// API, metrics, pages, alerts, `lookout probe` output, config errors or the database file. The
// target proves it was really sent. (What a crash prints: the CrashOutput unit tests.)
#include <gtest/gtest.h>

#include <mutex>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const std::string kCanary = "canary-5d41402abc4b2a76";
const std::string kToken = "admin-canary-9e107d9d372bb6826bd8";
const std::string kHookKey = "hook-canary-e4da3b7fbbce2345d777";
const std::string kMailPassword = "mail-canary-1679091c5a880faf6fb5";
// An expected text may be a secret too (a build id, a tenant's name): compared, never shown.
const std::string kExpected = "expect-canary-8f14e45fceea167a";

std::string config_with_secrets(int port, int smtp_port) {
  return fmt::format(R"([defaults]
interval = "300ms"
timeout = "250ms"
fail_after = 1
public = true

[[monitor]]
name = "secret-header"
type = "http"
url = "http://127.0.0.1:{0}/fail?key=${{env:CANARY}}"
headers = {{ X-Api-Key = "${{env:CANARY}}", Authorization = "Bearer ${{env:CANARY}}" }}

[[monitor]]
name = "secret-refused"
type = "http"
url = "http://127.0.0.1:1/${{env:CANARY}}"

[[monitor]]
name = "secret-loop"
type = "http"
url = "http://127.0.0.1:{0}/loop?${{env:CANARY}}"

[[monitor]]
name = "secret-body"
type = "http"
method = "POST"
url = "http://127.0.0.1:{0}/echo"
body = "${{env:CANARY}}"
expect.headers = {{ X-Echo = "nothing like this" }}

[[monitor]]
name = "secret-expect"
type = "http"
method = "POST"
url = "http://127.0.0.1:{0}/echo"
body = "hello"
expect.body_contains = "${{env:EXPECTED}}"
expect.body_regex = "${{env:EXPECTED}}[0-9]+"
expect.headers = {{ X-Echo = "${{env:EXPECTED}}" }}

[[channel]]
name = "mail"
type = "email"
smtp_url = "smtp://127.0.0.1:{1}"
starttls = "off"
username = "alice"
password = "${{env:MAIL_PASSWORD}}"
from = "lookout@test.example"
to = ["oncall@test.example"]

[[channel]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{0}/hook?token=${{env:CANARY}}"
secret = "${{env:HOOK_KEY}}"
headers = {{ Authorization = "Bearer ${{env:CANARY}}" }}

[[route]]
name = "everything"
notify = ["mail", "hook"]
group_wait = "0s"
group_interval = "0s"
)",
                     port, smtp_port);
}

const std::map<std::string, std::string> kEnv{{"CANARY", kCanary},
                                              {"ADMIN", kToken},
                                              {"HOOK_KEY", kHookKey},
                                              {"MAIL_PASSWORD", kMailPassword},
                                              {"EXPECTED", kExpected}};

TEST(Secrets, CanaryNeverLeaves) {
  TempDir dir;
  SmtpServer smtp(dir, {"alice:" + kMailPassword, "", ""});
  TargetServer target;
  std::mutex mu;
  std::string seen_key, seen_hook_token, seen_hook_auth;
  std::vector<std::string> hooks;  // the bodies the webhook receiver got
  target.routes().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    // A hostile target echoing the secret back, where a cause quotes it.
    res.set_header("X-Echo", "you sent: " + req.body);
    res.set_content("you sent: " + req.body, "text/plain");
  });
  target.routes().Get("/fail", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    seen_key = req.get_header_value("X-Api-Key");
    res.status = 500;
    res.set_content("error for key " + req.get_param_value("key"), "text/plain");
  });
  target.routes().Post("/hook", [&](const httplib::Request& req, httplib::Response&) {
    std::lock_guard lock(mu);
    seen_hook_token = req.get_param_value("token");
    seen_hook_auth = req.get_header_value("Authorization");
    hooks.push_back(req.body);
  });
  add_standard_routes(target);  // after ours: the first route registered for a path wins
  target.start();

  Daemon d(dir, config_with_secrets(target.port(), smtp.port()),
           "public_url = \"http://127.0.0.1:@PORT@\"\nadmin_token = \"${env:ADMIN}\"", kEnv);
  d.start();
  ASSERT_TRUE(wait_until(
      [&] {
        for (const char* n :
             {"secret-header", "secret-refused", "secret-loop", "secret-body", "secret-expect"}) {
          if (d.monitor(n)["state"] != "down") return false;
        }
        return true;
      },
      10'000ms));
  // Every monitor's incident reached both channels (one grouped message each, or more).
  auto names_all = [](const std::vector<std::string>& texts) {
    std::string all;
    for (const auto& t : texts) all += t;
    for (const char* n :
         {"secret-header", "secret-refused", "secret-loop", "secret-body", "secret-expect"}) {
      if (all.find(n) == std::string::npos) return false;
    }
    return true;
  };
  ASSERT_TRUE(wait_until([&] { return names_all(smtp.messages()); }, 15'000ms));
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return names_all(hooks);
      },
      15'000ms));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen_key, kCanary) << "the secret header was not sent";
    EXPECT_EQ(seen_hook_token, kCanary) << "the webhook URL's secret was not used";
    EXPECT_EQ(seen_hook_auth, "Bearer " + kCanary) << "the webhook's secret header was not sent";
  }

  std::vector<std::pair<std::string, std::string>> outputs{
      {"status", d.status().dump()},
      {"status as admin", d.status(kToken).dump()},
      {"metrics", d.metrics()},
      {"metrics as admin",
       http_get(d.port(), "/metrics", {{"Authorization", "Bearer " + kToken}}).body},
      {"healthz", http_get(d.port(), "/healthz").body},
      {"status page", http_get(d.port(), "/").body},
      {"status page as admin",
       http_get(d.port(), "/", {{"Authorization", "Bearer " + kToken}}).body},
      {"monitor page", http_get(d.port(), "/monitor/secret-header").body},
      {"monitor page as admin",
       http_get(d.port(), "/monitor/secret-body", {{"Authorization", "Bearer " + kToken}}).body},
      {"badge", http_get(d.port(), "/badge/secret-header.svg").body},
      {"history", http_get(d.port(), "/api/v1/monitors/secret-header/history").body},
      {"incidents", http_get(d.port(), "/api/v1/incidents").body},
      {"incidents as admin",
       http_get(d.port(), "/api/v1/incidents", {{"Authorization", "Bearer " + kToken}}).body},
  };
  for (const auto& m : smtp.messages()) outputs.emplace_back("email", m);
  {
    std::lock_guard lock(mu);
    for (const auto& h : hooks) outputs.emplace_back("webhook", h);
  }
  const auto table = run_lookout({"probe", "-c", d.config_path()}, kEnv);
  EXPECT_EQ(table.code, 1);
  outputs.emplace_back("probe table", table.out + table.err);
  const auto json = run_lookout({"probe", "--json", "-c", d.config_path()}, kEnv);
  outputs.emplace_back("probe json", json.out + json.err);

  // A config error about a secret value names the place, not the value.
  dir.write("bad.toml", "[[monitor]]\nname = \"x\"\ntype = \"http\"\nurl = \"${env:CANARY}\"\n");
  const auto check = run_lookout({"check", "-c", dir.file("bad.toml")}, {{"CANARY", kCanary}});
  EXPECT_EQ(check.code, 2);
  EXPECT_NE(check.err.find("bad.toml:4:7: url *** has no scheme"), std::string::npos) << check.err;
  outputs.emplace_back("check", check.out + check.err);

  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(10'000ms), 0);
  outputs.emplace_back("daemon log", d.process().out() + d.process().err());
  outputs.emplace_back("database", read_file(d.db_path()) + read_file(d.db_path() + "-wal"));

  for (const auto& [where, text] : outputs) {
    for (const std::string& secret : {kCanary, kToken, kHookKey, kMailPassword, kExpected}) {
      EXPECT_EQ(text.find(secret), std::string::npos)
          << "a secret (" << secret.substr(0, 4) << "…) leaked into " << where;
    }
  }
  // The echoed secret was masked in the cause, which still reads.
  EXPECT_NE(outputs[1].second.find(R"(header X-Echo is \"you sent: ***\", expected it to contain)"),
            std::string::npos)
      << outputs[1].second;
  // A secret expectation is named as one.
  EXPECT_NE(
      outputs[1].second.find("body does not contain *** (a secret); body does not match *** (a "
                             "secret); header X-Echo is "
                             "\\\"you sent: hello\\\", expected it to contain *** (a secret)"),
      std::string::npos)
      << outputs[1].second;
}

}  // namespace
}  // namespace lookout::testing
