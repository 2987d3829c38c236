// The cert, dns, latency and journey kinds and slo.* in the config: what they become, and
// every mistake as FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult probes_config(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/p.toml", test::fake_env(std::move(env)));
}

TEST(ProbeConfig, EachKindParsesWithItsDefaults) {
  const auto r = probes_config(R"toml(
[defaults]
slo.window = "5m"
expect.status = [200]

[[monitor]]
name = "cert"
type = "cert"
host = "Portal.test"

[[monitor]]
name = "mx-cert"
type = "cert"
host = "mx.test"
starttls = "smtp"
warn_within = "30d"

[[monitor]]
name = "dns"
type = "dns"
query = "Portal.Test."
record = "mx"
resolver = "[::1]:5353"
expect.answers = ["10 mx.test"]
on_change = "ignore"

[[monitor]]
name = "dkim"
type = "dns"
query = "acme.test"
check = "dkim"
selector = "s1"

[[monitor]]
name = "lat"
type = "latency"
url = "https://portal.test/api"
samples = 7
reuse = true
slo.p95 = "500ms"

[[monitor]]
name = "journey"
type = "journey"
  [[monitor.step]]
  url = "https://portal.test/login"
  extract.csrf = { regex = 'value="([^"]+)"' }
  [[monitor.step]]
  name = "sign in"
  url = "https://portal.test/session"
  json = { csrf = "{{csrf}}", user = { name = "${env:USER}" } }
  extract.token = { json = "/token" }
)toml",
                               {{"USER", "ops"}});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  const Config& c = *r.config;
  const auto& cert = *c.find("cert");
  EXPECT_EQ(cert.type, "cert");
  EXPECT_EQ(cert.spec_as<CertSpec>().cert.host, "portal.test");
  EXPECT_EQ(cert.spec_as<CertSpec>().cert.port, 443);
  EXPECT_EQ(cert.host, "portal.test:443");
  EXPECT_EQ(cert.spec_as<CertSpec>().cert.warn_within, Duration{21LL * 86'400'000});
  EXPECT_EQ(cert.spec_as<CertSpec>().cert.fail_within, Duration{7LL * 86'400'000});
  EXPECT_EQ(c.find("mx-cert")->spec_as<CertSpec>().cert.port, 25);
  EXPECT_TRUE(c.find("mx-cert")->spec_as<CertSpec>().cert.starttls_smtp);
  const auto& dns = *c.find("dns");
  EXPECT_EQ(dns.spec_as<DnsSpec>().dns.query, "portal.test");
  EXPECT_EQ(dns.spec_as<DnsSpec>().dns.record, 15);
  EXPECT_EQ(dns.spec_as<DnsSpec>().dns.resolver, "[::1]:5353");
  EXPECT_FALSE(dns.spec_as<DnsSpec>().dns.alert_on_change);
  EXPECT_EQ(dns.host, "dns:[::1]:5353");
  const auto& dkim = *c.find("dkim");
  EXPECT_EQ(dkim.spec_as<DnsSpec>().dns.query, "s1._domainkey.acme.test");
  EXPECT_EQ(dkim.spec_as<DnsSpec>().dns.record_name, "TXT");
  EXPECT_TRUE(dkim.spec_as<DnsSpec>().dns.alert_on_change);
  const auto& lat = *c.find("lat");
  EXPECT_EQ(lat.spec_as<HttpSpec>().samples, 7);
  EXPECT_TRUE(lat.spec_as<HttpSpec>().reuse);
  EXPECT_EQ(lat.slo.p95, Duration{500});
  EXPECT_EQ(lat.slo.window, Duration{300'000});  // from [defaults]
  EXPECT_EQ(lat.spec_as<HttpSpec>().expect.status.size(), 1u);
  const auto& j = *c.find("journey");
  ASSERT_EQ(j.spec_as<JourneySpec>().steps.size(), 2u);
  EXPECT_EQ(j.host, "portal.test:443");
  EXPECT_EQ(j.spec_as<JourneySpec>().steps[0].extracts[0].name, "csrf");
  EXPECT_EQ(j.spec_as<JourneySpec>().steps[1].request.method, "POST");  // a body makes it a POST
  EXPECT_EQ(j.spec_as<JourneySpec>().steps[1].body_kind, JourneyStep::Body::kJson);
  EXPECT_TRUE(j.spec_as<JourneySpec>().steps[1].request.body->is_secret());
  EXPECT_EQ(j.spec_as<JourneySpec>().steps[1].request.body->reveal(),
            R"({"csrf":"{{csrf}}","user":{"name":"ops"}})");
}

TEST(ProbeConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = probes_config(R"([[monitor]]
name = "c"
type = "cert"
url = "https://x.test"
fail_within = "30d"

[[monitor]]
name = "d"
type = "dns"
query = "a.test"
record = "PTR"
resolver = "dns.google"

[[monitor]]
name = "k"
type = "dns"
query = "a.test"
check = "dkim"
record = "A"

[[monitor]]
name = "j"
type = "journey"
  [[monitor.step]]
  url = "https://a.test/{{id}}"
  form = { a = "b" }
  body = "x"
  extract.bad = { regex = "no group" }
  extract.two = { json = "/a", header = "X" }

[[monitor]]
name = "e"
type = "journey"
)");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/p.toml:1:1: cert monitor \"c\" has no host",
          "/etc/lookout/p.toml:4:1: unknown key \"url\" in cert monitor \"c\"",
          ("/etc/lookout/p.toml:5:15: fail_within 30d is longer than warn_within 21d; the warning "
           "would never come first"),
          ("/etc/lookout/p.toml:11:10: record \"PTR\" is not one of A, AAAA, CNAME, MX, NS, TXT, "
           "SOA, CAA, SRV"),
          "/etc/lookout/p.toml:12:12: resolver \"dns.google\" is not IP, IP:port or [IPv6]:port",
          ("/etc/lookout/p.toml:14:1: dns monitor \"k\" with check = \"dkim\" needs selector = "
           "\"...\""),
          ("/etc/lookout/p.toml:19:10: check = \"dkim\" reads TXT records; remove record or set it "
           "to \"TXT\""),
          "/etc/lookout/p.toml:24:3: step 1 has more than one of body, form and json",
          "/etc/lookout/p.toml:25:9: step 1 uses {{id}}, which no earlier step extracts",
          ("/etc/lookout/p.toml:28:27: extract.bad: the pattern needs a group ( ) around the value "
           "to take"),
          ("/etc/lookout/p.toml:29:17: extract.two must name one source: { json = \"/ptr\" }, { "
           "regex = \"...\" }, "
           "{ header = \"X-Name\" } or { cookie = \"name\" }"),
          "/etc/lookout/p.toml:31:1: journey \"e\" needs [[monitor.step]] tables, one per request",
      }));
}

