// The http probe: one request (following redirects), a bounded body, phase timings, and the
// expect.* verdict.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "config/kinds/http_spec.h"
#include "probes/http_exchange.h"
#include "probes/probe_session.h"

namespace lookout {

class HttpProbe final : public ProbeSession {
 public:
  HttpProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~HttpProbe() override;

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  const HttpSpec& spec_;  // m_'s
  HttpCall call_;
  // Only while a run is in flight: between runs (almost always, for each of thousands of
  // monitors) a probe holds no exchange, with its buffers and error text.
  std::unique_ptr<HttpExchange> exchange_;
  CURL* easy_ = nullptr;
};

// The call an http or latency monitor makes, from its config (which must outlive it).
HttpCall call_of(const MonitorConfig& m);

// The request lines of a configured request: its headers and a User-Agent unless it sets one.
std::vector<std::string> header_lines(const std::vector<std::pair<std::string, Secret>>& headers);

// A probe's result from one exchange judged against expect.*.
ProbeResult judge_exchange(HttpExchangeResult x, const HttpExpect& expect);

}  // namespace lookout
