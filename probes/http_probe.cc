#include "probes/http_probe.h"

#include <fmt/format.h>
#include <strings.h>

#include "core/curl_bridge.h"

namespace lookout {

std::vector<std::string> header_lines(const std::vector<std::pair<std::string, Secret>>& headers) {
  std::vector<std::string> lines;
  bool has_ua = false;
  for (const auto& [k, v] : headers) {
    lines.push_back(fmt::format("{}: {}", k, v.reveal()));
    if (strcasecmp(k.c_str(), "User-Agent") == 0) has_ua = true;
  }
  if (!has_ua) lines.push_back(fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION));
  return lines;
}

ProbeResult judge_exchange(HttpExchangeResult x, const HttpExpect& expect) {
  ProbeResult r;
  if (x.responded) {
    Verdict v = evaluate(expect, x.obs);
    r.outcome = v.outcome;
    r.kind = v.kind;
    r.cause = std::move(v.cause);
    r.http_status = x.obs.status;
  } else {
    r.outcome = Outcome::kDown;
    r.kind = x.kind;
    r.cause = std::move(x.cause);
  }
  r.timings = x.timings;
  if (r.timings.total_us) r.samples_us.push_back(*r.timings.total_us);
  return r;
}

HttpCall call_of(const MonitorConfig& m) {
  const HttpRequest& http = m.spec_as<HttpSpec>().http;
  HttpCall call;
  call.url = http.url.reveal();
  call.method = http.method;
  call.header_lines = header_lines(http.headers);
  if (http.body) call.body = http.body->reveal();
  call.options = &http;
  call.timeout = m.timeout;  // a latency monitor's: per sample
  return call;
}

HttpProbe::HttpProbe(const MonitorConfig& m, ProbeContext& ctx,
                     std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<HttpSpec>()), call_(call_of(m)) {}

HttpProbe::~HttpProbe() { abort(); }

bool HttpProbe::begin() {
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  exchange_ = std::make_unique<HttpExchange>(ctx_.curl, ctx_.source);
  return exchange_->start(easy_, call_, [this](HttpExchangeResult x) {
    // The exchange calls this as its last act and touches nothing of itself afterwards, so
    // finish() may let it go.
    finish(judge_exchange(std::move(x), spec_.expect));
  });
}

void HttpProbe::abort() {
  exchange_.reset();  // cancels a transfer in flight before its handle goes back
  ctx_.curl.release(std::exchange(easy_, nullptr));
}

ProbeResult HttpProbe::timed_out() { return judge_exchange(exchange_->timed_out(), spec_.expect); }

}  // namespace lookout
