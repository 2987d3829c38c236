// What a failed libcurl transfer means, for every probe built on libcurl: one mapping of
// libcurl's codes to an ErrorKind and a cause a person can act on. Pure: the caller hands in
// what only it knows (the host it asked for, the phase a timeout hit), so each code reads the
// same in every kind and is tested once.
#pragma once

#include <curl/curl.h>

#include <string>

#include "core/clock.h"
#include "probes/probe.h"

namespace lookout {

struct CurlFailureContext {
  CURLcode code = CURLE_OK;
  bool out_of_descriptors = false;  // the open-socket callback saw EMFILE or ENFILE
  const char* errbuf = nullptr;     // CURLOPT_ERRORBUFFER; empty or null: curl_easy_strerror
  Duration timeout{0};
  std::string timeout_phase;    // "while connecting", "during the TLS handshake", ...
  std::string host;             // the name a failed lookup asked for
  std::string starttls_server;  // "HOST:PORT" of a server that should offer STARTTLS
  bool http = true;  // false: a TLS handshake alone (cert), whose other failures are TLS failures
  int max_redirects = 0;
  bool body_overflow = false;  // the write callback stopped at max_body
  uint64_t max_body = 0;       // bytes
  std::string source;          // [cluster] source_address the transfer connects from, if any
};

struct CurlFailure {
  ErrorKind kind = ErrorKind::kInternal;
  std::string cause;
};

CurlFailure curl_failure(const CurlFailureContext& c);

}  // namespace lookout
