// RRSIG records read from raw DNS messages: the fields, compressed owner names, 32-bit times by
// serial-number arithmetic, and messages cut short or malformed.
#include "probes/rrsig_expiry.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

// A DNS message built byte by byte, as a server would send it.
struct Wire {
  std::string bytes;
  void u8(unsigned v) { bytes += static_cast<char>(v & 0xFF); }
  void u16(unsigned v) {
    u8(v >> 8);
    u8(v);
  }
  void u32(uint32_t v) {
    u16(v >> 16);
    u16(v & 0xFFFF);
  }
  void name(const std::string& dotted) {
    size_t start = 0;
    while (start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string::npos) dot = dotted.size();
      u8(static_cast<unsigned>(dot - start));
      bytes += dotted.substr(start, dot - start);
      start = dot + 1;
    }
    u8(0);
  }
};

constexpr uint32_t kInception = 1'796'000'000;
constexpr uint32_t kExpiration = 1'797'000'000;

// portal.acme.test A with its RRSIG, the RRSIG's owner compressed to the question's name.
std::string signed_answer(uint32_t expiration = kExpiration, uint16_t answers = 2) {
  Wire w;
  w.u16(0x1234);
  w.u16(0x8180);
  w.u16(1);
  w.u16(answers);
  w.u16(0);
  w.u16(0);
  w.name("Portal.Acme.test");
  w.u16(1);
  w.u16(1);
  // The A record, its owner a pointer to the question's name at offset 12.
  w.u16(0xC00C);
  w.u16(1);
  w.u16(1);
  w.u32(60);
  w.u16(4);
  w.u32(0xCB00710A);
  // The RRSIG.
  w.u16(0xC00C);
  w.u16(46);
  w.u16(1);
  w.u32(60);
  Wire rd;
  rd.u16(1);   // covers A
  rd.u8(13);   // ECDSAP256SHA256
  rd.u8(3);    // labels
  rd.u32(60);  // original TTL
  rd.u32(expiration);
  rd.u32(kInception);
  rd.u16(27200);
  rd.name("acme.test");
  rd.bytes += std::string(64, 'S');
  w.u16(static_cast<unsigned>(rd.bytes.size()));
  w.bytes += rd.bytes;
  return w.bytes;
}

TEST(RrsigExpiry, ReadsTheSignaturesOfTheAnswer) {
  std::string error;
  const auto sigs = parse_rrsigs(signed_answer(), kInception + 100, error);
  ASSERT_TRUE(sigs) << error;
  ASSERT_EQ(sigs->size(), 1u);
  const RrsigRecord& s = (*sigs)[0];
  EXPECT_EQ(s.owner, "portal.acme.test");
  EXPECT_EQ(s.type_covered, 1);
  EXPECT_EQ(s.algorithm, 13);
  EXPECT_EQ(s.key_tag, 27200);
  EXPECT_EQ(s.signer, "acme.test");
  EXPECT_EQ(s.inception, kInception);
  EXPECT_EQ(s.expiration, kExpiration);
}

TEST(RrsigExpiry, TimesAreReadBySerialArithmeticAroundNow) {
  EXPECT_EQ(rrsig_time(kExpiration, kInception), kExpiration);
  // After 2106 the 32-bit field has wrapped: it still means the time nearest now.
  const int64_t after_wrap = (int64_t{1} << 32) + 1'000;
  EXPECT_EQ(rrsig_time(5'000, after_wrap), (int64_t{1} << 32) + 5'000);
  EXPECT_EQ(rrsig_time(0xFFFFFF00u, after_wrap), (int64_t{1} << 32) - 256);
  // A field just before now is in the past, not 136 years ahead.
  EXPECT_EQ(rrsig_time(kInception - 10, kInception), kInception - 10);
}

TEST(RrsigExpiry, TheEarliestExpiryAndTypeNames) {
  EXPECT_FALSE(earliest_expiry({}));
  RrsigRecord a, b;
  a.owner = "a";
  a.expiration = 200;
  b.owner = "b";
  b.expiration = 100;
  EXPECT_EQ(earliest_expiry({a, b})->owner, "b");
  EXPECT_EQ(rr_type_name(48), "DNSKEY");
  EXPECT_EQ(rr_type_name(43), "DS");
  EXPECT_EQ(rr_type_name(65280), "TYPE65280");
}

TEST(RrsigExpiry, MalformedMessagesAreErrorsNotCrashes) {
  std::string error;
  EXPECT_FALSE(parse_rrsigs("short", 0, error));
  EXPECT_EQ(error, "5 bytes, shorter than a DNS header");
  const std::string whole = signed_answer();
  // Every cut of the message is an error that says what is wrong.
  for (size_t n = 12; n < whole.size(); ++n) {
    error.clear();
    const auto r = parse_rrsigs(whole.substr(0, n), kInception, error);
    EXPECT_FALSE(r) << n;
    EXPECT_FALSE(error.empty()) << n;
  }
  // More answers announced than present.
  EXPECT_FALSE(parse_rrsigs(signed_answer(kExpiration, 3), kInception, error));
  EXPECT_EQ(error, "answer record 3 is cut short or malformed");
  // A compression pointer to itself (or forwards) would loop.
  std::string loop = signed_answer();
  loop[12] = static_cast<char>(0xC0);
  loop[13] = 12;
  EXPECT_FALSE(parse_rrsigs(loop, kInception, error));
  EXPECT_EQ(error, "the question section is cut short or malformed");
}

}  // namespace
}  // namespace lookout
