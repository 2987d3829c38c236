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

ProbeResult judge_exchange(HttpExchangeResult x, const HttpExpect& expect,
                           const Redactor* redactor) {
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
  if (!r.cause.empty() && redactor != nullptr) r.cause = redactor->apply(std::move(r.cause));
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
    : m_(m),
      spec_(m.spec_as<HttpSpec>()),
      ctx_(ctx),
      redactor_(std::move(redactor)),
      call_(call_of(m_)) {}

HttpProbe::~HttpProbe() {
  exchange_.reset();  // cancels a transfer in flight before its handle goes back
  ctx_.curl.release(easy_);
}

bool HttpProbe::start(Done done) {
  if (easy_ != nullptr) return false;
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  started_at_ = ctx_.clock.wall();
  started_mono_ = ctx_.clock.mono();
  exchange_ = std::make_unique<HttpExchange>(ctx_.curl);
  if (!exchange_->start(easy_, call_, [this](HttpExchangeResult x) { finish(std::move(x)); })) {
    exchange_.reset();
    ctx_.curl.release(std::exchange(easy_, nullptr));
    return false;
  }
  done_ = std::move(done);
  return true;
}

void HttpProbe::cancel() {
  if (easy_ == nullptr) return;
  exchange_.reset();
  ctx_.curl.release(std::exchange(easy_, nullptr));
  ProbeResult started;
  started.started_at = started_at_;
  started.started_mono = started_mono_;
  finish_cancelled(std::move(done_), std::move(started));  // may destroy this
}

void HttpProbe::finish(HttpExchangeResult x) {
  ProbeResult r = judge_exchange(std::move(x), spec_.expect, redactor_.get());
  r.started_at = started_at_;
  r.started_mono = started_mono_;
  // The exchange calls this as its last act and touches nothing of itself afterwards.
  exchange_.reset();
  ctx_.curl.release(std::exchange(easy_, nullptr));
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

}  // namespace lookout
