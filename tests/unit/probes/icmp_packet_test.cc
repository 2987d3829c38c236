// ICMP echo messages: the checksum, the request's bytes, and which received messages are
// replies to this run's echoes (raw sockets see every ICMP message reaching the host).
#include "probes/icmp_packet.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace lookout {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

sockaddr_storage v4(const char* text) {
  sockaddr_storage a{};
  auto& in = reinterpret_cast<sockaddr_in&>(a);
  in.sin_family = AF_INET;
  inet_pton(AF_INET, text, &in.sin_addr);
  return a;
}

sockaddr_storage v6(const char* text) {
  sockaddr_storage a{};
  auto& in = reinterpret_cast<sockaddr_in6&>(a);
  in.sin6_family = AF_INET6;
  inet_pton(AF_INET6, text, &in.sin6_addr);
  return a;
}

// What a raw IPv4 socket reads: a 20-byte header (or longer, with options) from `source`,
// protocol 1, then the ICMP message.
std::string with_ip_header(const std::string& icmp, int options_words = 0) {
  const size_t header = 20 + 4 * static_cast<size_t>(options_words);
  std::string ip(header, '\0');
  ip[0] = static_cast<char>(0x40 | (header / 4));
  const size_t total = header + icmp.size();
  ip[2] = static_cast<char>(total >> 8);
  ip[3] = static_cast<char>(total & 0xff);
  ip[8] = 64;  // TTL
  ip[9] = 1;   // ICMP
  ip[12] = 127;
  ip[15] = 1;
  return ip + icmp;
}

// The message with its checksum made again.
std::string summed(std::string m) {
  m[2] = m[3] = 0;
  const uint16_t sum = icmp_checksum(m);
  m[2] = static_cast<char>(sum >> 8);
  m[3] = static_cast<char>(sum & 0xff);
  return m;
}

// The echo reply a host sends back: the request with type 0.
std::string reply_to(std::string request) {
  request[0] = 0;
  return summed(request);
}

TEST(IcmpPacket, ChecksumIsTheRfc1071SumAndZeroOverAWholeMessage) {
  // RFC 1071 section 3's example: the words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
  EXPECT_EQ(icmp_checksum(bytes({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7})), 0x220d);
  // An odd last byte counts as the high byte of a word padded with zero.
  EXPECT_EQ(icmp_checksum(bytes({0x01})), static_cast<uint16_t>(~0x0100));
  EXPECT_EQ(icmp_checksum(""), 0xffff);
  const std::string request = icmp_echo_request(IcmpFamily::kV4, 0x1234, 7, "abcde");
  EXPECT_EQ(icmp_checksum(request), 0);
}

TEST(IcmpPacket, EchoRequestCarriesTypeIdAndSequenceInNetworkOrder) {
  const std::string r4 = icmp_echo_request(IcmpFamily::kV4, 0xabcd, 0x0102, "payload!");
  ASSERT_EQ(r4.size(), 16u);
  EXPECT_EQ(r4.substr(0, 2), bytes({8, 0}));
  EXPECT_EQ(r4.substr(4, 4), bytes({0xab, 0xcd, 0x01, 0x02}));
  EXPECT_EQ(r4.substr(8), "payload!");
  // ICMPv6's checksum covers addresses only the kernel knows: it is left to the kernel.
  const std::string r6 = icmp_echo_request(IcmpFamily::kV6, 0xabcd, 0x0102, "x");
  EXPECT_EQ(r6.substr(0, 4), bytes({128, 0, 0, 0}));
  EXPECT_EQ(r6.substr(4, 4), bytes({0xab, 0xcd, 0x01, 0x02}));
}

TEST(IcmpPacket, ReplyIsReadAfterTheIpHeaderOfItsOwnLength) {
  const std::string reply = reply_to(icmp_echo_request(IcmpFamily::kV4, 42, 9, "abcdefgh"));
  for (int options : {0, 1, 10}) {
    const auto r = parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(reply, options), true);
    ASSERT_TRUE(r) << options;
    EXPECT_EQ(r->id, 42);
    EXPECT_EQ(r->seq, 9);
  }
  // A datagram socket reads the ICMP message alone.
  EXPECT_TRUE(parse_icmp_echo_reply(IcmpFamily::kV4, reply, false));
  // Bytes after the IP total length are not part of the message.
  EXPECT_TRUE(parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(reply) + "junk", true));
}

