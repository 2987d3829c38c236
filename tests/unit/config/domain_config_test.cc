// The domain kind in the config: its keys and defaults, the 12h interval that [defaults] does
// not change, the 1h minimum, and every mistake at FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/kinds/domain_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

constexpr Duration kDay{86'400'000};
constexpr Duration kHour{3'600'000};

LoadResult domain_config(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/d.toml", test::fake_env(std::move(env)));
}

TEST(DomainConfig, KeysAndDefaults) {
  const auto r = domain_config(R"toml(
[defaults]
interval = "30s"
warn_within = "45d"

[[monitor]]
name = "acme"
type = "domain"
domain = "Acme.Example."

[[monitor]]
name = "full"
type = "domain"
domain = "acme.co.uk"
interval = "1h"
warn_within = "60d"
fail_within = "14d"
rdap_url = "https://rdap.example/"
whois = "whois.example:4343"

[[monitor]]
name = "v6"
type = "domain"
domain = "acme.de"
whois = "[::1]:43"
rdap_url = "${env:RDAP}"

[[monitor]]
name = "plain-whois"
type = "domain"
domain = "acme.de"
whois = "whois.denic.de"
)toml",
                               {{"RDAP", "https://rdap.example/?key=s3cret"}});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  const Config& c = *r.config;

  const auto& acme = *c.find("acme");
  const auto& a = acme.spec_as<DomainSpec>();
  EXPECT_EQ(acme.type, "domain");
  EXPECT_EQ(a.domain, "acme.example");
  // Not [defaults]' 30s: registries rate-limit.
  EXPECT_EQ(acme.interval, 12 * kHour);
  EXPECT_EQ(a.warn_within, 45 * kDay);  // [defaults] does reach the kind's own keys
  EXPECT_EQ(a.fail_within, 7 * kDay);
  EXPECT_FALSE(a.rdap_url);
  EXPECT_EQ(a.whois_host, "");
  EXPECT_EQ(acme.host, "registry of .example");

  const auto& full = *c.find("full");
  const auto& f = full.spec_as<DomainSpec>();
  EXPECT_EQ(full.interval, kHour);
  EXPECT_EQ(f.warn_within, 60 * kDay);
  EXPECT_EQ(f.fail_within, 14 * kDay);
  ASSERT_TRUE(f.rdap_url);
  EXPECT_EQ(f.rdap_url->reveal(), "https://rdap.example/");
  EXPECT_EQ(f.whois_host, "whois.example");
  EXPECT_EQ(f.whois_port, 4343);
  EXPECT_EQ(full.host, "rdap.example");

  const auto& v6 = *c.find("v6");
  EXPECT_EQ(v6.spec_as<DomainSpec>().whois_host, "::1");
  EXPECT_EQ(v6.spec_as<DomainSpec>().whois_port, 43);
  EXPECT_TRUE(v6.spec_as<DomainSpec>().rdap_url->is_secret());
  EXPECT_EQ(v6.host.find("s3cret"), std::string::npos);  // a secret URL names no host

  EXPECT_EQ(c.find("plain-whois")->spec_as<DomainSpec>().whois_port, 43);
}

TEST(DomainConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = domain_config(R"toml([[monitor]]
name = "a"
type = "domain"
interval = "30m"

[[monitor]]
name = "b"
type = "domain"
domain = "https://acme.example/"
whois = "whois.example:99999"
rdap_url = "rdap.example"
fail_within = "60d"

[[monitor]]
name = "c"
type = "domain"
domain = "acme"
warn_within = 30
expect.status = 200
)toml");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/d.toml:1:1: domain monitor \"a\" has no domain",
          ("/etc/lookout/d.toml:4:12: interval 30m of domain monitor \"a\" is below the minimum "
           "1h: registries rate-limit RDAP and WHOIS"),
          ("/etc/lookout/d.toml:9:10: domain \"https://acme.example/\" is not a registered "
           "domain name like \"acme.example\" (no scheme, port or path; an internationalised "
           "name in its xn-- form)"),
          ("/etc/lookout/d.toml:10:9: whois \"whois.example:99999\" is not host, host:port or "
           "[IPv6]:port"),
          ("/etc/lookout/d.toml:11:12: rdap_url rdap.example must be a URL that starts with "
           "https:// or http:// and names a host"),
          ("/etc/lookout/d.toml:12:15: fail_within 60d is longer than warn_within 30d; the "
           "warning would never come first"),
          ("/etc/lookout/d.toml:17:10: domain \"acme\" is not a registered domain name like "
           "\"acme.example\" (no scheme, port or path; an internationalised name in its xn-- "
           "form)"),
          ("/etc/lookout/d.toml:18:15: warn_within must be a duration string such as \"30s\", "
           "not an integer"),
          "/etc/lookout/d.toml:19:1: unknown key \"expect\" in domain monitor \"c\"",
      }));
}

TEST(DomainConfig, ReloadSeesEveryKey) {
  const std::string base =
      "[[monitor]]\nname = \"m\"\ntype = \"domain\"\ndomain = \"acme.example\"\n";
  const auto a = domain_config(base);
  ASSERT_TRUE(a.ok());
  for (const std::string extra :
       {"warn_within = \"20d\"\n", "fail_within = \"3d\"\n", "rdap_url = \"https://r.example/\"\n",
        "whois = \"w.example\"\n", "whois = \"w.example:44\"\n", "interval = \"2h\"\n"}) {
    const auto b = domain_config(base + extra);
    ASSERT_TRUE(b.ok()) << extra;
    EXPECT_FALSE(a.config->monitors[0].same_as(b.config->monitors[0])) << extra;
  }
  const auto again = domain_config(base);
  EXPECT_TRUE(a.config->monitors[0].same_as(again.config->monitors[0]));
}

TEST(DomainConfig, WhoisServerForms) {
  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(parse_whois_server("whois.example", host, port));
  EXPECT_EQ(host, "whois.example");
  EXPECT_EQ(port, 43);
  EXPECT_TRUE(parse_whois_server("127.0.0.1:4343", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 4343);
  EXPECT_TRUE(parse_whois_server("[2001:db8::1]:43", host, port));
  EXPECT_EQ(host, "2001:db8::1");
  EXPECT_TRUE(parse_whois_server("2001:db8::1", host, port));
  EXPECT_EQ(port, 43);
  for (const char* bad : {"", ":43", "whois.example:", "whois.example:0", "whois.example:x",
                          "[whois.example]:43", "a b:43", "whois://x", "[::1]43", "1:2:3"}) {
    EXPECT_FALSE(parse_whois_server(bad, host, port)) << bad;
  }
}

}  // namespace
}  // namespace lookout
