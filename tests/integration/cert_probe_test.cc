// The cert probe against real TLS servers whose certificates the test makes: each bad
// certificate is DOWN with a cause naming which, the subject, the issuer and the date; the
// expiry windows give DEGRADED and DOWN; STARTTLS on a real SMTP server; a handshake that
// stalls times out; the expiry is a metric of the running daemon.
#include <gtest/gtest.h>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr int64_t kDay = 86'400;

struct Case {
  std::string monitor;
  std::string outcome;
  std::vector<std::string> in_cause;
};

TEST(CertProbe, JudgesEachCertificateWithACauseNamingIt) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"Test Root CA", {}, -kDay, 3650 * kDay, true});
  const TestCert other_root = f.make({"Other Root CA", {}, -kDay, 3650 * kDay, true});
  const TestCert inter = f.make({"Test Intermediate", {}, -kDay, 1000 * kDay, true}, &root);
  const TestCert old_inter =
      f.make({"Lapsed Intermediate", {}, -90 * kDay, -2 * kDay, true}, &root);
  const std::vector<std::string> ip{"IP:127.0.0.1", "DNS:localhost"};
  const std::map<std::string, TestCert> certs{
      {"good", f.make({"good", ip, -kDay, 90 * kDay}, &inter)},
      {"warn", f.make({"warn", ip, -kDay, 15 * kDay}, &inter)},
      {"soon", f.make({"soon", ip, -kDay, 3 * kDay}, &inter)},
      {"expired", f.make({"expired", ip, -30 * kDay, -2 * kDay}, &inter)},
      {"future", f.make({"future", ip, 2 * kDay, 90 * kDay}, &inter)},
      {"selfsigned", f.make({"selfsigned", ip, -kDay, 90 * kDay})},
      {"untrusted", f.make({"untrusted", ip, -kDay, 90 * kDay}, &other_root)},
      {"wrongname", f.make({"wrongname", {"DNS:wrong.test"}, -kDay, 90 * kDay}, &inter)},
      {"lapsedchain", f.make({"lapsedchain", ip, -kDay, 60 * kDay}, &old_inter)},
  };
  std::vector<std::unique_ptr<TargetServer>> servers;
  std::string toml = "[defaults]\ninterval = \"10s\"\ntimeout = \"5s\"\n";
  for (const auto& [name, c] : certs) {
    servers.push_back(std::make_unique<TargetServer>(c.cert, c.key));
    servers.back()->start();
    toml += fmt::format(
        "[[monitor]]\nname = \"{}\"\ntype = \"cert\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = "
        "\"{}\"\n"
        "warn_within = \"21d\"\nfail_within = \"7d\"\n",
        name, servers.back()->port(), root.cert);
  }
  RawServer stall(RawServer::Mode::kSilent);
  toml += fmt::format(
      "[[monitor]]\nname = \"stall\"\ntype = \"cert\"\nhost = \"127.0.0.1\"\nport = {}\ntimeout = "
      "\"1s\"\n",
      stall.port());
  dir.write("c.toml", toml);

  int code = 0;
  const auto results = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 1);
  const std::vector<Case> cases{
      {"good", "up", {}},
      {"warn", "degraded", {"certificate for 127.0.0.1 expires in 15 days (20"}},
      {"soon", "down", {"certificate for 127.0.0.1 expires in 3 days"}},
      {"expired",
       "down",
       {"certificate for 127.0.0.1 expired 2 days ago", "CN = expired", "CN = Test Intermediate"}},
      {"future", "down", {"not valid yet", "CN = future"}},
      {"selfsigned", "down", {"self-signed", "CN = selfsigned"}},
      {"untrusted", "down", {"not trusted", "CN = Other Root CA"}},
      {"wrongname", "down", {"does not name it", "wrong.test"}},
      {"lapsedchain",
       "down",
       {"intermediate certificate CN = Lapsed Intermediate", "expired 2 days ago"}},
      {"stall", "down", {"timed out after 1s during the TLS handshake"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.monitor);
    ASSERT_EQ(results.count(c.monitor), 1u);
    const auto& r = results.at(c.monitor);
    EXPECT_EQ(r["outcome"], c.outcome) << r.dump();
    const std::string cause = r["cause"].is_string() ? r["cause"].get<std::string>() : "";
    for (const auto& part : c.in_cause)
      EXPECT_NE(cause.find(part), std::string::npos) << "\"" << part << "\" not in: " << cause;
  }
  // The date of the expiring certificate is in the cause, to the second.
  const std::string soon_cause = results.at("soon")["cause"];
  char date[32];
  const time_t t = certs.at("soon").not_after;
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  EXPECT_NE(soon_cause.find(date), std::string::npos) << soon_cause;
}

