// One HTTP request through the loop's libcurl multi: a rendered request in, the response (a
// bounded body, headers, phase timings) or a failure with its cause out. The http, latency and
// journey probes are built on it.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/http_request.h"
#include "probes/http_expect.h"
#include "probes/probe.h"

namespace lookout {

class CurlBridge;

struct HttpCall {
  std::string url;
  std::string method = "GET";
  std::vector<std::string> header_lines;  // "Name: value"
  std::optional<std::string> body;
  const HttpRequest* options = nullptr;  // ca_file, insecure, redirects, max_body
  Duration timeout{10'000};
  bool fresh_connection = true;  // connect and TLS measured anew; false reuses a kept connection
  bool keep_connection = false;  // leave the connection open for the next call
  // Offer only TLS 1.0 and 1.1 (at OpenSSL security level 0): the audit's test that a server
  // refuses them.
  bool legacy_tls_only = false;
  // CURLOPT_HTTP_VERSION; 0: libcurl's default (HTTP/2 over TLS when the server offers it).
  long http_version = 0;
};

// A handle's cookie jar, empty, for a run's calls (it survives the reset between calls), and
// its removal, so a pooled handle carries no cookie to another monitor. Not CURLOPT_COOKIEFILE
// "": libcurl 7.88 leaks that file list when the handle is reset.
void open_cookie_jar(CURL* easy);
void close_cookie_jar(CURL* easy);

struct HttpExchangeResult {
  bool responded = false;  // a complete response came
  HttpObservation obs;     // status, headers and body of the final response
  PhaseTimings timings;
  ErrorKind kind = ErrorKind::kNone;  // when !responded
  std::string cause;
};

class HttpExchange {
 public:
  using Done = std::function<void(HttpExchangeResult)>;
  // Every transfer connects from `source` (a probe's [cluster] source_address); none: from
  // the address the system picks.
  explicit HttpExchange(CurlBridge& curl, SourceAddress source = {})
      : curl_(curl), source_(std::move(source)) {}
  ~HttpExchange() {
    cancel();
    curl_slist_free_all(headers_);
  }
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  // `easy` stays the caller's: a journey keeps one handle, and its cookies, for all its steps.
  // On success `done` runs exactly once on the loop (it may destroy this); else never.
  bool start(CURL* easy, const HttpCall& call, Done done);
  // Stops a running request without calling `done`.
  void cancel();
  bool running() const { return easy_ != nullptr; }
  // A running request whose caller's deadline passed first: the timeout, in the phase it was
  // in, that libcurl's own timeout would have reported. Then cancel() it.
  HttpExchangeResult timed_out();

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* p);
  static size_t on_header(char* data, size_t size, size_t n, void* p);
  void finish(CURLcode code, bool out_of_descriptors);
  HttpExchangeResult result(CURLcode code, bool out_of_descriptors);
  void failure(CURLcode code, bool out_of_descriptors, HttpExchangeResult& r) const;

  CurlBridge& curl_;
  SourceAddress source_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE]{};
  std::string url_;
  std::optional<std::string> body_;
  uint64_t max_body_ = 0;
  int max_redirects_ = 0;
  Duration timeout_{0};
  bool body_overflow_ = false;
  HttpObservation obs_;
  Done done_;
};

// Phase timings of a finished transfer; total only when a response came.
PhaseTimings read_phases(CURL* easy, bool responded);

// Whether the transfer's TCP connection was made, given its connect time: libcurl 7.88 records
// the connect time of a TLS connection only once TLS is up too, but a peer address shows it.
bool tcp_connected(CURL* easy, curl_off_t connect_time);

}  // namespace lookout
