#include "probes/curl_errors.h"

#include <fmt/format.h>

#include "core/curl_bridge.h"
#include "core/units.h"

namespace lookout {

CurlFailure curl_failure(const CurlFailureContext& c) {
  if (auto shortage = local_shortage(c.code, c.out_of_descriptors, c.errbuf))
    return {ErrorKind::kResources, std::move(*shortage)};
  const std::string detail = c.errbuf != nullptr && c.errbuf[0] != '\0'
                                 ? std::string(c.errbuf)
                                 : std::string(curl_easy_strerror(c.code));
  switch (c.code) {
    case CURLE_OPERATION_TIMEDOUT:
      return {ErrorKind::kTimeout,
              fmt::format("timed out after {} {}", format_duration(c.timeout), c.timeout_phase)};
    case CURLE_COULDNT_RESOLVE_HOST:
      return {ErrorKind::kDns, fmt::format("cannot resolve host {}", c.host)};
    case CURLE_COULDNT_CONNECT:
      return {ErrorKind::kConnect, "cannot connect: " + detail};
    case CURLE_INTERFACE_FAILED:
      return {ErrorKind::kConnect,
              fmt::format("cannot connect from [cluster] source_address {}: {}", c.source, detail)};
    // A reset or a peer that went away mid-transfer, during a handshake or after it.
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      return {ErrorKind::kConnect, "connection failed: " + detail};
    case CURLE_USE_SSL_FAILED:
      return {ErrorKind::kTls,
              fmt::format("the mail server at {} does not offer STARTTLS", c.starttls_server)};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return {ErrorKind::kTls, "TLS failed: " + detail};
    case CURLE_TOO_MANY_REDIRECTS:
      return {ErrorKind::kRedirects, fmt::format("more than {} redirects", c.max_redirects)};
    case CURLE_WRITE_ERROR:
      if (c.body_overflow) {
        return {ErrorKind::kBodyTooLarge,
                fmt::format("body is larger than max_body {}; the rest was not downloaded",
                            format_size(c.max_body))};
      }
      return {ErrorKind::kInternal, "could not store the response: " + detail};
    case CURLE_GOT_NOTHING:
      return {ErrorKind::kProtocol, "the server closed the connection without a reply"};
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
      if (!c.http) break;
      return {ErrorKind::kProtocol, "not a valid HTTP response: " + detail};
    default:
      break;
  }
  // Without HTTP, what is left went wrong before or during the handshake (an SMTP server's
  // refusal, a client certificate asked for).
  if (!c.http) return {ErrorKind::kTls, "TLS handshake failed: " + detail};
  return {ErrorKind::kProtocol, detail};
}

}  // namespace lookout
