#include "probes/ping_socket.h"

#include <fmt/format.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace lookout {

const char* to_string(IcmpSocketType t) {
  switch (t) {
    case IcmpSocketType::kNone:
      return "none";
    case IcmpSocketType::kDatagram:
      return "datagram";
    case IcmpSocketType::kRaw:
      return "raw";
  }
  return "none";
}

int open_icmp_socket(IcmpFamily family, IcmpSocketType type) {
  const bool v4 = family == IcmpFamily::kV4;
  const int kind = (type == IcmpSocketType::kRaw ? int{SOCK_RAW} : int{SOCK_DGRAM}) |
                   SOCK_NONBLOCK | SOCK_CLOEXEC;
  // The two protocols are values of different enums in the C library's headers.
  const int protocol = v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  const int fd = socket(v4 ? AF_INET : AF_INET6, kind, protocol);
  if (fd < 0 || type != IcmpSocketType::kRaw) return fd;
  // A raw socket receives every ICMP message reaching the host: let the kernel drop all but
  // echo replies, rather than wake the loop for each.
  int rc = 0;
  if (v4) {
    icmp_filter filter{};
    filter.data = ~(1U << ICMP_ECHOREPLY);
    rc = setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
  } else {
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    rc = setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  }
  if (rc != 0) {
    const int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

namespace {

IcmpSocketType ping_socket_type_that_opens(IcmpFamily family) {
  for (const auto type : {IcmpSocketType::kDatagram, IcmpSocketType::kRaw}) {
    const int fd = open_icmp_socket(family, type);
    if (fd >= 0) {
      close(fd);
      return type;
    }
  }
  return IcmpSocketType::kNone;
}

std::string ping_group_range_now() {
  std::ifstream in("/proc/sys/net/ipv4/ping_group_range");
  std::string low, high;
  if (!(in >> low >> high)) return "";
  return low + " " + high;
}

}  // namespace

std::string ping_permission_problem(const std::string& group_range, unsigned gid) {
  const std::string range = group_range.empty() ? "which lookout cannot read here"
                                                : fmt::format("now \"{}\"", group_range);
  return fmt::format(
      "ping needs ICMP sockets and this process may open neither kind: datagram ICMP sockets "
      "need its group (gid {}) inside the sysctl net.ipv4.ping_group_range ({}), raw ones need the "
      "capability CAP_NET_RAW; add the group to the range (a sysctl.d file such as "
      "systemd/lookout-ping.sysctl.conf, then sysctl --system) or give lookout CAP_NET_RAW "
      "(docs/kinds/ping.md shows both)",
      gid, range);
}

PingPermission find_ping_permission() {
  PingPermission p;
  p.v4 = ping_socket_type_that_opens(IcmpFamily::kV4);
  p.v6 = ping_socket_type_that_opens(IcmpFamily::kV6);
  if (!p.ok()) p.problem = ping_permission_problem(ping_group_range_now(), getegid());
  return p;
}

const PingPermission& ping_permission() {
  static const PingPermission found = find_ping_permission();
  return found;
}

}  // namespace lookout
