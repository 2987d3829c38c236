#include "probes/dns_answers.h"

#include <gtest/gtest.h>

#include <random>

namespace lookout {
namespace {

// A DNS response built by hand: one question, then answer records.
class Message {
 public:
  explicit Message(const std::string& qname, uint16_t qtype) {
    bytes_ = std::string("\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00", 12);
    name(qname);
    u16(qtype);
    u16(1);
  }
  // An answer whose owner is a pointer to the question name (offset 12).
  Message& rr(uint16_t type, const std::string& rdata) {
    bytes_ += std::string("\xc0\x0c", 2);
    u16(type);
    u16(1);
    bytes_ += std::string("\x00\x00\x00\x3c", 4);
    u16(static_cast<uint16_t>(rdata.size()));
    bytes_ += rdata;
    ++answers_;
    bytes_[6] = static_cast<char>(answers_ >> 8);
    bytes_[7] = static_cast<char>(answers_ & 0xff);
    return *this;
  }
  static std::string wire_name(const std::string& n) {
    std::string out;
    size_t start = 0;
    while (start < n.size()) {
      size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      out += static_cast<char>(dot - start);
      out += n.substr(start, dot - start);
      start = dot + 1;
    }
    return out + std::string(1, '\0');
  }
  const std::string& bytes() const { return bytes_; }

