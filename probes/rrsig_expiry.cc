#include "probes/rrsig_expiry.h"

#include <fmt/format.h>

namespace lookout {
namespace {

constexpr uint16_t kTypeRrsig = 46;
constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxName = 255;  // RFC 1035 3.1, in wire form

uint16_t rrsig_u16(std::string_view m, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(m[at]) << 8) |
                               static_cast<uint8_t>(m[at + 1]));
}

uint32_t rrsig_u32(std::string_view m, size_t at) {
  return (static_cast<uint32_t>(rrsig_u16(m, at)) << 16) | rrsig_u16(m, at + 2);
}

// A name at `at` in presentation form (compression pointers followed, each only backwards so
// no loop can form); `next` is where the record goes on. False when the name is malformed.
bool rrsig_name(std::string_view m, size_t at, std::string& out, size_t& next) {
  out.clear();
  size_t wire = 0;
  bool jumped = false;
  size_t pos = at;
  while (true) {
    if (pos >= m.size()) return false;
    const auto len = static_cast<uint8_t>(m[pos]);
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= m.size()) return false;
      const size_t target = rrsig_u16(m, pos) & 0x3FFF;
      if (target >= pos) return false;
      if (!jumped) next = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // the extended label types are obsolete
    wire += len + 1;
    if (wire > kMaxName) return false;
    if (len == 0) {
      if (!jumped) next = pos + 1;
      break;
    }
    if (pos + 1 + len > m.size()) return false;
    if (!out.empty()) out += '.';
    for (size_t i = pos + 1; i <= pos + len; ++i) {
      const auto c = static_cast<unsigned char>(m[i]);
      if (c == '.' || c == '\\' || c <= ' ' || c >= 0x7F) {
        out += fmt::format("\\{:03}", c);
      } else {
        out += static_cast<char>(std::tolower(c));
      }
    }
    pos += 1 + len;
  }
  if (out.empty()) out = ".";
  return true;
}

}  // namespace

int64_t rrsig_time(uint32_t field, int64_t now) {
  const auto offset = static_cast<int32_t>(field - static_cast<uint32_t>(now));
  return now + offset;
}

std::optional<std::vector<RrsigRecord>> parse_rrsigs(std::string_view m, int64_t now,
                                                     std::string& error) {
  if (m.size() < kHeaderSize) {
    error = fmt::format("{} bytes, shorter than a DNS header", m.size());
    return std::nullopt;
  }
  const uint16_t questions = rrsig_u16(m, 4);
  const uint16_t answers = rrsig_u16(m, 6);
  size_t pos = kHeaderSize;
  std::string name;
  for (uint16_t i = 0; i < questions; ++i) {
    if (!rrsig_name(m, pos, name, pos) || pos + 4 > m.size()) {
      error = "the question section is cut short or malformed";
      return std::nullopt;
    }
    pos += 4;
  }
  std::vector<RrsigRecord> out;
  for (uint16_t i = 0; i < answers; ++i) {
    std::string owner;
    if (!rrsig_name(m, pos, owner, pos) || pos + 10 > m.size()) {
      error = fmt::format("answer record {} is cut short or malformed", i + 1);
      return std::nullopt;
    }
    const uint16_t type = rrsig_u16(m, pos);
    const uint16_t rdlength = rrsig_u16(m, pos + 8);
    const size_t rdata = pos + 10;
    if (rdata + rdlength > m.size()) {
      error = fmt::format("answer record {} runs past the end of the message", i + 1);
      return std::nullopt;
    }
    pos = rdata + rdlength;
    if (type != kTypeRrsig) continue;
    // RFC 4034 3.1: type covered, algorithm, labels, original TTL, expiration, inception, key
    // tag (18 bytes), then the signer's name, never compressed, then the signature.
    if (rdlength < 18 + 1) {
      error = fmt::format("the RRSIG of {} is {} bytes, too short", owner, rdlength);
      return std::nullopt;
    }
    RrsigRecord r;
    r.owner = std::move(owner);
    r.type_covered = rrsig_u16(m, rdata);
    r.algorithm = static_cast<uint8_t>(m[rdata + 2]);
    r.expiration = rrsig_time(rrsig_u32(m, rdata + 8), now);
    r.inception = rrsig_time(rrsig_u32(m, rdata + 12), now);
    r.key_tag = rrsig_u16(m, rdata + 16);
    size_t after = 0;
    const std::string_view rd = m.substr(0, rdata + rdlength);
    if (!rrsig_name(rd, rdata + 18, r.signer, after)) {
      error = fmt::format("the RRSIG of {} has a malformed signer name", r.owner);
      return std::nullopt;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<RrsigRecord> earliest_expiry(const std::vector<RrsigRecord>& sigs) {
  std::optional<RrsigRecord> best;
  for (const auto& s : sigs) {
    if (!best || s.expiration < best->expiration) best = s;
  }
  return best;
}

std::string rr_type_name(uint16_t type) {
  switch (type) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 43:
      return "DS";
    case 46:
      return "RRSIG";
    case 47:
      return "NSEC";
    case 48:
      return "DNSKEY";
    case 50:
      return "NSEC3";
    case 257:
      return "CAA";
    default:
      return fmt::format("TYPE{}", type);
  }
}

}  // namespace lookout
