// The journey probe: ordered steps sharing one cookie jar for one run (a fresh jar each run),
// values taken from responses for later steps as {{name}}, each step judged by its expect.*.
// A failing step stops the run and the cause names it. `timeout` bounds the whole run.
// Extracted values are secrets of that run: masked in causes, never logged or stored.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/journey_spec.h"
#include "core/secret.h"
#include "probes/http_exchange.h"
#include "probes/probe.h"

namespace lookout {

class JourneyProbe final : public Probe {
 public:
  JourneyProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~JourneyProbe() override;

  bool start(Done done) override;
  void cancel() override;
  // Sees every step's response (the step's name and what came back), for the audit's cookie
  // check. The observer must not keep values: they may be secrets of the run.
  using Observer = std::function<void(const std::string& step, const HttpObservation& obs)>;
  void observe(Observer f) { observer_ = std::move(f); }

 private:
  bool run_step();
  void on_step(HttpExchangeResult x);
  void fail_step(ErrorKind kind, const std::string& why, const PhaseTimings& timings, int status);
  void finish(ProbeResult r);
  std::string step_label() const;

  const MonitorConfig& m_;   // owned by the caller of make_probe, and outlives the probe
  const JourneySpec& spec_;  // m_'s
  ProbeContext& ctx_;
  std::shared_ptr<const Redactor> redactor_;
  HttpExchange exchange_;
  CURL* easy_ = nullptr;
  size_t step_ = 0;
  MonoTime deadline_;
  bool step_has_rest_of_run_ = false;  // the running step's timeout is what is left of the run's
  std::map<std::string, std::string> vars_;
  Redactor run_redactor_;  // the config's secrets and this run's extracted values
  HttpCall call_;
  std::vector<std::pair<std::string, PhaseTimings>> step_times_;
  ProbeResult result_;
  Done done_;
  Observer observer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for work deferred to the next turn
};

}  // namespace lookout
