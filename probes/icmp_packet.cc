#include "probes/icmp_packet.h"

#include <netinet/in.h>

#include <cstring>

namespace lookout {
namespace {

constexpr uint8_t kEchoRequestV4 = 8;
constexpr uint8_t kEchoReplyV4 = 0;
constexpr uint8_t kEchoRequestV6 = 128;
constexpr uint8_t kEchoReplyV6 = 129;
constexpr size_t kIcmpHeader = 8;
constexpr size_t kMinIpHeader = 20;
constexpr uint8_t kProtoIcmp = 1;

uint16_t icmp_get16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) |
                               static_cast<uint8_t>(b[at + 1]));
}

void icmp_put16(std::string& b, size_t at, uint16_t v) {
  b[at] = static_cast<char>(v >> 8);
  b[at + 1] = static_cast<char>(v & 0xff);
}

}  // namespace

uint16_t icmp_checksum(std::string_view bytes) {
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += icmp_get16(bytes, i);
  if (i < bytes.size()) sum += static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

std::string icmp_echo_request(IcmpFamily family, uint16_t id, uint16_t seq,
                              std::string_view payload) {
  std::string b(kIcmpHeader, '\0');
  b[0] = static_cast<char>(family == IcmpFamily::kV4 ? kEchoRequestV4 : kEchoRequestV6);
  icmp_put16(b, 4, id);
  icmp_put16(b, 6, seq);
  b.append(payload);
  if (family == IcmpFamily::kV4) icmp_put16(b, 2, icmp_checksum(b));
  return b;
}

std::optional<IcmpEchoReply> parse_icmp_echo_reply(IcmpFamily family, std::string_view bytes,
                                                   bool with_ip_header) {
  if (with_ip_header && family == IcmpFamily::kV4) {
    if (bytes.size() < kMinIpHeader) return std::nullopt;
    const auto first = static_cast<uint8_t>(bytes[0]);
    const size_t header = static_cast<size_t>(first & 0x0f) * 4;
    if ((first >> 4) != 4 || header < kMinIpHeader || bytes.size() < header ||
        static_cast<uint8_t>(bytes[9]) != kProtoIcmp) {
      return std::nullopt;
    }
    // The IP header's total length bounds the ICMP message: a socket may pad nothing, but a
    // length shorter than what was read means the rest is not part of it.
    const size_t total = icmp_get16(bytes, 2);
    if (total >= header && total < bytes.size()) bytes = bytes.substr(0, total);
    bytes.remove_prefix(header);
  }
  if (bytes.size() < kIcmpHeader) return std::nullopt;
  const auto type = static_cast<uint8_t>(bytes[0]);
  if (type != (family == IcmpFamily::kV4 ? kEchoReplyV4 : kEchoReplyV6) || bytes[1] != 0) {
    return std::nullopt;
  }
  // A raw socket hands ICMPv4 over before the kernel checks its sum; ICMPv6's covers a
  // pseudo-header and the kernel checks it.
  if (family == IcmpFamily::kV4 && icmp_checksum(bytes) != 0) return std::nullopt;
  return IcmpEchoReply{icmp_get16(bytes, 4), icmp_get16(bytes, 6)};
}

bool same_ip_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

std::optional<uint16_t> match_icmp_echo_reply(IcmpFamily family, std::string_view bytes,
                                              bool with_ip_header, std::optional<uint16_t> id,
                                              const sockaddr_storage& from,
                                              const sockaddr_storage& target) {
  if (!same_ip_address(from, target)) return std::nullopt;
  const auto reply = parse_icmp_echo_reply(family, bytes, with_ip_header);
  if (!reply || (id && reply->id != *id)) return std::nullopt;
  return reply->seq;
}

}  // namespace lookout
