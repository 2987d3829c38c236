#include "probes/latency_probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/curl_bridge.h"
#include "probes/http_probe.h"

namespace lookout {
namespace {}  // namespace

LatencyProbe::LatencyProbe(const MonitorConfig& m, ProbeContext& ctx,
                           std::shared_ptr<const Redactor> redactor)
    : m_(m),
      spec_(m.spec_as<HttpSpec>()),
      ctx_(ctx),
      redactor_(std::move(redactor)),
      call_(call_of(m_)),
      exchange_(ctx.curl) {}

LatencyProbe::~LatencyProbe() {
  exchange_.cancel();
  ctx_.curl.release(easy_);
}

bool LatencyProbe::start(Done done) {
  if (easy_ != nullptr) return false;
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  samples_.clear();
  result_ = ProbeResult{};
  result_.started_at = ctx_.clock.wall();
  result_.started_mono = ctx_.clock.mono();
  if (!next_sample()) {
    ctx_.curl.release(std::exchange(easy_, nullptr));
    return false;
  }
  done_ = std::move(done);
  return true;
}

bool LatencyProbe::next_sample() {
  const bool first = samples_.empty();
  const bool last = static_cast<int>(samples_.size()) + 1 >= spec_.samples;
  call_.fresh_connection = first || !spec_.reuse;
  call_.keep_connection = spec_.reuse && !last;
  return exchange_.start(easy_, call_, [this](HttpExchangeResult x) { on_sample(std::move(x)); });
}

void LatencyProbe::cancel() {
  if (easy_ == nullptr) return;
  exchange_.cancel();
  ctx_.curl.release(std::exchange(easy_, nullptr));
  finish_cancelled(std::move(done_), std::move(result_));  // may destroy this
}

void LatencyProbe::on_sample(HttpExchangeResult x) {
  samples_.push_back(judge_exchange(std::move(x), spec_.expect, redactor_.get()));
  const ProbeResult& s = samples_.back();
  if (s.outcome == Outcome::kDown) {
    ProbeResult r;
    r.outcome = Outcome::kDown;
    r.kind = s.kind;
    r.http_status = s.http_status;
    r.timings = s.timings;
    r.cause = spec_.samples > 1
                  ? fmt::format("sample {} of {}: {}", samples_.size(), spec_.samples, s.cause)
                  : s.cause;
    finish(std::move(r));
    return;
  }
  if (static_cast<int>(samples_.size()) < spec_.samples) {
    // Not from inside the finished transfer's callback: the next one starts on the next turn.
    ctx_.curl.defer([this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.expired() || easy_ == nullptr) return;  // destroyed or cancelled meanwhile
      if (!next_sample()) {
        ProbeResult r;
        r.kind = ErrorKind::kInternal;
        r.cause = "could not start the next sample";
        finish(std::move(r));
      }
    });
    return;
  }
  // The run is as bad as its worst sample and reports the median one.
  std::vector<const ProbeResult*> by_total;
  for (const auto& x : samples_) by_total.push_back(&x);
  std::sort(by_total.begin(), by_total.end(), [](const ProbeResult* a, const ProbeResult* b) {
    return a->timings.total_us.value_or(0) < b->timings.total_us.value_or(0);
  });
  const ProbeResult& median = *by_total[by_total.size() / 2];
  const auto worst = std::max_element(
      samples_.begin(), samples_.end(),
      [](const ProbeResult& a, const ProbeResult& b) { return a.outcome < b.outcome; });
  ProbeResult r;
  r.outcome = worst->outcome;
  r.kind = worst->kind;
  r.cause = worst->cause;
  r.http_status = median.http_status;
  r.timings = median.timings;
  finish(std::move(r));
}

void LatencyProbe::finish(ProbeResult r) {
  r.started_at = result_.started_at;
  r.started_mono = result_.started_mono;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : samples_) {
    if (s.timings.total_us) r.samples_us.push_back(*s.timings.total_us);
    list.push_back({{"total_ms", ms_json(s.timings.total_us)},
                    {"dns_ms", ms_json(s.timings.dns_us)},
                    {"connect_ms", ms_json(s.timings.connect_us)},
                    {"tls_ms", ms_json(s.timings.tls_us)},
                    {"first_byte_ms", ms_json(s.timings.first_byte_us)},
                    {"status", s.http_status}});
  }
  r.detail = nlohmann::json{{"samples", std::move(list)}}.dump();
  samples_.clear();
  ctx_.curl.release(std::exchange(easy_, nullptr));
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

}  // namespace lookout
