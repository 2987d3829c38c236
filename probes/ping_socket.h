// The ICMP sockets a ping sends from. Datagram ICMP sockets need no privilege but are allowed
// only to groups inside the sysctl net.ipv4.ping_group_range; raw ones need CAP_NET_RAW. Which
// kind this process may open is found once, and a config with a ping monitor is refused at
// start (`lookout check`, `lookout run`) when it may open neither.
#pragma once

#include <string>

#include "probes/icmp_packet.h"

namespace lookout {

enum class IcmpSocketType : uint8_t { kNone, kDatagram, kRaw };
const char* to_string(IcmpSocketType t);

struct PingPermission {
  IcmpSocketType v4 = IcmpSocketType::kNone;
  IcmpSocketType v6 = IcmpSocketType::kNone;  // kNone also on a host without IPv6
  // When neither kind of IPv4 ICMP socket opens: why, and what to change.
  std::string problem;
  bool ok() const { return v4 != IcmpSocketType::kNone; }
};

// Tries each kind of socket now (datagram first), opening and closing one of each family.
PingPermission find_ping_permission();
// find_ping_permission() of the first call, kept for the life of the process.
const PingPermission& ping_permission();

// The message for a process that may open neither kind: the sysctl with its value as read
// from /proc/sys/net/ipv4/ping_group_range ("" when it could not be read), the process's group,
// the capability, and what to do. Pure.
std::string ping_permission_problem(const std::string& group_range, unsigned gid);

// A non-blocking ICMP socket of that type and family (raw ones set to let only echo replies
// through), or -1 with errno set.
int open_icmp_socket(IcmpFamily family, IcmpSocketType type);

}  // namespace lookout