TEST(ProbeConfig, SloKeysAreChecked) {
  const auto r = probes_config(R"([[monitor]]
name = "h"
type = "http"
url = "https://a.test"
slo.p59 = "1s"
slo.window = "5s"
)");
  EXPECT_EQ(messages(r),
            (std::vector<std::string>{
                "/etc/lookout/p.toml:5:5: unknown key \"p59\" in slo; did you mean \"p95\"?",
                "/etc/lookout/p.toml:6:14: slo.window must be between 10s and 30d",
            }));
}

TEST(ProbeConfig, TlsResumeIsADurationOfTheHttpKindsUpTo24h) {
  const auto r = probes_config(R"toml(
[defaults]
tls_resume = "10m"

[[monitor]]
name = "page"
type = "http"
url = "https://portal.test/"

[[monitor]]
name = "fresh"
type = "http"
url = "https://portal.test/"
tls_resume = "0s"

[[monitor]]
name = "samples"
type = "latency"
url = "https://portal.test/"

[[monitor]]
name = "journey"
type = "journey"
  [[monitor.step]]
  url = "https://portal.test/login"
)toml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  const Config& c = *r.config;
  EXPECT_EQ(c.find("page")->spec_as<HttpSpec>().http.tls_resume, Duration{600'000});
  EXPECT_EQ(c.find("fresh")->spec_as<HttpSpec>().http.tls_resume, Duration{0});
  EXPECT_EQ(c.find("samples")->spec_as<HttpSpec>().http.tls_resume, Duration{600'000});
  EXPECT_EQ(c.find("journey")->spec_as<JourneySpec>().steps.at(0).request.tls_resume,
            Duration{600'000});

  const auto bad = probes_config(R"toml(
[[monitor]]
name = "page"
type = "http"
url = "https://portal.test/"
tls_resume = "25h"

[[monitor]]
name = "cert"
type = "cert"
host = "portal.test"
tls_resume = "1h"
)toml");
  ASSERT_FALSE(bad.ok());
  const auto m = messages(bad);
  ASSERT_EQ(m.size(), 2u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0],
            "/etc/lookout/p.toml:6:14: tls_resume must be at most 24h: a session that old would "
            "hide a changed certificate for too long");
  EXPECT_EQ(m[1].rfind(
                "/etc/lookout/p.toml:12:1: unknown key \"tls_resume\" in cert monitor \"cert\"", 0),
            0u)
      << m[1];
}

}  // namespace
}  // namespace lookout
