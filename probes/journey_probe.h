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
#include "probes/probe_session.h"

namespace lookout {

class JourneyProbe final : public ProbeSession {
 public:
  JourneyProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~JourneyProbe() override;

  // Sees every step's response (the step's name and what came back), for the audit's cookie
  // check. The observer must not keep values: they may be secrets of the run.
  using Observer = std::function<void(const std::string& step, const HttpObservation& obs)>;
  void observe(Observer f) { observer_ = std::move(f); }

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;
  const Redactor* secrets() const override { return &run_redactor_; }

  bool run_step();
  void on_step(HttpExchangeResult x);
  ProbeResult step_failed(ErrorKind kind, const std::string& why, const PhaseTimings& timings,
                          int status) const;
  // The run's steps and their detail, added to its result.
  ProbeResult with_steps(ProbeResult r) const;
  std::string step_label() const;
  std::string out_of_time() const;

  const JourneySpec& spec_;  // m_'s
  HttpExchange exchange_;
  CURL* easy_ = nullptr;
  size_t step_ = 0;
  bool step_has_rest_of_run_ = false;  // the running step's timeout is what is left of the run's
  std::map<std::string, std::string> vars_;
  Redactor run_redactor_;  // the config's secrets and this run's extracted values
  HttpCall call_;
  std::vector<std::pair<std::string, PhaseTimings>> step_times_;
  ProbeResult degraded_;  // the first step that passed slowly, if one did
  Observer observer_;
};

}  // namespace lookout