TEST(CertProbe, ChecksAMailServerThroughStarttls) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"Mail Root", {}, -kDay, 3650 * kDay, true});
  const TestCert leaf = f.make({"mail", {"IP:127.0.0.1"}, -kDay, 10 * kDay}, &root);
  SmtpServer smtp(dir, {"", leaf.cert, leaf.key});
  SmtpServer plain(dir);
  dir.write("c.toml", fmt::format(R"(
[[monitor]]
name = "mx"
type = "cert"
host = "127.0.0.1"
port = {}
starttls = "smtp"
ca_file = "{}"

[[monitor]]
name = "mx-plain"
type = "cert"
host = "127.0.0.1"
port = {}
starttls = "smtp"
)",
                                  smtp.port(), root.cert, plain.port()));
  int code = 0;
  const auto results = probe_json(dir.file("c.toml"), code);
  ASSERT_EQ(results.count("mx"), 1u);
  EXPECT_EQ(results.at("mx")["outcome"], "degraded") << results.at("mx").dump();
  EXPECT_NE(results.at("mx")["cause"].get<std::string>().find("expires in 10 days"),
            std::string::npos);
  ASSERT_EQ(results.count("mx-plain"), 1u);
  EXPECT_EQ(results.at("mx-plain")["outcome"], "down");
  EXPECT_NE(results.at("mx-plain")["cause"].get<std::string>().find("does not offer STARTTLS"),
            std::string::npos)
      << results.at("mx-plain").dump();
}

TEST(CertProbe, TheDaemonExposesTheExpiryAsAMetric) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"Metric Root", {}, -kDay, 3650 * kDay, true});
  const TestCert leaf = f.make({"metric", {"IP:127.0.0.1"}, -kDay, 40 * kDay}, &root);
  TargetServer tls(leaf.cert, leaf.key);
  tls.start();
  Daemon d(dir, fmt::format("[[monitor]]\nname = \"portal-cert\"\ntype = \"cert\"\npublic = "
                            "true\nhost = \"127.0.0.1\"\n"
                            "port = {}\nca_file = \"{}\"\ninterval = \"1s\"\ntimeout = \"1s\"\n",
                            tls.port(), root.cert));
  d.start();
  double expiry = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        expiry = metric_value(http_get(d.port(), "/metrics").body,
                              "lookout_cert_expiry_timestamp_seconds", "monitor=\"portal-cert\"");
        return expiry > 0;
      },
      10'000ms));
  EXPECT_EQ(static_cast<int64_t>(expiry), leaf.not_after);
  char date[32];
  const time_t t = leaf.not_after;
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
  EXPECT_EQ(d.monitor("portal-cert")["cert_not_after"], date);
  // The monitor's page says when, and in how many days.
  const std::string page = http_get(d.port(), "/monitor/portal-cert").body;
  EXPECT_NE(page.find("<dt>Certificate expires</dt>"), std::string::npos);
  EXPECT_TRUE(page.find("(39 days)") != std::string::npos ||
              page.find("(40 days)") != std::string::npos)
      << page;
  ASSERT_TRUE(wait_until([&] { return d.status()["monitors"][0]["state"] == "up"; }, 10'000ms));
}

}  // namespace
}  // namespace lookout::testing
