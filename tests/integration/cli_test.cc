// The command line of CONTRACT.md with the real binary: exit codes, messages, output forms.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

std::string two_monitors(int port) {
  return fmt::format(R"([[monitor]]
name = "good"
type = "http"
url = "http://127.0.0.1:{0}/ok"
timeout = "2s"

[[monitor]]
name = "bad"
type = "http"
url = "http://127.0.0.1:{0}/fail"
timeout = "2s"
)",
                     port);
}

TEST(Cli, CheckAcceptsAValidConfig) {
  TempDir dir;
  dir.write("ok.toml", two_monitors(1));
  const auto r = run_lookout({"check", "-c", dir.file("ok.toml")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok, 2 monitors"), std::string::npos);
}

TEST(Cli, CheckPrintsEveryErrorWithPositionAndExits2) {
  TempDir dir;
  dir.write("bad.toml", R"([[monitor]]
name = "a"
type = "http"
url = "http://127.0.0.1:1/"
timout = "5s"
expect.status = [999]
)");
  const auto r = run_lookout({"check", "-c", dir.file("bad.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(
      r.err.find(dir.file("bad.toml") +
                 ":5:1: unknown key \"timout\" in http monitor \"a\"; did you mean \"timeout\"?"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(dir.file("bad.toml") + ":6:18: expect.status code 999 is outside 100-599"),
            std::string::npos)
      << r.err;
}

TEST(Cli, CheckWarnsWhenInlineSecretsAreReadableByOthers) {
  TempDir dir;
  const std::string inline_secrets = R"(
[server]
admin_token = "inline-admin-token-0123456789"
[[monitor]]
name = "a"
type = "http"
url = "http://127.0.0.1:1/"
headers = { Authorization = "Bearer inline-bearer-abcdef", Accept = "text/html" }
)";
  const std::string file = dir.file("lookout.toml");
  dir.write("lookout.toml", inline_secrets);
  const char* warning =
      "holds secrets written in it (server.admin_token, headers.Authorization); chmod o-r";
  chmod(file.c_str(), 0644);
  auto r = run_lookout({"check", "-c", file});
  EXPECT_EQ(r.code, 0) << r.err;  // a warning, not an error
  EXPECT_NE(r.err.find(file + ":3:15: warning: " + file +
                       " is readable by every user of this machine (mode 0644)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("inline-bearer"), std::string::npos);  // names the keys, never the values

  chmod(file.c_str(), 0640);  // the lookout group may read it
  r = run_lookout({"check", "-c", file});
  EXPECT_EQ(r.err.find("readable by every user"), std::string::npos) << r.err;

  // Secrets from the environment may sit in a world-readable file.
  dir.write("lookout.toml", R"(
[server]
admin_token = "${env:ADMIN}"
[[monitor]]
name = "a"
type = "http"
url = "http://127.0.0.1:1/"
headers = { Authorization = "Bearer ${env:ADMIN}" }
)");
  chmod(file.c_str(), 0644);
  r = run_lookout({"check", "-c", file}, {{"ADMIN", "from-the-environment-0123"}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("readable by every user"), std::string::npos) << r.err;
}

TEST(Cli, ConfigPathComesFromTheEnvironmentWhenNoFlag) {
  TempDir dir;
  dir.write("env.toml", two_monitors(1));
  const auto r = run_lookout({"check"}, {{"LOOKOUT_CONFIG", dir.file("env.toml")}});
  EXPECT_EQ(r.code, 0) << r.err;
  const auto missing = run_lookout({"check", "-c", dir.file("absent.toml")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("absent.toml:1:1: cannot read the config file"), std::string::npos)
      << missing.err;
}

TEST(Cli, ProbeRunsOnceAndPrintsATable) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  dir.write("c.toml", two_monitors(target.port()));
  const auto all = run_lookout({"probe", "-c", dir.file("c.toml")});
  EXPECT_EQ(all.code, 1) << "one monitor is down";
  EXPECT_NE(all.out.find("MONITOR"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("expected status 2xx, got 500"), std::string::npos) << all.out;
  const auto good = run_lookout({"probe", "-c", dir.file("c.toml"), "good"});
  EXPECT_EQ(good.code, 0) << good.out << good.err;
  EXPECT_EQ(good.out.find("bad"), std::string::npos);
  const auto unknown = run_lookout({"probe", "-c", dir.file("c.toml"), "nope"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("no monitor named \"nope\""), std::string::npos);
  // It writes nothing: no database appears.
  EXPECT_FALSE(std::filesystem::exists(dir.file("lookout.db")));
}

TEST(Cli, ProbeJsonIsOneObjectPerLine) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  dir.write("c.toml", two_monitors(target.port()));
  const auto r = run_lookout({"probe", "-c", dir.file("c.toml"), "--json"});
  EXPECT_EQ(r.code, 1);
  std::istringstream in(r.out);
  std::string line;
  std::map<std::string, nlohmann::json> by_name;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    by_name[j["monitor"]] = j;
  }
  ASSERT_EQ(by_name.size(), 2u) << r.out;
  EXPECT_EQ(by_name["good"]["outcome"], "up");
  EXPECT_EQ(by_name["good"]["http_status"], 200);
  EXPECT_TRUE(by_name["good"]["timings_ms"]["total"].is_number());
  EXPECT_TRUE(by_name["good"]["timings_ms"]["connect"].is_number());
  EXPECT_EQ(by_name["bad"]["outcome"], "down");
  EXPECT_EQ(by_name["bad"]["cause"], "expected status 2xx, got 500");
}

TEST(Cli, RunExitsOneWhenThePortIsTaken) {
  TempDir dir;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  listen(fd, 1);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  dir.write("c.toml", fmt::format("[server]\nlisten = \"127.0.0.1:{}\"\n[storage]\npath = \"{}\"\n",
                                  ntohs(addr.sin_port), dir.file("l.db")));
  const auto r = run_lookout({"run", "-c", dir.file("c.toml")});
  close(fd);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:"), std::string::npos) << r.err;
}

TEST(Cli, RunExitsOneWhenStorageIsNotWritable) {
  TempDir dir;
  dir.write("c.toml",
            fmt::format(
                "[server]\nlisten = \"127.0.0.1:{}\"\n[storage]\npath = \"/dev/null/lookout.db\"\n",
                free_port()));
  const auto r = run_lookout({"run", "-c", dir.file("c.toml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/dev/null"), std::string::npos) << r.err;
}

TEST(Cli, RunExitsTwoOnABadConfig) {
  TempDir dir;
  dir.write("c.toml", "[server]\nlisten = 8080\n");
  const auto r = run_lookout({"run", "-c", dir.file("c.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("c.toml:2:10: server.listen must be a string"), std::string::npos) << r.err;
}

TEST(Cli, VersionNamesTheLibraries) {
  const auto r = run_lookout({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("lookout 0."), std::string::npos);
  EXPECT_NE(r.out.find("libcurl"), std::string::npos);
  EXPECT_NE(r.out.find("SQLite"), std::string::npos);
}

TEST(Cli, ExampleConfigIsValid) {
  const auto r =
      run_lookout({"check", "-c", std::string(LOOKOUT_SOURCE_DIR) + "/config.example.toml"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Http, StatusApiHidesPrivateMonitorsAndCarriesSecurityHeaders) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  const std::string token = "admin-token-for-tests-0123456789";
  Daemon d(
      dir,
      fmt::format(
          "[[monitor]]\nname = \"shown\"\ntype = \"http\"\npublic = true\nurl = "
          "\"http://127.0.0.1:{0}/ok\"\n"
          "interval = \"500ms\"\ntimeout = \"400ms\"\n"
          "[[monitor]]\nname = \"hidden\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{0}/ok\"\n"
          "interval = \"500ms\"\ntimeout = \"400ms\"\n",
          target.port()),
      "admin_token = \"${env:ADMIN_TOKEN}\"", {{"ADMIN_TOKEN", token}});
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("hidden", token)["state"] == "up"; }, 10'000ms));
  EXPECT_TRUE(d.monitor("shown").is_object());
  EXPECT_TRUE(d.monitor("hidden").is_null());
  EXPECT_TRUE(d.monitor("hidden", "wrong-token-wrong-token-wrong").is_null());
  EXPECT_EQ(d.metrics().find("hidden"), std::string::npos);
  const auto with = http_get(d.port(), "/metrics", {{"Authorization", "Bearer " + token}});
  EXPECT_NE(with.body.find("monitor=\"hidden\""), std::string::npos);
  // A token in the query string is never accepted.
  EXPECT_EQ(http_get(d.port(), "/api/v1/status?token=" + token).body.find("hidden"),
            std::string::npos);

  for (const char* path : {"/healthz", "/api/v1/status", "/metrics", "/no-such-path"}) {
    const auto a = http_get(d.port(), path);
    EXPECT_EQ(a.headers.count("X-Content-Type-Options"), 1u) << path;
    EXPECT_NE(a.headers.find("Content-Security-Policy")->second.find("frame-ancestors 'none'"),
              std::string::npos)
        << path;
    EXPECT_EQ(a.headers.count("Referrer-Policy"), 1u) << path;
  }
  const auto missing = http_get(d.port(), "/no-such-path");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"], "not found");
  EXPECT_EQ(http_get(d.port(), "/healthz").body, "ok\n");
}

}  // namespace
}  // namespace lookout::testing

namespace lookout::testing {
namespace {

TEST(Cli, EveryExampleConfigIsValidWithItsSecretsSet) {
  const std::map<std::string, std::string> env{
      {"LOOKOUT_ADMIN_TOKEN", "example-admin-token-0123456789"},
      {"SMTP_USER", "u"},
      {"SMTP_PASS", "p"},
      {"WEBHOOK_SECRET", "s"},
      {"TWILIO_SID", "AC1"},
      {"TWILIO_TOKEN", "t"},
      {"JOURNEY_USER", "ops@acme.example"},
      {"JOURNEY_PASS", "pw"},
      {"BACKUP_PING_TOKEN", "backup-ping-token-0123456789"},
      {"PAGERDUTY_ROUTING_KEY", "R0123456789abcdef0123456789abcde"},
      {"PAGERDUTY_WEBHOOK_SECRET", "whsec"},
      {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x"},
      {"DEADMAN_URL", "https://hc-ping.com/5f0e0000-0000-0000-0000-000000000000"},
      {"OPSGENIE_API_KEY", "k"},
      {"TEAMS_WORKFLOW_URL", "https://prod.westeurope.logic.azure.com/workflows/x"},
      {"DISCORD_WEBHOOK_URL", "https://discord.com/api/webhooks/1/t"},
      {"TELEGRAM_BOT_TOKEN", "123:abc"},
      {"MATRIX_ACCESS_TOKEN", "syt_x"},
      {"PUSHOVER_APP_TOKEN", "a"},
      {"PUSHOVER_USER_KEY", "u"},
      {"GOTIFY_APP_TOKEN", "g"}};
  int checked = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(LOOKOUT_SOURCE_DIR) + "/examples")) {
    if (e.path().extension() != ".toml") continue;
    const auto r = run_lookout({"check", "-c", e.path().string()}, env);
    EXPECT_EQ(r.code, 0) << e.path() << ": " << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << e.path() << ": " << r.err;
    ++checked;
  }
  EXPECT_GE(checked, 1);
  // Without its secrets the same file names each missing one.
  const auto r =
      run_lookout({"check", "-c", std::string(LOOKOUT_SOURCE_DIR) + "/examples/portal.toml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("environment variable WEBHOOK_SECRET is not set"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace lookout::testing

namespace lookout::testing {
namespace {

TEST(Http, MetricsPassPromtool) {
  if (!std::filesystem::exists("/usr/bin/promtool"))
    GTEST_FAIL() << "promtool is not installed (scripts/install-deps.sh --test)";
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  Daemon d(
      dir,
      fmt::format(
          "[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nfail_after = 1\npublic = true\n"
          "[[monitor]]\nname = \"ok\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{0}/ok\"\n"
          "[[monitor]]\nname = \"bad\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{0}/fail\"\n",
          target.port()));
  d.start();
  ASSERT_TRUE(wait_until(
      [&] { return d.monitor("bad")["state"] == "down" && d.monitor("ok")["state"] == "up"; },
      10'000ms));
  dir.write("metrics.txt", d.metrics());
  const std::string cmd = fmt::format("/usr/bin/promtool check metrics < {} > {} 2>&1",
                                      dir.file("metrics.txt"), dir.file("promtool.out"));
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("promtool.out"));
}

}  // namespace
}  // namespace lookout::testing

namespace lookout::testing {
namespace {

TEST(Http, AckAndAdminCallsAreRateLimitedAndBodiesCapped) {
  TempDir dir;
  Daemon d(dir, "", "rate_limit = \"5/m\"\nmax_request = \"1KiB\"");
  d.start();
  int limited_at = 0;
  std::string retry_after;
  for (int i = 1; i <= 8 && limited_at == 0; ++i) {
    const auto a = http_get(d.port(), "/ack/1.2.not-a-signature");
    if (a.status == 429) {
      limited_at = i;
      retry_after = a.headers.find("Retry-After")->second;
    } else {
      EXPECT_EQ(a.status, 404);
    }
  }
  EXPECT_EQ(limited_at, 6) << "five per minute, then 429";
  EXPECT_GE(std::stoi(retry_after), 1);
  // The status page is not an admin call: still served.
  EXPECT_EQ(http_get(d.port(), "/").status, 200);
  httplib::Client cli("127.0.0.1", d.port());
  auto big = cli.Post("/api/v1/incidents/1/ack", std::string(4096, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

TEST(Http, ServesHttpsWithHstsWhenGivenACertificateAndPassesItsOwnAudit) {
  TempDir dir;
  CertFactory certs(dir);
  const TestCert ca =
      certs.make({.name = "ca", .sans = {}, .until_s = 3650LL * 86'400, .ca = true});
  const TestCert leaf =
      certs.make({.name = "status", .sans = {"IP:127.0.0.1", "DNS:localhost"}}, &ca);
  Daemon d(dir, "", fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"", leaf.cert, leaf.key));
  Process daemon({lookout_binary(), "run", "-c", d.config_path()}, {}, dir.path());
  httplib::SSLClient tls("127.0.0.1", d.port());
  tls.set_ca_cert_path(ca.cert);
  tls.enable_server_certificate_verification(true);
  tls.set_connection_timeout(2, 0);
  std::string hsts;
  ASSERT_TRUE(wait_until(
      [&] {
        auto res = tls.Get("/healthz");
        if (!res || res->status != 200) return false;
        hsts = res->get_header_value("Strict-Transport-Security");
        return true;
      },
      15'000ms))
      << daemon.err();
  EXPECT_EQ(hsts, "max-age=31536000");
  EXPECT_EQ(http_get(d.port(), "/healthz").status, 0);  // no plain HTTP on the HTTPS port

  // The status page, audited: its headers, certificate and TLS versions pass.
  const auto r =
      run_lookout({"audit", fmt::format("https://127.0.0.1:{}/", d.port()), "--ca-file", ca.cert,
                   "--http-url", "http://127.0.0.1:1/", "--latency-samples", "3", "--json"});
  const auto report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << r.out << r.err;
  std::map<std::string, std::string> results;
  for (const auto& c : report["checks"]) results[c["id"]] = c["result"];
  for (const char* id : {"tls_certificate", "tls_versions", "hsts", "csp", "nosniff",
                         "frame_protection", "referrer_policy", "version_leak", "cors",
                         "exposed_files", "browser_secrets", "latency_p95"}) {
    EXPECT_EQ(results[id], "pass") << id << "\n" << r.out;
  }
  EXPECT_EQ(results["https_redirect"], "fail");  // nothing listens for plain HTTP in this test
}

}  // namespace
}  // namespace lookout::testing
