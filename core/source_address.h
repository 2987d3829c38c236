// The local address a node's probes connect from (`[cluster] source_address`): in a cluster,
// a location's node may have to reach its targets from one address of several (a firewall's
// allow list, a policy route). Parsed once; each kind of socket lookout opens applies it at
// its own place: libcurl's CURLOPT_INTERFACE, a bind() before connect() for TCP and ICMP,
// c-ares's and libunbound's own options for the dns and dnssec monitors' questions. Name
// lookups of a target's host go out as the system routes them: the address is about reaching
// what is checked, not the resolver in between.
#pragma once

#include <curl/curl.h>
#include <sys/socket.h>
#include <uv.h>

#include <optional>
#include <string>
#include <vector>

namespace lookout {

class SourceAddress {
 public:
  SourceAddress() = default;  // none: the system chooses
  // An IPv4 or IPv6 literal; nullopt for anything else.
  static std::optional<SourceAddress> parse(const std::string& ip);

  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }
  int family() const { return address_.ss_family; }
  const sockaddr_storage& address() const { return address_; }

  // Binds a socket, before it connects to an address of `family`. 0, or a negative errno
  // (libuv's errors are those): -EAFNOSUPPORT when the families differ.
  int bind(uv_tcp_t* tcp, int family) const;
  int bind(int fd, int family) const;
  // Sets a libcurl transfer to connect from here (after any curl_easy_reset of it).
  void connect_from(CURL* easy) const;
  // Drops the addresses of the other family, which cannot be reached from here. The lookup
  // itself asks for both: c-ares 1.18 leaks a little on a hosts-file lookup of one family.
  void keep_reachable(std::vector<sockaddr_storage>& addresses) const;
  // Why a connection from here could not be set up, for a cause: "cannot connect from
  // [cluster] source_address 192.0.2.1: cannot assign requested address".
  std::string failure(int rc) const;

 private:
  std::string text_;
  sockaddr_storage address_{};
};

}  // namespace lookout
