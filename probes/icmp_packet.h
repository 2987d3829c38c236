// ICMP echo messages as bytes: the request a ping sends and the reading of what its socket
// receives. Pure: no sockets here (probes/ping_socket.h opens them).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lookout {

enum class IcmpFamily : uint8_t { kV4, kV6 };

// The Internet checksum (RFC 1071): ones' complement of the ones' complement sum of 16-bit
// words, an odd last byte padded with zero. Over a message that carries its own correct
// checksum it gives 0.
uint16_t icmp_checksum(std::string_view bytes);

// An echo request: type (8, or 128 for ICMPv6), code 0, checksum, id, sequence (network byte
// order), then `payload`. ICMPv4's checksum is filled in; ICMPv6's covers a pseudo-header of
// addresses only the kernel knows, and the kernel fills it (as it does the id of a datagram
// ICMP socket).
std::string icmp_echo_request(IcmpFamily family, uint16_t id, uint16_t seq,
                              std::string_view payload);

struct IcmpEchoReply {
  uint16_t id = 0;
  uint16_t seq = 0;
};

// An echo reply (type 0, or 129 for ICMPv6) as a socket read it; nullopt for anything else:
// another type (an echo request seen on a raw socket, an error), a short or truncated message,
// a bad ICMPv4 checksum. A raw IPv4 socket gets the IP header first (`with_ip_header`), which
// is skipped by its own length; datagram sockets and ICMPv6 ones get the ICMP message alone.
std::optional<IcmpEchoReply> parse_icmp_echo_reply(IcmpFamily family, std::string_view bytes,
                                                   bool with_ip_header);

// The same address (IPv4 or IPv6, the port ignored).
bool same_ip_address(const sockaddr_storage& a, const sockaddr_storage& b);

// The sequence number of a reply to one of this run's echoes, or nullopt for a foreign one.
// A raw socket receives every ICMP message reaching the host, so the reply must come from the
// target and carry the run's id; a datagram socket's kernel already matched the id (it sets
// it), so `id` is nullopt there.
std::optional<uint16_t> match_icmp_echo_reply(IcmpFamily family, std::string_view bytes,
                                              bool with_ip_header, std::optional<uint16_t> id,
                                              const sockaddr_storage& from,
                                              const sockaddr_storage& target);

}  // namespace lookout
