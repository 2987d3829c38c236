// The dns kind against a real authoritative server (Knot) serving zones the test writes:
// every record type in presentation form, TCP after a truncated answer, the mail-domain
// checks, NXDOMAIN / REFUSED / timeout as causes of their own; a changed record turns the
// monitor DOWN with the diff until `lookout accept`, and the baseline survives a restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

std::string acme_zone(int serial, const std::string& second_address) {
  std::string big;
  for (int i = 0; i < 4; ++i) big += " \"" + std::string(200, static_cast<char>('a' + i)) + "\"";
  return fmt::format(R"(
$ORIGIN acme.test.
$TTL 60
@ SOA ns.acme.test. hostmaster.acme.test. {0} 3600 600 86400 60
@ NS ns.acme.test.
ns A 127.0.0.1
portal A 203.0.113.10
portal A {1}
www CNAME Portal.acme.test.
@ MX 20 MX2.acme.test.
@ MX 10 mx1.acme.test.
@ TXT "v=spf1 ip4:203.0.113.0/24 include:_spf.mailer.test -all"
@ TXT "google-site-verification=abc"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@acme.test"
s1._domainkey TXT {2}
big TXT {3}
_sip._tcp SRV 10 5 5060 sip.acme.test.
@ CAA 0 issue "letsencrypt.org"
v6 AAAA 2001:db8:0:0::1
)",
                     serial, second_address, dkim_key_strings(2048), big);
}

const char* kMailerZone = R"(
$ORIGIN mailer.test.
$TTL 60
@ SOA ns.mailer.test. hostmaster.mailer.test. 1 3600 600 86400 60
@ NS ns.mailer.test.
ns A 127.0.0.1
_spf TXT "v=spf1 ip4:198.51.100.0/24 include:a.mailer.test ~all"
a TXT "v=spf1 a mx include:b.mailer.test ~all"
b TXT "v=spf1 a mx ptr exists:x.mailer.test ~all"
heavy TXT "v=spf1 include:a.mailer.test include:c.mailer.test -all"
c TXT "v=spf1 a mx a:x.mailer.test mx:y.mailer.test ~all"
)";

std::string bad_zone() {
  return fmt::format(R"(
$ORIGIN bad.test.
$TTL 60
@ SOA ns.bad.test. hostmaster.bad.test. 1 3600 600 86400 60
@ NS ns.bad.test.
ns A 127.0.0.1
@ TXT "v=spf1 ip4:203.0.113.0/24 +all"
_dmarc TXT "v=DMARC1; p=maybe"
s1._domainkey TXT "v=DKIM1; k=rsa; p="
s2._domainkey TXT {}
heavy TXT "v=spf1 include:heavy.mailer.test -all"
many TXT "v=spf1 a mx ptr a:1.bad.test a:2.bad.test a:3.bad.test a:4.bad.test )"
                     R"(a:5.bad.test a:6.bad.test a:7.bad.test a:8.bad.test -all"
)",
                     dkim_key_strings(512));
}

struct Want {
  std::string outcome;
  std::string cause;  // a part of it; "" for none
};

