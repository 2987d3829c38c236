#include "probes/dns_answers.h"

#include <ares.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "core/utf8.h"

namespace lookout {
namespace {

std::string lower_name(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

uint16_t u16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t u32(const unsigned char* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

// A (possibly compressed) name at `at`; its length in the message goes to `used`.
std::optional<std::string> name_at(const unsigned char* at, const unsigned char* msg, int len,
                                   long& used) {
  char* s = nullptr;
  if (ares_expand_name(at, msg, len, &s, &used) != ARES_SUCCESS) return std::nullopt;
  std::string out = lower_name(s);
  ares_free_string(s);
  return out;
}

bool is_name_type(uint16_t t) { return t == 2 || t == 5; }

// Character-string data (TXT, CAA) as text every store keeps as it is: bytes that are not
// UTF-8 become U+FFFD and control bytes \DDD, as in a zone file. A baseline read back from
// SQLite or PostgreSQL then equals the probe's own answers; raw, PostgreSQL would refuse a NUL
// and mend other bytes, and the answers would differ from their baseline for good.
std::string character_data(std::string_view raw) {
  std::string out;
  for (const char c : valid_utf8(raw)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\{:03}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string quoted(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  q.reserve(v.size());
  for (const auto& s : v) q.push_back(fmt::format("\"{}\"", s));
  return fmt::format("{}", fmt::join(q, ", "));
}

// "<head>: <added-word> "x"; <removed-word> "y"", naming only the sides that are not empty.
DnsVerdict down_with_diff(const std::string& head, const AnswerDiff& d, const char* added,
                          const char* removed) {
  DnsVerdict v;
  v.outcome = Outcome::kDown;
  v.kind = ErrorKind::kExpectation;
  v.cause = head + ":";
  if (!d.added.empty()) v.cause += fmt::format(" {} {}", added, quoted(d.added));
  if (!d.added.empty() && !d.removed.empty()) v.cause += ";";
  if (!d.removed.empty()) v.cause += fmt::format(" {} {}", removed, quoted(d.removed));
  return v;
}

}  // namespace

std::optional<std::vector<std::string>> parse_answers(std::string_view message, uint16_t qtype,
                                                      std::string& error) {
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  const int len = static_cast<int>(message.size());
  if (len < 12) {
    error = "the answer is shorter than a DNS header";
    return std::nullopt;
  }
  const unsigned qd = u16(msg + 4), an = u16(msg + 6);
  const unsigned char* p = msg + 12;
  const unsigned char* end = msg + len;
  for (unsigned i = 0; i < qd; ++i) {
    long used = 0;
    if (!name_at(p, msg, len, used) || end - (p + used) < 4) {
      error = "the question section does not parse";
      return std::nullopt;
    }
    p += used + 4;
  }
  std::set<std::string> out;
  for (unsigned i = 0; i < an; ++i) {
    long used = 0;
    if (!name_at(p, msg, len, used) || end - (p + used) < 10) {
      error = fmt::format("answer record {} does not parse", i + 1);
      return std::nullopt;
    }
    p += used;
    const uint16_t type = u16(p);
    const uint16_t rdlen = u16(p + 8);
    p += 10;
    if (end - p < rdlen) {
      error = fmt::format("answer record {} is cut short", i + 1);
      return std::nullopt;
    }
    const unsigned char* rd = p;
    p += rdlen;
    if (type != qtype) continue;  // the CNAME steps before an A answer, for one
    char buf[INET6_ADDRSTRLEN] = {};
    std::optional<std::string> value;
    long n = 0;
    switch (type) {
      case 1:
        if (rdlen == 4 && inet_ntop(AF_INET, rd, buf, sizeof buf) != nullptr) value = buf;
        break;
      case 28:
        if (rdlen == 16 && inet_ntop(AF_INET6, rd, buf, sizeof buf) != nullptr) value = buf;
        break;
      case 2:
      case 5:
        value = name_at(rd, msg, len, n);
        break;
      case 15:
        if (rdlen > 2) {
          if (auto host = name_at(rd + 2, msg, len, n))
            value = fmt::format("{} {}", u16(rd), *host);
        }
        break;
      case 16: {
        std::string joined;
        const unsigned char* q = rd;
        bool ok = true;
        while (q < p) {
          const unsigned l = *q++;
          if (p - q < static_cast<long>(l)) {
            ok = false;
            break;
          }
          joined.append(reinterpret_cast<const char*>(q), l);
          q += l;
        }
        if (ok) value = character_data(joined);
        break;
      }
      case 6: {
        long n2 = 0;
        auto mname = name_at(rd, msg, len, n);
        if (!mname || rd + n > p) break;
        auto rname = name_at(rd + n, msg, len, n2);
        if (!rname || p - (rd + n + n2) < 20) break;
        const unsigned char* f = rd + n + n2;
        value = fmt::format("{} {} {} {} {} {} {}", *mname, *rname, u32(f), u32(f + 4), u32(f + 8),
                            u32(f + 12), u32(f + 16));
        break;
      }
      case 33:
        if (rdlen > 6) {
          if (auto target = name_at(rd + 6, msg, len, n))
            value = fmt::format("{} {} {} {}", u16(rd), u16(rd + 2), u16(rd + 4), *target);
        }
        break;
      case 257:
        if (rdlen >= 2 && rdlen >= 2 + rd[1]) {
          const std::string tag =
              lower_name(std::string(reinterpret_cast<const char*>(rd + 2), rd[1]));
          const std::string val(reinterpret_cast<const char*>(rd + 2 + rd[1]), rdlen - 2 - rd[1]);
          value = fmt::format("{} {} \"{}\"", rd[0], tag, character_data(val));
        }
        break;
      default:
        break;
    }
    if (!value) {
      error = fmt::format("answer record {} (type {}) does not parse", i + 1, type);
      return std::nullopt;
    }
    out.insert(std::move(*value));
  }
  return std::vector<std::string>(out.begin(), out.end());
}

std::string normalise_answer(uint16_t qtype, std::string_view text) {
  std::string s(text);
  if (is_name_type(qtype)) return lower_name(s);
  if (qtype == 15 || qtype == 33) {
    // The last word is a name.
    const auto sp = s.rfind(' ');
    if (sp != std::string::npos) return s.substr(0, sp + 1) + lower_name(s.substr(sp + 1));
    return s;
  }
  if (qtype == 28) {
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1 &&
        inet_ntop(AF_INET6, buf, out, sizeof out) != nullptr)
      return out;
  }
  return s;
}

AnswerDiff diff_answers(const std::vector<std::string>& before,
                        const std::vector<std::string>& now) {
  AnswerDiff d;
  std::set_difference(now.begin(), now.end(), before.begin(), before.end(),
                      std::back_inserter(d.added));
  std::set_difference(before.begin(), before.end(), now.begin(), now.end(),
                      std::back_inserter(d.removed));
  return d;
}

DnsVerdict judge_answers(const DnsCheck& check, const std::vector<std::string>& answers,
                         const std::optional<std::vector<std::string>>& baseline) {
  DnsVerdict v;
  const std::string what = fmt::format("{} {}", check.record_name, check.query);
  if (check.expect_answers) {
    std::set<std::string> want;
    for (const auto& a : *check.expect_answers) want.insert(normalise_answer(check.record, a));
    const std::vector<std::string> expected(want.begin(), want.end());
    if (expected != answers) {
      return down_with_diff(what + " is not as expected", diff_answers(expected, answers),
                            "unexpected", "missing");
    }
  }
  if (check.expect_contains) {
    const bool found = std::any_of(answers.begin(), answers.end(), [&](const std::string& a) {
      return a.find(check.expect_contains->reveal()) != std::string::npos;
    });
    if (!found) {
      v.outcome = Outcome::kDown;
      v.kind = ErrorKind::kExpectation;
      const Secret& want = *check.expect_contains;
      v.cause =
          fmt::format("no answer of {} contains {}", what,
                      want.is_secret() ? std::string(kSecretInCause) : "\"" + want.reveal() + "\"");
      return v;
    }
  }
  if (check.alert_on_change && baseline && *baseline != answers) {
    v = down_with_diff(what + " changed", diff_answers(*baseline, answers), "added", "removed");
    v.cause += " (accept the new answers with lookout accept)";
  }
  return v;
}

}  // namespace lookout
