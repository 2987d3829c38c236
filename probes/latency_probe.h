// The latency probe: `samples` requests in a row (a fresh connection each unless reuse = true),
// each sample's phases kept; the run is as bad as its worst sample and reports the median.
// The SLO over the rolling window is judged by the daemon, from the samples.
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "config/kinds/http_spec.h"
#include "probes/http_exchange.h"
#include "probes/probe_session.h"

namespace lookout {

class LatencyProbe final : public ProbeSession {
 public:
  LatencyProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~LatencyProbe() override;

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;
  // `timeout` bounds each sample.
  Duration deadline() const override { return m_.timeout * spec_.samples; }

  bool next_sample();
  void on_sample(HttpExchangeResult x);
  // The run from its samples so far, the last of which failed it.
  ProbeResult failed_by_last_sample() const;
  // The run's samples and their detail, added to its result.
  ProbeResult with_samples(ProbeResult r) const;

  const HttpSpec& spec_;  // m_'s
  HttpCall call_;
  HttpExchange exchange_;
  CURL* easy_ = nullptr;
  std::vector<ProbeResult> samples_;
};

}  // namespace lookout
