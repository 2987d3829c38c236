// The http probe: one request (following redirects) through the loop's libcurl multi, a
// bounded body, phase timings, and the expect.* verdict.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "daemon/config.h"
#include "probes/http_expect.h"
#include "probes/probe.h"

namespace lookout {

class HttpProbe final : public Probe {
 public:
  HttpProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~HttpProbe() override;

  bool start(Done done) override;
  void cancel() override;

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* self);
  static size_t on_header(char* data, size_t size, size_t n, void* self);
  void setup();
  void finish(CURLcode code);
  ProbeResult failure(CURLcode code) const;

  MonitorConfig m_;
  ProbeContext& ctx_;
  std::shared_ptr<const Redactor> redactor_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE]{};
  bool running_ = false;
  bool body_overflow_ = false;
  HttpObservation obs_;
  ProbeResult result_;
  Done done_;
};

}  // namespace lookout
