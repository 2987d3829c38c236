// The http and latency kinds: one request and what its answer must show; latency sends it
// `samples` times a run and judges their median (probes/http_probe, probes/latency_probe).
#pragma once

#include "config/config.h"
#include "config/http_request.h"

namespace lookout {

struct HttpSpec : SpecOf<HttpSpec> {
  HttpRequest http;
  HttpExpect expect;
  int samples = 5;     // latency: requests per run
  bool reuse = false;  // latency: keep the connection between samples
  bool insecure() const override { return http.insecure; }
  bool operator==(const HttpSpec&) const = default;
};

}  // namespace lookout
