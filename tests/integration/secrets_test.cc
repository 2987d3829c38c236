// A canary secret put everywhere a secret may stand must come out nowhere: not in logs, the
// API, metrics, `lookout probe` output or config errors. The target proves it was really sent.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const std::string kCanary = "canary-5d41402abc4b2a76";
const std::string kToken = "admin-canary-9e107d9d372bb6826bd8";

std::string config_with_secrets(int port) {
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
)",
                     port);
}

TEST(Secrets, CanaryNeverLeaves) {
  TempDir dir;
  TargetServer target;
  std::mutex mu;
  std::string seen_key;
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
  add_standard_routes(target);  // after ours: the first route registered for a path wins
  target.start();

  Daemon d(dir, config_with_secrets(target.port()), "admin_token = \"${env:ADMIN}\"",
           {{"CANARY", kCanary}, {"ADMIN", kToken}});
  d.start();
  ASSERT_TRUE(wait_until(
      [&] {
        for (const char* n : {"secret-header", "secret-refused", "secret-loop", "secret-body"}) {
          if (d.monitor(n)["state"] != "down") return false;
        }
        return true;
      },
      10'000ms));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen_key, kCanary) << "the secret header was not sent";
  }

  std::vector<std::pair<std::string, std::string>> outputs{
      {"status", d.status().dump()},
      {"status as admin", d.status(kToken).dump()},
      {"metrics", d.metrics()},
      {"metrics as admin", http_get(d.port(), "/metrics", {{"Authorization", "Bearer " + kToken}}).body},
      {"healthz", http_get(d.port(), "/healthz").body},
      {"status page", http_get(d.port(), "/").body},
      {"status page as admin", http_get(d.port(), "/", {{"Authorization", "Bearer " + kToken}}).body},
      {"monitor page", http_get(d.port(), "/monitor/secret-header").body},
      {"monitor page as admin", http_get(d.port(), "/monitor/secret-body", {{"Authorization", "Bearer " + kToken}}).body},
      {"badge", http_get(d.port(), "/badge/secret-header.svg").body},
      {"history", http_get(d.port(), "/api/v1/monitors/secret-header/history").body},
      {"incidents", http_get(d.port(), "/api/v1/incidents").body},
      {"incidents as admin", http_get(d.port(), "/api/v1/incidents", {{"Authorization", "Bearer " + kToken}}).body},
  };
  const auto table = run_lookout({"probe", "-c", d.config_path()}, {{"CANARY", kCanary}, {"ADMIN", kToken}});
  EXPECT_EQ(table.code, 1);
  outputs.emplace_back("probe table", table.out + table.err);
  const auto json = run_lookout({"probe", "--json", "-c", d.config_path()}, {{"CANARY", kCanary}, {"ADMIN", kToken}});
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
    EXPECT_EQ(text.find(kCanary), std::string::npos) << "the canary leaked into " << where;
    EXPECT_EQ(text.find(kToken), std::string::npos) << "the admin token leaked into " << where;
  }
  // The echoed secret was masked in the cause, which still reads.
  EXPECT_NE(outputs[1].second.find(R"(header X-Echo is \"you sent: ***\", expected it to contain)"), std::string::npos)
      << outputs[1].second;
}

}  // namespace
}  // namespace lookout::testing
