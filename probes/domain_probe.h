// The domain probe: the registration's expiry from the registry's RDAP service (through the
// loop's libcurl multi), and from WHOIS when RDAP has no server for the TLD, answers 404 or
// gives no expiration date. A rate-limited run is judged on the expiry an earlier run saw, and
// the registry is not asked again before it allows.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/http_request.h"
#include "config/kinds/domain_spec.h"
#include "probes/domain_expiry.h"
#include "probes/http_exchange.h"
#include "probes/probe_session.h"
#include "probes/whois_client.h"

namespace lookout {

class DomainProbe final : public ProbeSession {
 public:
  DomainProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~DomainProbe() override;

 private:
  enum class Stage { kRdap, kWhois, kDone };

  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  bool start_rdap(const std::string& base);
  void on_rdap(HttpExchangeResult x);
  // The WHOIS fallback when there is a server to ask; false when there is none.
  bool start_whois();
  void on_whois(WhoisClient::Result w);
  void judge(WallTime expires, const char* source, int64_t response_us);
  void rate_limited(const std::string& by, Duration wait);
  void finish_rate_limited();
  void fail(ErrorKind kind, std::string cause);
  ProbeResult base_result() const;
  std::string whois_server() const;

  const DomainSpec& spec_;  // m_'s
  HttpRequest rdap_options_;
  CURL* easy_ = nullptr;
  std::unique_ptr<HttpExchange> rdap_;
  std::unique_ptr<WhoisClient> whois_;
  Stage stage_ = Stage::kDone;
  std::string rdap_server_;  // the RDAP host, as causes name it
  std::string whois_host_;
  uint16_t whois_port_ = 43;
  std::string fallback_why_;  // why WHOIS was asked after RDAP answered
  int http_status_ = 0;
  PhaseTimings timings_;
  nlohmann::json detail_;

  // Kept across runs: the expiry last seen, and a registry's rate limit still in force.
  std::optional<WallTime> known_expiry_;
  std::optional<WallTime> next_try_;
  std::string limited_by_;
};

}  // namespace lookout
