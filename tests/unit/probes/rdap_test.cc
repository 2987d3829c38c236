// RDAP for the domain kind: the expiry in real-looking RFC 9083 answers (and in broken ones),
// the bootstrap list's longest-suffix lookup, the list shipped with lookout, and the URL.
#include "probes/rdap.h"

#include <gtest/gtest.h>

#include "probes/domain_expiry.h"

namespace lookout {
namespace {

// The shape of Verisign's answer for a .com name, shortened.
constexpr const char* kVerisign = R"json({
  "objectClassName": "domain",
  "handle": "2336799_DOMAIN_COM-VRSN",
  "ldhName": "EXAMPLE.COM",
  "links": [{"value": "https://rdap.verisign.com/com/v1/domain/EXAMPLE.COM", "rel": "self",
             "href": "https://rdap.verisign.com/com/v1/domain/EXAMPLE.COM",
             "type": "application/rdap+json"}],
  "status": ["client delete prohibited", "client transfer prohibited"],
  "entities": [{"objectClassName": "entity", "handle": "376", "roles": ["registrar"],
                "events": [{"eventAction": "expiration", "eventDate": "2030-01-01T00:00:00Z"}]}],
  "events": [
    {"eventAction": "registration", "eventDate": "1995-08-14T04:00:00Z"},
    {"eventAction": "expiration", "eventDate": "2027-08-13T04:00:00Z"},
    {"eventAction": "last changed", "eventDate": "2024-08-14T07:01:34Z"},
    {"eventAction": "last update of RDAP database", "eventDate": "2026-12-04T10:01:02Z"}
  ],
  "secureDNS": {"delegationSigned": true},
  "nameservers": [{"objectClassName": "nameserver", "ldhName": "A.IANA-SERVERS.NET"}],
  "rdapConformance": ["rdap_level_0", "icann_rdap_technical_implementation_guide_0"],
  "notices": [{"title": "Terms of Use", "description": ["Service subject to Terms of Use."]}]
})json";

TEST(RdapParse, ReadsTheExpirationEventOfTheDomain) {
  const RdapDomain d = parse_rdap_domain(kVerisign);
  EXPECT_TRUE(d.json);
  ASSERT_TRUE(d.expires);
  // The domain's own event, not the registrar entity's.
  EXPECT_EQ(*d.expires, *utc_time(2027, 8, 13, 4));
  EXPECT_EQ(d.expires_text, "2027-08-13T04:00:00Z");
  EXPECT_EQ(d.problem, "");
}

TEST(RdapParse, AcceptsTheRegistrationExpirationVariantAndOffsets) {
  const RdapDomain d = parse_rdap_domain(
      R"({"events": [{"eventAction": "Registration Expiration",
                      "eventDate": "2027-08-13T06:00:00.000+02:00"}]})");
  ASSERT_TRUE(d.expires);
  EXPECT_EQ(*d.expires, *utc_time(2027, 8, 13, 4));
}

TEST(RdapParse, ToleratesMissingAndMistypedFields) {
  struct Case {
    const char* body;
    bool json;
    const char* problem;
  };
  const Case cases[] = {
      {"", false, "the answer is not a JSON object"},
      {"<html>rate limited</html>", false, "the answer is not a JSON object"},
      {"[1,2]", false, "the answer is not a JSON object"},
      {R"({"ldhName": "example.com"})", true, "the answer has no events"},
      {R"({"events": {"eventAction": "expiration"}})", true, "the answer has no events"},
      {R"({"events": []})", true, "the answer has no expiration event"},
      {R"({"events": [1, "x", null, {"eventAction": 5, "eventDate": "2027-08-13"},
                      {"eventAction": "expiration"}, {"eventDate": "2027-08-13"},
                      {"eventAction": "registration", "eventDate": "2027-08-13T00:00:00Z"}]})",
       true, "the answer has no expiration event"},
      {R"({"events": [{"eventAction": "expiration", "eventDate": "next year"}]})", true,
       "its expiration date \"next year\" is not an RFC 3339 time"},
  };
  for (const auto& c : cases) {
    const RdapDomain d = parse_rdap_domain(c.body);
    EXPECT_FALSE(d.expires) << c.body;
    EXPECT_EQ(d.json, c.json) << c.body;
    EXPECT_EQ(d.problem, c.problem) << c.body;
  }
  // A readable expiration after an unreadable one still counts.
  EXPECT_TRUE(parse_rdap_domain(R"({"events": [
      {"eventAction": "expiration", "eventDate": "soon"},
      {"eventAction": "expiration", "eventDate": "2027-08-13"}]})")
                  .expires);
}

