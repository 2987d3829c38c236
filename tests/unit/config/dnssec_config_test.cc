// The dnssec kind in the config: its keys and defaults, the trust anchor forms it takes, and
// every mistake as FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/kinds/dnssec_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult dnssec_config(const std::string& text) {
  return parse_config(text, "/etc/lookout/s.toml", test::fake_env({}));
}

constexpr const char* kKey =
    "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==";

TEST(DnssecConfig, KeysAndDefaults) {
  const auto r = dnssec_config(fmt::format(R"toml(
[[monitor]]
name = "root"
type = "dnssec"
query = "Portal.Acme.Test."

[[monitor]]
name = "own"
type = "dnssec"
query = "portal.acme.test"
record = "aaaa"
resolver = "[::1]:5353"
trust_anchor = """
; the KSK and a DS of the same zone
acme.test. 257 3 13 {0}
acme.test. 3600 IN DS 12345 13 2 0A1B2C3D
"""
warn_within = "12h"
)toml",
                                           kKey));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const auto& root = r.config->find("root")->spec_as<DnssecSpec>();
  EXPECT_EQ(root.query, "portal.acme.test");
  EXPECT_EQ(root.record, 1);
  EXPECT_EQ(root.record_name, "A");
  EXPECT_EQ(root.resolver, "");
  EXPECT_TRUE(root.trust_anchors.empty());
  EXPECT_EQ(root.trust_anchor_file, kRootTrustAnchorFile);
  EXPECT_EQ(root.warn_within, std::chrono::hours(72));
  EXPECT_EQ(r.config->find("root")->host, "dns:system");

  const auto& own = r.config->find("own")->spec_as<DnssecSpec>();
  EXPECT_EQ(own.record, 28);
  EXPECT_EQ(own.record_name, "AAAA");
  EXPECT_EQ(own.resolver, "[::1]:5353");
  EXPECT_EQ(own.trust_anchor_file, "");
  ASSERT_EQ(own.trust_anchors.size(), 2u);
  EXPECT_EQ(own.trust_anchors[0].zone, "acme.test.");
  EXPECT_EQ(own.trust_anchors[0].record, fmt::format("acme.test. DNSKEY 257 3 13 {}", kKey));
  EXPECT_EQ(own.trust_anchors[1].record, "acme.test. DS 12345 13 2 0A1B2C3D");
  EXPECT_EQ(own.warn_within, std::chrono::hours(12));
  EXPECT_EQ(r.config->find("own")->host, "dns:[::1]:5353");

  // A reload keeps a monitor's state only when nothing of it changed.
  const auto again = dnssec_config(
      "[[monitor]]\nname = \"root\"\ntype = \"dnssec\"\nquery = \"portal.acme.test\"\n"
      "warn_within = \"1d\"\n");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(r.config->find("root")->same_as(again.config->monitors[0]));
}

TEST(DnssecConfig, TrustAnchorForms) {
  std::string error;
  // A whole DNSKEY record, lower case, a key split by spaces as tools print it.
  auto a = parse_trust_anchors(
      fmt::format("Acme.Test 60 in dnskey 257 3 13 {} {}", std::string(kKey).substr(0, 40),
                  std::string(kKey).substr(40)),
      error);
  ASSERT_TRUE(a) << error;
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].zone, "acme.test.");
  EXPECT_EQ((*a)[0].record, fmt::format("acme.test. DNSKEY 257 3 13 {}", kKey));
  // The root's.
  a = parse_trust_anchors(
      ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ((*a)[0].zone, ".");

  const std::vector<std::pair<std::string, std::string>> bad{
      {"", "holds no record (write NAME. FLAGS PROTOCOL ALGORITHM KEY, or a DNSKEY or DS record)"},
      {"; only a comment\n\n",
       "holds no record (write NAME. FLAGS PROTOCOL ALGORITHM KEY, or a "
       "DNSKEY or DS record)"},
      {"acme.test. 257 3 13", "the DNSKEY of acme.test. needs FLAGS PROTOCOL ALGORITHM KEY"},
      {"acme.test. 1 3 13 AAAA",
       "DNSKEY flags \"1\" are not those of a zone key (257 for a KSK, 256 for a ZSK)"},
      {"acme.test. 257 2 13 AAAA", "DNSKEY protocol \"2\" is not 3"},
      {"acme.test. 257 3 x AAAA", "DNSKEY algorithm \"x\" is not a number from 1 to 255"},
      {"acme.test. 257 3 13 not*base64", "the DNSKEY of acme.test. has a key that is not base64"},
      {"acme.test. DS 12345 13 2 XYZ", "the DS of acme.test. has a digest that is not hexadecimal"},
      {"acme.test. DS 99999 13 2 AB", "DS key tag \"99999\" is not a number from 0 to 65535"},
      {"acme.test. TXT hello", "expected DNSKEY or DS after acme.test., got \"TXT\""},
      {"acme..test. 257 3 13 AAAA", "\"acme..test.\" is not a zone name"},
      {fmt::format("acme.test. 257 3 13 {}\nacme.test. DS 1 13 2", kKey),
       "line 2: the DS of acme.test. needs KEYTAG ALGORITHM DIGESTTYPE DIGEST"},
  };
  for (const auto& [text, want] : bad) {
    SCOPED_TRACE(text);
    error.clear();
    EXPECT_FALSE(parse_trust_anchors(text, error));
    EXPECT_EQ(error, want);
  }
}

TEST(DnssecConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = dnssec_config(R"([[monitor]]
name = "a"
type = "dnssec"
record = "PTR"
resolver = "dns.google"

[[monitor]]
name = "b"
type = "dnssec"
query = "a b.test"
trust_anchor = "acme.test. 257 3 13"
warn_within = 3
expect.status = 200
)");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/s.toml:1:1: dnssec monitor \"a\" has no query (the name to validate)",
          ("/etc/lookout/s.toml:4:10: record \"PTR\" is not one of A, AAAA, CNAME, MX, NS, TXT, "
           "SOA, CAA, SRV"),
          "/etc/lookout/s.toml:5:12: resolver \"dns.google\" is not IP, IP:port or [IPv6]:port",
          "/etc/lookout/s.toml:10:9: query \"a b.test\" is not a DNS name",
          ("/etc/lookout/s.toml:11:16: trust_anchor the DNSKEY of acme.test. needs FLAGS "
           "PROTOCOL ALGORITHM KEY"),
          ("/etc/lookout/s.toml:12:15: warn_within must be a duration string such as \"30s\", "
           "not an integer"),
          "/etc/lookout/s.toml:13:1: unknown key \"expect\" in dnssec monitor \"b\"",
      }));
}

}  // namespace
}  // namespace lookout
