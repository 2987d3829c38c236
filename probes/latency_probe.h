// The latency probe: `samples` requests in a row (a fresh connection each unless reuse = true),
// each sample's phases kept; the run is as bad as its worst sample and reports the median.
// The SLO over the rolling window is judged by the daemon, from the samples.
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "config/kinds/http_spec.h"
#include "probes/http_exchange.h"
#include "probes/probe.h"

namespace lookout {

class LatencyProbe final : public Probe {
 public:
  LatencyProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~LatencyProbe() override;

  bool start(Done done) override;
  void cancel() override;

 private:
  bool next_sample();
  void on_sample(HttpExchangeResult x);
  void finish(ProbeResult r);

  const MonitorConfig& m_;  // owned by the caller of make_probe, and outlives the probe
  const HttpSpec& spec_;    // m_'s
  ProbeContext& ctx_;
  std::shared_ptr<const Redactor> redactor_;
  HttpCall call_;
  HttpExchange exchange_;
  CURL* easy_ = nullptr;
  std::vector<ProbeResult> samples_;
  ProbeResult result_;
  Done done_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for work deferred to the next turn
};

}  // namespace lookout