constexpr const char* kBootstrap = R"json({
  "description": "RDAP bootstrap file for Domain Name System registrations",
  "publication": "2024-06-01T00:00:00Z",
  "services": [
    [["com", "net"], ["http://rdap.example-registry.test/", "https://rdap.example-registry.test/"]],
    [["uk"], ["https://rdap.nominet.test/uk/"]],
    [["co.uk"], ["https://rdap.couk.test/"]],
    [["bad"]],
    [["ftp"], ["ftp://nothing.test/"]],
    [[".Org."], ["http://rdap.org.test/"]]
  ],
  "version": "1.0"
})json";

TEST(RdapBootstrap, TheLongestMatchingLabelSuffixWins) {
  std::string error;
  const auto b = parse_rdap_bootstrap(kBootstrap, error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->publication, "2024-06-01T00:00:00Z");
  // https preferred when a service lists several URLs.
  EXPECT_EQ(rdap_base_for(*b, "acme.com"), "https://rdap.example-registry.test/");
  EXPECT_EQ(rdap_base_for(*b, "WWW.Acme.NET."), "https://rdap.example-registry.test/");
  EXPECT_EQ(rdap_base_for(*b, "acme.co.uk"), "https://rdap.couk.test/");
  EXPECT_EQ(rdap_base_for(*b, "acme.uk"), "https://rdap.nominet.test/uk/");
  EXPECT_EQ(rdap_base_for(*b, "acme.org"), "http://rdap.org.test/");
  // Whole labels only, and no service without a usable URL.
  EXPECT_FALSE(rdap_base_for(*b, "acmecom"));
  EXPECT_FALSE(rdap_base_for(*b, "acme.xcom"));
  EXPECT_FALSE(rdap_base_for(*b, "acme.ftp"));
  EXPECT_FALSE(rdap_base_for(*b, "acme.bad"));
  EXPECT_FALSE(rdap_base_for(*b, "acme.de"));

  EXPECT_FALSE(parse_rdap_bootstrap("{", error));
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(parse_rdap_bootstrap(R"({"services": 3})", error));
  EXPECT_EQ(error, "no \"services\" array");
}

TEST(RdapBootstrap, TheShippedListKnowsTheLargeRegistries) {
  const RdapBootstrap& b = shipped_rdap_bootstrap();
  EXPECT_GE(b.entries.size(), 20u);
  EXPECT_FALSE(b.publication.empty());
  EXPECT_EQ(rdap_base_for(b, "example.com"), "https://rdap.verisign.com/com/v1/");
  EXPECT_EQ(rdap_base_for(b, "example.net"), "https://rdap.verisign.com/net/v1/");
  EXPECT_EQ(rdap_base_for(b, "example.org"), "https://rdap.publicinterestregistry.org/rdap/");
  EXPECT_EQ(rdap_base_for(b, "portal.example.dev"), "https://pubapi.registry.google/rdap/");
  EXPECT_EQ(rdap_base_for(b, "example.nl"), "https://rdap.sidn.nl/");
  EXPECT_FALSE(rdap_base_for(b, "example.de"));  // DENIC: WHOIS only
}

TEST(RdapBootstrap, TheRequestHasOneSlashBetweenBaseAndPath) {
  EXPECT_EQ(rdap_domain_url("https://rdap.verisign.com/com/v1/", "example.com"),
            "https://rdap.verisign.com/com/v1/domain/example.com");
  EXPECT_EQ(rdap_domain_url("https://rdap.example/", "acme.example"),
            "https://rdap.example/domain/acme.example");
  EXPECT_EQ(rdap_domain_url("https://rdap.example", "acme.example"),
            "https://rdap.example/domain/acme.example");
  EXPECT_EQ(rdap_domain_url("http://127.0.0.1:8080//", "acme.example"),
            "http://127.0.0.1:8080/domain/acme.example");
}

}  // namespace
}  // namespace lookout