TEST(IcmpPacket, AnythingButAnIntactEchoReplyIsNotOne) {
  const std::string request = icmp_echo_request(IcmpFamily::kV4, 42, 9, "abcdefgh");
  const std::string reply = reply_to(request);
  // Our own request, looped back to a raw socket.
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(request), true));
  // Destination unreachable.
  std::string unreachable = reply;
  unreachable[0] = 3;
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(summed(unreachable)), true));
  // A flipped bit: the checksum no longer holds.
  std::string corrupt = reply;
  corrupt[10] ^= 0x01;
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(corrupt), true));
  // Short messages, a header that claims more than was read, another protocol, IPv6 bytes.
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, reply.substr(0, 7), false));
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(reply).substr(0, 26), true));
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, with_ip_header(reply).substr(0, 19), true));
  std::string long_header = with_ip_header(reply);
  long_header[0] = 0x4f;  // 60 bytes of header in a 36-byte packet
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, long_header.substr(0, 36), true));
  std::string udp = with_ip_header(reply);
  udp[9] = 17;
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, udp, true));
  std::string six = with_ip_header(reply);
  six[0] = 0x65;
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, six, true));
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV4, "", true));
}

TEST(IcmpPacket, Icmpv6ReplyHasType129AndNoIpHeader) {
  std::string reply = icmp_echo_request(IcmpFamily::kV6, 7, 65535, "abc");
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV6, reply, false));  // a request
  reply[0] = static_cast<char>(129);
  const auto r = parse_icmp_echo_reply(IcmpFamily::kV6, reply, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 7);
  EXPECT_EQ(r->seq, 65535);
  // ICMPv4's reply type means nothing in ICMPv6.
  reply[0] = 0;
  EXPECT_FALSE(parse_icmp_echo_reply(IcmpFamily::kV6, reply, false));
}

TEST(IcmpPacket, OnlyRepliesFromTheTargetWithTheRunsIdMatch) {
  const auto target = v4("127.0.0.1");
  const std::string ours = with_ip_header(reply_to(icmp_echo_request(IcmpFamily::kV4, 42, 9, "")));
  EXPECT_EQ(match_icmp_echo_reply(IcmpFamily::kV4, ours, true, 42, target, target), 9);
  // Another process's ping, or another probe's of this one: another id.
  EXPECT_FALSE(match_icmp_echo_reply(IcmpFamily::kV4, ours, true, 43, target, target));
  // The same id from another host.
  EXPECT_FALSE(match_icmp_echo_reply(IcmpFamily::kV4, ours, true, 42, v4("127.0.0.2"), target));
  EXPECT_FALSE(match_icmp_echo_reply(IcmpFamily::kV4, ours, true, 42, v6("::1"), target));
  // A datagram socket's kernel set the id and matched it already.
  const std::string dgram = reply_to(icmp_echo_request(IcmpFamily::kV4, 777, 3, "x"));
  EXPECT_EQ(match_icmp_echo_reply(IcmpFamily::kV4, dgram, false, std::nullopt, target, target), 3);

  std::string six = icmp_echo_request(IcmpFamily::kV6, 5, 1, "");
  six[0] = static_cast<char>(129);
  EXPECT_EQ(match_icmp_echo_reply(IcmpFamily::kV6, six, false, 5, v6("::1"), v6("::1")), 1);
  EXPECT_FALSE(match_icmp_echo_reply(IcmpFamily::kV6, six, false, 5, v6("::2"), v6("::1")));
}

TEST(IcmpPacket, SameAddressIgnoresThePort) {
  auto a = v4("10.0.0.1");
  auto b = v4("10.0.0.1");
  reinterpret_cast<sockaddr_in&>(b).sin_port = htons(99);
  EXPECT_TRUE(same_ip_address(a, b));
  EXPECT_FALSE(same_ip_address(a, v4("10.0.0.2")));
  EXPECT_TRUE(same_ip_address(v6("2001:db8::1"), v6("2001:db8::1")));
  EXPECT_FALSE(same_ip_address(v6("2001:db8::1"), v6("2001:db8::2")));
  EXPECT_FALSE(same_ip_address(v4("0.0.0.0"), sockaddr_storage{}));
}

}  // namespace
}  // namespace lookout