 private:
  void name(const std::string& n) { bytes_ += wire_name(n); }
  void u16(uint16_t v) {
    bytes_ += static_cast<char>(v >> 8);
    bytes_ += static_cast<char>(v & 0xff);
  }
  std::string bytes_;
  uint16_t answers_ = 0;
};

std::string be16(uint16_t v) {
  return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

std::vector<std::string> parse(const Message& m, uint16_t type) {
  std::string error;
  auto a = parse_answers(m.bytes(), type, error);
  EXPECT_TRUE(a.has_value()) << error;
  return a.value_or(std::vector<std::string>{});
}

TEST(DnsAnswers, PresentationFormOfEachType) {
  EXPECT_EQ(parse(Message("a.test", 1)
                      .rr(1, std::string("\xcb\x00\x71\x0b", 4))
                      .rr(1, std::string("\xcb\x00\x71\x0a", 4)),
                  1),
            (std::vector<std::string>{"203.0.113.10", "203.0.113.11"}));
  std::string v6(16, '\0');
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = static_cast<char>(0xb8), v6[15] = 1;
  EXPECT_EQ(parse(Message("a.test", 28).rr(28, v6), 28), (std::vector<std::string>{"2001:db8::1"}));
  EXPECT_EQ(parse(Message("www.test", 5).rr(5, Message::wire_name("Portal.Test")), 5),
            (std::vector<std::string>{"portal.test"}));
  EXPECT_EQ(parse(Message("t", 15)
                      .rr(15, be16(20) + Message::wire_name("MX2.t"))
                      .rr(15, be16(10) + Message::wire_name("mx1.t")),
                  15),
            (std::vector<std::string>{"10 mx1.t", "20 mx2.t"}));
  EXPECT_EQ(parse(Message("t", 16).rr(16, std::string("\x05"
                                                      "v=spf"
                                                      "\x05"
                                                      " -all",
                                                      12)),
                  16),
            (std::vector<std::string>{"v=spf -all"}));
  EXPECT_EQ(parse(Message("_s._tcp.t", 33)
                      .rr(33, be16(10) + be16(5) + be16(443) + Message::wire_name("Host.t")),
                  33),
            (std::vector<std::string>{"10 5 443 host.t"}));
  EXPECT_EQ(parse(Message("t", 257).rr(257, std::string("\x00\x05issueca.example", 17)), 257),
            (std::vector<std::string>{"0 issue \"ca.example\""}));
  EXPECT_EQ(parse(Message("t", 6).rr(6, Message::wire_name("ns.t") + Message::wire_name("h.t") +
                                            std::string("\x00\x00\x00\x07\x00\x00\x0e\x10\x00\x00"
                                                        "\x02\x58\x00\x01\x51\x80\x00\x00\x00\x3c",
                                                        20)),
                  6),
            (std::vector<std::string>{"ns.t h.t 7 3600 600 86400 60"}));
}

// Bytes a store would refuse (a NUL) or mend (not UTF-8) are written as text every store keeps
// as it is, so a baseline read back equals the answers it was taken from.
TEST(DnsAnswers, CharacterDataIsTextEveryStoreKeeps) {
  const std::string txt(
      "\x08"
      "a\x00"
      "b\xff"
      "c\x1f\xc3\xa9",
      9);
  EXPECT_EQ(parse(Message("t", 16).rr(16, txt), 16), (std::vector<std::string>{"a\\000b\xEF\xBF\xBD"
                                                                               "c\\031\xC3\xA9"}));
  EXPECT_EQ(parse(Message("t", 257).rr(257, std::string("\x00\x05issueca\x00\xfe", 11)), 257),
            (std::vector<std::string>{"0 issue \"ca\\000\xEF\xBF\xBD\""}));
}

TEST(DnsAnswers, OrderCaseAndDuplicatesAreNoChange) {
  const auto one =
      parse(Message("t", 2).rr(2, Message::wire_name("B.t")).rr(2, Message::wire_name("a.t")), 2);
  const auto two = parse(Message("t", 2)
                             .rr(2, Message::wire_name("a.T"))
                             .rr(2, Message::wire_name("b.t"))
                             .rr(2, Message::wire_name("b.t")),
                         2);
  EXPECT_EQ(one, two);
  EXPECT_TRUE(diff_answers(one, two).empty());
}

TEST(DnsAnswers, OtherTypesInTheAnswerAreSkipped) {
  // A CNAME step before the A record.
  const auto a = parse(Message("www.t", 1)
                           .rr(5, Message::wire_name("portal.t"))
                           .rr(1, std::string("\x7f\x00\x00\x01", 4)),
                       1);
  EXPECT_EQ(a, (std::vector<std::string>{"127.0.0.1"}));
}

TEST(DnsAnswers, GarbageIsAnErrorNeverACrash) {
  std::string error;
  EXPECT_FALSE(parse_answers("short", 1, error));
  const std::string good = Message("a.test", 16)
                               .rr(16, std::string("\x03"
                                                   "abc",
                                                   4))
                               .bytes();
  // Every truncation and random corruption either parses or reports an error.
  for (size_t n = 0; n < good.size(); ++n) (void)parse_answers(good.substr(0, n), 16, error);
  std::mt19937 rng(3);
  for (int i = 0; i < 20'000; ++i) {
    std::string m = good;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<char>(rng());
    (void)parse_answers(m, static_cast<uint16_t>(rng() % 300), error);
  }
  // A TXT string longer than its record.
  const std::string bad = Message("a.test", 16)
                              .rr(16, std::string("\x09"
                                                  "abc",
                                                  4))
                              .bytes();
  EXPECT_FALSE(parse_answers(bad, 16, error));
}

TEST(DnsAnswers, JudgesExpectationsAndTheBaseline) {
  DnsCheck c;
  c.query = "portal.test";
  c.record = 15;
  c.record_name = "MX";
  c.expect_answers = std::vector<std::string>{"20 MX2.test.", "10 mx1.test"};
  const std::vector<std::string> seen{"10 mx1.test", "20 mx2.test"};
  EXPECT_EQ(judge_answers(c, seen, std::nullopt).outcome, Outcome::kUp);
  const auto v = judge_answers(c, {"10 mx1.test", "30 mx3.test"}, std::nullopt);
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(
      v.cause,
      "MX portal.test is not as expected: unexpected \"30 mx3.test\"; missing \"20 mx2.test\"");

  DnsCheck t;
  t.query = "_dmarc.test";
  t.record = 16;
  t.record_name = "TXT";
  t.expect_contains = Secret::plain("v=DMARC1");
  EXPECT_EQ(judge_answers(t, {"v=DMARC1; p=none"}, std::nullopt).outcome, Outcome::kUp);
  EXPECT_EQ(judge_answers(t, {"other"}, std::nullopt).cause,
            "no answer of TXT _dmarc.test contains \"v=DMARC1\"");
  const auto changed =
      judge_answers(t, {"v=DMARC1; p=none"}, std::vector<std::string>{"v=DMARC1; p=reject"});
  EXPECT_EQ(changed.outcome, Outcome::kDown);
  EXPECT_EQ(
      changed.cause.rfind(
          "TXT _dmarc.test changed: added \"v=DMARC1; p=none\"; removed \"v=DMARC1; p=reject\"", 0),
      0u)
      << changed.cause;
  t.expect_contains = Secret("v=DMARC1; p=reject", true);
  EXPECT_EQ(judge_answers(t, {"v=DMARC1; p=none"}, std::nullopt).cause,
            "no answer of TXT _dmarc.test contains *** (a secret)");
  t.expect_contains = Secret::plain("v=DMARC1");
  t.alert_on_change = false;
  EXPECT_EQ(judge_answers(t, {"v=DMARC1; p=none"}, std::vector<std::string>{"v=DMARC1; p=reject"})
                .outcome,
            Outcome::kUp);
}

}  // namespace
}  // namespace lookout
