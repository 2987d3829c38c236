#include "probes/mail_records.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace lookout {
namespace {

TEST(Spf, ASoundRecordCountsItsLookupsAndIncludes) {
  const SpfRecord r = check_spf(
      "acme.test",
      {"google-site-verification=x", "v=spf1 a mx include:_spf.m.test ip4:1.2.3.0/24 ~all"});
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.lookups, 3);
  EXPECT_EQ(r.includes, std::vector<std::string>{"_spf.m.test"});
  const SpfRecord redirect = check_spf("acme.test", {"v=spf1 redirect=_spf.m.test"});
  EXPECT_EQ(redirect.problem, "");
  EXPECT_EQ(redirect.includes, std::vector<std::string>{"_spf.m.test"});
}

TEST(Spf, KnownMistakes) {
  EXPECT_EQ(check_spf("a.test", {"other"}).problem,
            "no SPF record at a.test (a TXT record starting \"v=spf1\")");
  EXPECT_EQ(check_spf("a.test", {"v=spf1 -all", "v=spf1 ~all"}).problem,
            "2 SPF records at a.test; there must be exactly one");
  EXPECT_NE(check_spf("a.test", {"v=spf1 +all"}).problem.find("anyone may send"),
            std::string::npos);
  EXPECT_NE(check_spf("a.test", {"v=spf1 all"}).problem.find("anyone may send"), std::string::npos);
  EXPECT_NE(check_spf("a.test", {"v=spf1 ip4:1.2.3.4"}).problem.find("does not end in an \"all\""),
            std::string::npos);
  EXPECT_NE(check_spf("a.test", {"v=spf1 include: -all"}).problem.find("needs a domain"),
            std::string::npos);
  EXPECT_NE(check_spf("a.test", {"v=spf1 ipv4:1.2.3.4 -all"})
                .problem.find("unknown term \"ipv4:1.2.3.4\""),
            std::string::npos);
  EXPECT_EQ(check_spf("a.test", {"v=spf1 -all exp=explain.a.test"}).problem, "");
  EXPECT_EQ(check_spf("a.test", {"v=spf10 -all"}).problem,
            "no SPF record at a.test (a TXT record starting \"v=spf1\")");
}

TEST(Dmarc, RulesOfTheRecord) {
  EXPECT_EQ(check_dmarc("_dmarc.a.test",
                        {"v=DMARC1; p=reject; rua=mailto:d@a.test,mailto:x@y.test!10m; pct=100"}),
            "");
  EXPECT_NE(check_dmarc("_dmarc.a.test", {}).find("no DMARC record"), std::string::npos);
  EXPECT_NE(check_dmarc("_dmarc.a.test", {"v=DMARC1; p=none", "v=DMARC1; p=reject"})
                .find("2 DMARC records"),
            std::string::npos);
  EXPECT_NE(check_dmarc("_dmarc.a.test", {"v=DMARC1; rua=mailto:d@a.test"}).find("no policy"),
            std::string::npos);
  EXPECT_NE(check_dmarc("_dmarc.a.test", {"v=DMARC1; p=block"}).find("p=block"), std::string::npos);
  EXPECT_NE(check_dmarc("_dmarc.a.test", {"v=DMARC1; p=none; sp=all"}).find("sp=all"),
            std::string::npos);
  EXPECT_NE(
      check_dmarc("_dmarc.a.test", {"v=DMARC1; p=none; rua=d@a.test"}).find("not a mailto:address"),
      std::string::npos);
  EXPECT_NE(check_dmarc("_dmarc.a.test", {"v=DMARC1; p=none; pct=150"}).find("pct=150"),
            std::string::npos);
  EXPECT_NE(check_dmarc("_dmarc.a.test", {"p=none; v=DMARC1"}).find("no DMARC record"),
            std::string::npos);
}

std::string public_key_b64(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  std::string b64(static_cast<size_t>((len + 2) / 3 * 4 + 1), '\0');
  b64.resize(
      static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der, len)));
  OPENSSL_free(der);
  return b64;
}

TEST(Dkim, TheKeyMustDecode) {
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  const std::string key = public_key_b64(rsa);
  EVP_PKEY_free(rsa);
  EXPECT_EQ(check_dkim("s1._domainkey.a.test", {"v=DKIM1; k=rsa; p=" + key}), "");
  EXPECT_EQ(check_dkim("s1._domainkey.a.test", {"k=rsa; p=" + key}), "");
  EXPECT_NE(check_dkim("s1._domainkey.a.test", {"v=DKIM1; p="}).find("revoked"), std::string::npos);
  EXPECT_NE(check_dkim("s1._domainkey.a.test", {"v=DKIM1; p=" + key.substr(0, 40)})
                .find("does not decode"),
            std::string::npos);
  EXPECT_NE(check_dkim("s1._domainkey.a.test", {"v=DKIM1; p=@@@@"}).find("not valid base64"),
            std::string::npos);
  EXPECT_NE(check_dkim("s1._domainkey.a.test", {"v=DKIM2; p=" + key}).find("v=DKIM1"),
            std::string::npos);
  EXPECT_NE(check_dkim("s1._domainkey.a.test", {}).find("no DKIM key"), std::string::npos);
  EVP_PKEY* small = EVP_RSA_gen(512);
  EXPECT_NE(check_dkim("s1._domainkey.a.test", {"v=DKIM1; p=" + public_key_b64(small)})
                .find("has 512 bits"),
            std::string::npos);
  EVP_PKEY_free(small);
}

}  // namespace
}  // namespace lookout
