// The http probe: one request (following redirects), a bounded body, phase timings, and the
// expect.* verdict.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "config/kinds/http_spec.h"
#include "probes/http_exchange.h"
#include "probes/probe.h"

namespace lookout {

class HttpProbe final : public Probe {
 public:
  HttpProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~HttpProbe() override;

  bool start(Done done) override;
  void cancel() override;

 private:
  void finish(HttpExchangeResult x);

  const MonitorConfig& m_;  // owned by the caller of make_probe, and outlives the probe
  const HttpSpec& spec_;    // m_'s
  ProbeContext& ctx_;
  std::shared_ptr<const Redactor> redactor_;
  HttpCall call_;
  // Only while a run is in flight: between runs (almost always, for each of thousands of
  // monitors) a probe holds no exchange, with its buffers and error text.
  std::unique_ptr<HttpExchange> exchange_;
  CURL* easy_ = nullptr;
  WallTime started_at_;
  MonoTime started_mono_;
  Done done_;
};

// The call an http or latency monitor makes, from its config (which must outlive it).
HttpCall call_of(const MonitorConfig& m);

// The request lines of a configured request: its headers and a User-Agent unless it sets one.
std::vector<std::string> header_lines(const std::vector<std::pair<std::string, Secret>>& headers);

// A probe's result from one exchange judged against expect.*; secrets masked in the cause.
ProbeResult judge_exchange(HttpExchangeResult x, const HttpExpect& expect,
                           const Redactor* redactor);

}  // namespace lookout
