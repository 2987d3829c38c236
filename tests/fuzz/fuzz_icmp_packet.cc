// ICMP messages as a ping socket reads them (a raw socket reads every ICMP message reaching the
// host, from anyone) to echo replies.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "probes/icmp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the family, whether an IPv4 header comes first, and the id looked for.
  const auto family = (data[0] & 1) != 0 ? lookout::IcmpFamily::kV6 : lookout::IcmpFamily::kV4;
  const bool with_ip_header = (data[0] & 2) != 0;
  const uint16_t id = data[0] >> 2;
  const std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto reply = lookout::parse_icmp_echo_reply(family, message, with_ip_header);
  sockaddr_storage from{};
  from.ss_family = family == lookout::IcmpFamily::kV6 ? AF_INET6 : AF_INET;
  const auto seq = lookout::match_icmp_echo_reply(family, message, with_ip_header, id, from, from);
  // A match is a reply with that id and sequence.
  if (seq && (!reply || reply->id != id || reply->seq != *seq)) __builtin_trap();
  (void)lookout::icmp_checksum(message);
  // A request built from the reply's numbers carries them back.
  if (reply) {
    std::string echoed = lookout::icmp_echo_request(family, reply->id, reply->seq, message);
    echoed[0] = static_cast<char>(family == lookout::IcmpFamily::kV6 ? 129 : 0);
    if (family == lookout::IcmpFamily::kV4) {
      echoed[2] = echoed[3] = 0;
      const uint16_t sum = lookout::icmp_checksum(echoed);
      echoed[2] = static_cast<char>(sum >> 8);
      echoed[3] = static_cast<char>(sum & 0xff);
    }
    const auto back = lookout::parse_icmp_echo_reply(family, echoed, false);
    if (!back || back->id != reply->id || back->seq != reply->seq) __builtin_trap();
  }
  return 0;
}
