// The expiry in WHOIS answers as registries write them, the answers that say there is no such
// domain or that the client asks too often, and the servers lookout knows for TLDs without RDAP.
#include "probes/whois_expiry.h"

#include <gtest/gtest.h>

#include "probes/domain_expiry.h"

namespace lookout {
namespace {

WallTime day(int y, int m, int d, int hh = 0) { return *utc_time(y, m, d, hh); }

constexpr const char* kVerisignCom = R"(   Domain Name: EXAMPLE.COM
   Registry Domain ID: 2336799_DOMAIN_COM-VRSN
   Registrar WHOIS Server: whois.iana.org
   Updated Date: 2024-08-14T07:01:34Z
   Creation Date: 1995-08-14T04:00:00Z
   Registry Expiry Date: 2027-08-13T04:00:00Z
   Registrar: RESERVED-Internet Assigned Numbers Authority
   Domain Status: clientDeleteProhibited https://icann.org/epp#clientDeleteProhibited
   Name Server: A.IANA-SERVERS.NET
   DNSSEC: signedDelegation
>>> Last update of whois database: 2026-12-04T10:01:02Z <<<

NOTICE: The expiration date displayed in this record is the date the
registrar's sponsorship of the domain name registration in the registry is
currently set to expire. This date does not necessarily reflect the expiration
date of the domain name registrant's agreement with the sponsoring registrar.
)";

// A registrar's answer: its own date comes after the registry's.
constexpr const char* kRegistrar =
    "Domain Name: acme.com\r\n"
    "Registrar Registration Expiration Date: 2028-01-01T00:00:00Z\r\n"
    "Registry Expiry Date: 2027-08-13T04:00:00Z\r\n";

TEST(WhoisExpiry, ReadsTheFormatsRegistriesWrite) {
  struct Case {
    const char* what;
    std::string text;
    WallTime want;
  };
  const Case cases[] = {
      {"verisign", kVerisignCom, day(2027, 8, 13, 4)},
      {"registry before registrar", kRegistrar, day(2027, 8, 13, 4)},
      {"registrar only",
       "Registrar Registration Expiration Date: 2027-08-13T04:00:00.0Z\nRegistrar: X\n",
       day(2027, 8, 13, 4)},
      {"dd-mon-yyyy", "domain:   acme.test\nExpiration Date: 13-aug-2027\n", day(2027, 8, 13)},
      {"nominet",
       "    Relevant dates:\n        Registered on: 26-Aug-1996\n"
       "        Expiry date:  13-Aug-2027\n        Last updated:  02-Jul-2024\n",
       day(2027, 8, 13)},
      {"expires", "domain: acme.se\nstate: active\ncreated: 2001-05-02\nexpires: 2027-08-13\n",
       day(2027, 8, 13)},
      {"paid-till",
       "domain:        ACME.RU\nstate:         REGISTERED, DELEGATED\n"
       "created:       2004-03-12T20:00:00Z\npaid-till:     2027.08.13\n"
       "free-date:     2027.09.13\n",
       day(2027, 8, 13)},
      {"dd/mm/yyyy", "Domain: acme.test\nExpiry date: 13/08/2027\n", day(2027, 8, 13)},
      {"dd.mm.yyyy", "Domain: acme.test\nValid Until: 13.08.2027\n", day(2027, 8, 13)},
      {"renewal date", "Domain Name: acme.test\nRenewal date: 2027-08-13 04:00:00\n",
       day(2027, 8, 13, 4)},
      {"expires on", "Domain Name: acme.test\nExpires On: 2027/08/13\n", day(2027, 8, 13)},
      {"jprs",
       "[Domain Name]                   ACME.JP\n[Expires on]                    "
       "2027/08/31\n[Status]                        Active\n",
       day(2027, 8, 31)},
      {"cnnic", "Domain Name: acme.cn\nExpiration Time: 2027-08-13 12:00:00\n",
       day(2027, 8, 13, 12)},
      {"kr", "Domain Name : acme.kr\nExpiration Date : 2027. 08. 13.\n", day(2027, 8, 13)},
      {"registro.br", "domain: acme.com.br\nexpires: 20270813\n", day(2027, 8, 13)},
      {"weekday and month first", "Record expires on: Fri Aug 13 2027\n", day(2027, 8, 13)},
      {"month name first", "Expires: Aug 13 04:00:00 2027\n", day(2027, 8, 13)},
      {"expire date", "Expire Date: 2027-08-13\n", day(2027, 8, 13)},
  };
  for (const auto& c : cases) {
    const WhoisAnswer a = parse_whois_answer(c.text);
    ASSERT_TRUE(a.expires) << c.what;
    EXPECT_EQ(*a.expires, c.want) << c.what << ": " << rfc3339(*a.expires);
    EXPECT_FALSE(a.not_found) << c.what;
    EXPECT_FALSE(a.rate_limited) << c.what;
  }
  EXPECT_EQ(parse_whois_answer(kVerisignCom).expiry_line,
            "Registry Expiry Date: 2027-08-13T04:00:00Z");
}

TEST(WhoisExpiry, DatesThatAreNotDatesAreLeftAlone) {
  for (const char* text : {"", "never", "13/13/2027", "2027-08", "31-feb-2027", "Aug 2027",
                           "0000-00-00", "99999999", "12 34 56"}) {
    EXPECT_FALSE(parse_whois_date(text)) << text;
  }
  // A day above 12 in the second place can only be the day: 08/13/2027.
  EXPECT_EQ(parse_whois_date("08/13/2027"), day(2027, 8, 13));
  // Other dates of the record are not the expiry.
  const WhoisAnswer a = parse_whois_answer(
      "Creation Date: 1995-08-14T04:00:00Z\nUpdated Date: 2024-08-14\nExpiry date: unknown\n");
  EXPECT_FALSE(a.expires);
}

TEST(WhoisExpiry, NoSuchDomainAndRateLimitsAreToldApart) {
  for (const char* text :
       {"No match for \"NOPE.COM\".\r\n>>> Last update of whois database: 2026-12-04 <<<\r\n",
        "NOT FOUND\n", "%ERROR:101: no entries found\n", "Domain: nope.de\nStatus: free\n",
        "The queried object does not exist: DOMAIN NOT FOUND\n", "No Data Found\n"}) {
    const WhoisAnswer a = parse_whois_answer(text);
    EXPECT_FALSE(a.expires) << text;
    EXPECT_TRUE(a.not_found) << text;
    EXPECT_FALSE(a.rate_limited) << text;
  }
  for (const char* text :
       {"WHOIS LIMIT EXCEEDED - SEE WWW.PIR.ORG/WHOIS FOR DETAILS\n",
        "Your connection limit exceeded. Please slow down and try again later.\n",
        "%% Too many requests from 192.0.2.1\n"}) {
    const WhoisAnswer a = parse_whois_answer(text);
    EXPECT_FALSE(a.expires) << text;
    EXPECT_FALSE(a.not_found) << text;
    EXPECT_TRUE(a.rate_limited) << text;
  }
  // An answer with a record but no date says neither.
  const WhoisAnswer a = parse_whois_answer("Domain: acme.test\nStatus: connect\n");
  EXPECT_FALSE(a.expires || a.not_found || a.rate_limited);
}

TEST(WhoisExpiry, KnowsServersOfTldsWithoutRdap) {
  EXPECT_EQ(known_whois_server("acme.de"), "whois.denic.de");
  EXPECT_EQ(known_whois_server("www.Acme.JP."), "whois.jprs.jp");
  EXPECT_FALSE(known_whois_server("acme.com"));
  EXPECT_FALSE(known_whois_server(""));
}

}  // namespace
}  // namespace lookout
