#include "core/source_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <cerrno>

namespace lookout {

std::optional<SourceAddress> SourceAddress::parse(const std::string& ip) {
  SourceAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.address_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.address_);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
  } else {
    return std::nullopt;
  }
  out.text_ = ip;
  return out;
}

namespace {

socklen_t length_of(const sockaddr_storage& a) {
  return a.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

}  // namespace

int SourceAddress::bind(uv_tcp_t* tcp, int family) const {
  if (empty()) return 0;
  if (family != address_.ss_family) return -EAFNOSUPPORT;
  return uv_tcp_bind(tcp, reinterpret_cast<const sockaddr*>(&address_), 0);
}

int SourceAddress::bind(int fd, int family) const {
  if (empty()) return 0;
  if (family != address_.ss_family) return -EAFNOSUPPORT;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address_), length_of(address_)) != 0)
    return -errno;
  return 0;
}

void SourceAddress::connect_from(CURL* easy) const {
  if (empty()) return;
  // "host!": an address to bind to, never taken for the name of a network interface.
  curl_easy_setopt(easy, CURLOPT_INTERFACE, ("host!" + text_).c_str());
}

void SourceAddress::keep_reachable(std::vector<sockaddr_storage>& addresses) const {
  if (empty()) return;
  std::erase_if(addresses,
                [this](const sockaddr_storage& a) { return a.ss_family != address_.ss_family; });
}

std::string SourceAddress::failure(int rc) const {
  if (rc == -EAFNOSUPPORT) {
    return fmt::format(
        "cannot connect from [cluster] source_address {}: the target has no IPv{} address", text_,
        address_.ss_family == AF_INET ? 4 : 6);
  }
  return fmt::format("cannot connect from [cluster] source_address {}: {}", text_, uv_strerror(rc));
}

}  // namespace lookout