TEST(DnsProbe, ReadsEveryRecordTypeAndJudgesMailRecords) {
  TempDir dir;
  // broken.test cannot load: Knot answers SERVFAIL for it.
  KnotServer knot(dir, {{"acme.test", acme_zone(1, "203.0.113.11")},
                        {"mailer.test", kMailerZone},
                        {"bad.test", bad_zone()},
                        {"broken.test", "@ SOA not a zone file\n"}});
  MuteResolver mute;

  auto mon = [&](const std::string& name, const std::string& body) {
    return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"dns\"\nresolver = \"{}\"\n{}\n", name,
                       knot.address(), body);
  };
  std::string toml = "[defaults]\ntimeout = \"2s\"\n";
  toml += mon(
      "a", "query = \"portal.acme.test\"\nexpect.answers = [\"203.0.113.11\", \"203.0.113.10\"]");
  toml += mon(
      "cname",
      "query = \"WWW.acme.test.\"\nrecord = \"CNAME\"\nexpect.answers = [\"portal.acme.test\"]");
  toml += mon("mx",
              "query = \"acme.test\"\nrecord = \"MX\"\nexpect.answers = [\"10 mx1.acme.test\", "
              "\"20 mx2.ACME.test.\"]");
  toml += mon("aaaa",
              "query = \"v6.acme.test\"\nrecord = \"AAAA\"\nexpect.answers = [\"2001:db8::1\"]");
  toml += mon("srv",
              "query = \"_sip._tcp.acme.test\"\nrecord = \"SRV\"\nexpect.answers = [\"10 5 5060 "
              "sip.acme.test\"]");
  toml += mon(
      "caa",
      "query = \"acme.test\"\nrecord = \"CAA\"\nexpect.answers = ['0 issue \"letsencrypt.org\"']");
  toml += mon("soa",
              "query = \"acme.test\"\nrecord = \"SOA\"\nexpect.contains = \"ns.acme.test "
              "hostmaster.acme.test 1 \"");
  toml += mon("ns", "query = \"acme.test\"\nrecord = \"NS\"\nexpect.answers = [\"ns.acme.test\"]");
  toml += mon("big-txt", "query = \"big.acme.test\"\nrecord = \"TXT\"\nexpect.contains = \"" +
                             std::string(200, 'd') + "\"");
  toml +=
      mon("wrong-a",
          "query = \"portal.acme.test\"\nexpect.answers = [\"203.0.113.10\", \"203.0.113.99\"]");
  toml += mon("spf", "query = \"acme.test\"\ncheck = \"spf\"");
  toml += mon("dmarc", "query = \"acme.test\"\ncheck = \"dmarc\"");
  toml += mon("dkim", "query = \"acme.test\"\ncheck = \"dkim\"\nselector = \"s1\"");
  toml += mon("spf-all", "query = \"bad.test\"\ncheck = \"spf\"");
  toml += mon("spf-heavy", "query = \"heavy.bad.test\"\ncheck = \"spf\"");
  toml += mon("spf-many", "query = \"many.bad.test\"\ncheck = \"spf\"");
  toml += mon("dmarc-bad", "query = \"bad.test\"\ncheck = \"dmarc\"");
  toml += mon("dkim-revoked", "query = \"bad.test\"\ncheck = \"dkim\"\nselector = \"s1\"");
  toml += mon("dkim-short", "query = \"bad.test\"\ncheck = \"dkim\"\nselector = \"s2\"");
  toml += mon("dmarc-missing", "query = \"mailer.test\"\ncheck = \"dmarc\"");
  toml += mon("nxdomain", "query = \"nope.acme.test\"");
  toml += mon("nodata", "query = \"portal.acme.test\"\nrecord = \"MX\"");
  toml += mon("refused", "query = \"portal.example.org\"");
  toml += mon("servfail", "query = \"www.broken.test\"");
  toml += fmt::format(
      "[[monitor]]\nname = \"timeout\"\ntype = \"dns\"\nquery = \"acme.test\"\nresolver = "
      "\"127.0.0.1:{}\"\n"
      "timeout = \"600ms\"\n",
      mute.port());
  dir.write("c.toml", toml);

  const auto started = std::chrono::steady_clock::now();
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(code, 1);
  const std::map<std::string, Want> want{
      {"a", {"up", ""}},
      {"cname", {"up", ""}},
      {"mx", {"up", ""}},
      {"aaaa", {"up", ""}},
      {"srv", {"up", ""}},
      {"caa", {"up", ""}},
      {"soa", {"up", ""}},
      {"ns", {"up", ""}},
      {"big-txt", {"up", ""}},
      {"wrong-a",
       {"down",
        "A portal.acme.test is not as expected: unexpected \"203.0.113.11\"; missing "
        "\"203.0.113.99\""}},
      {"spf", {"up", ""}},
      {"dmarc", {"up", ""}},
      {"dkim", {"up", ""}},
      {"spf-all", {"down", "ends in \"+all\""}},
      {"spf-heavy", {"down", "needs more than 10 DNS lookups"}},
      {"spf-many", {"down", "needs more than 10 DNS lookups"}},
      {"dmarc-bad", {"down", "p=maybe, not none, quarantine or reject"}},
      {"dkim-revoked", {"down", "revoked (empty p=)"}},
      {"dkim-short", {"down", "has 512 bits"}},
      {"dmarc-missing", {"down", "NXDOMAIN: _dmarc.mailer.test does not exist"}},
      {"nxdomain", {"down", "NXDOMAIN: nope.acme.test does not exist"}},
      {"nodata", {"down", "no MX records for portal.acme.test"}},
      {"refused", {"down", "REFUSED"}},
      {"servfail", {"down", "SERVFAIL from 127.0.0.1:"}},
      {"timeout", {"down", "no answer for A acme.test from 127.0.0.1:"}},
  };
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(name);
    ASSERT_EQ(r.count(name), 1u);
    const auto& j = r.at(name);
    EXPECT_EQ(j["outcome"], w.outcome) << j.dump();
    if (!w.cause.empty()) {
      EXPECT_NE(j["cause"].get<std::string>().find(w.cause), std::string::npos) << j.dump();
    }
  }
  // The hanging resolver costs its own timeout and nothing more.
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(DnsProbe, AChangeIsDownUntilAcceptedAndTheBaselineSurvivesARestart) {
  TempDir dir;
  KnotServer knot(dir, {{"acme.test", acme_zone(1, "203.0.113.11")}});
  const std::string token = "test-admin-token-0123456789";
  const std::string monitors = fmt::format(
      "[[monitor]]\nname = \"portal-dns\"\ntype = \"dns\"\npublic = true\nquery = "
      "\"portal.acme.test\"\nresolver = \"{}\"\n"
      "interval = \"300ms\"\ntimeout = \"300ms\"\nfail_after = 1\nrecover_after = 1\n",
      knot.address());
  const std::string server = fmt::format("admin_token = \"{}\"\n", token);
  {
    Daemon d(dir, monitors, server);
    d.start();
    ASSERT_TRUE(wait_until([&] { return d.monitor("portal-dns")["state"] == "up"; }, 10'000ms));
    knot.set_zone("acme.test", acme_zone(2, "203.0.113.12"));
    ASSERT_TRUE(wait_until([&] { return d.monitor("portal-dns")["state"] == "down"; }, 10'000ms));
    const auto incidents =
        nlohmann::json::parse(http_get(d.port(), "/api/v1/incidents?state=open").body);
    ASSERT_EQ(incidents["incidents"].size(), 1u);
    EXPECT_EQ(incidents["incidents"][0]["cause"],
              "A portal.acme.test changed: added \"203.0.113.12\"; removed \"203.0.113.11\" "
              "(accept the new answers with "
              "lookout accept)");

    // Accepting needs the token; the CLI takes it from the config.
    httplib::Client c("127.0.0.1", d.port());
    EXPECT_EQ(c.Post("/api/v1/monitors/portal-dns/accept")->status, 401);
    const auto accepted = run_lookout({"accept", "portal-dns", "-c", d.config_path()});
    EXPECT_EQ(accepted.code, 0) << accepted.err;
    EXPECT_NE(accepted.out.find("203.0.113.12"), std::string::npos) << accepted.out;
    ASSERT_TRUE(wait_until([&] { return d.monitor("portal-dns")["state"] == "up"; }, 10'000ms));
    EXPECT_EQ(run_lookout({"accept", "nope", "-c", d.config_path()}).code, 1);
  }
  // Stopped; the record changes back; the stored baseline (.12) still holds after a restart.
  knot.set_zone("acme.test", acme_zone(3, "203.0.113.11"));
  Daemon d2(dir, monitors, server);
  d2.start();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = d2.monitor("portal-dns");
        return m["state"] == "down";
      },
      10'000ms))
      << d2.monitor("portal-dns").dump();

  // Asked another question (after a reload), the monitor starts a baseline of its own.
  std::string other = monitors;
  other.replace(other.find("portal.acme.test"), 16, "www.acme.test\"\nrecord = \"CNAME");
  d2.rewrite_config(other, server);
  d2.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return d2.monitor("portal-dns")["state"] == "up"; }, 10'000ms))
      << d2.monitor("portal-dns").dump();
}

}  // namespace
}  // namespace lookout::testing
