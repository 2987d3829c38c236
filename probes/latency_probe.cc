#include "probes/latency_probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/curl_bridge.h"
#include "core/units.h"
#include "probes/http_probe.h"

namespace lookout {

LatencyProbe::LatencyProbe(const MonitorConfig& m, ProbeContext& ctx,
                           std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)),
      spec_(m.spec_as<HttpSpec>()),
      call_(call_of(m)),
      exchange_(ctx.curl, ctx.source) {}

LatencyProbe::~LatencyProbe() { abort(); }

bool LatencyProbe::begin() {
  easy_ = ctx_.curl.acquire();
  return easy_ != nullptr && next_sample();
}

void LatencyProbe::abort() {
  exchange_.cancel();
  ctx_.curl.release(std::exchange(easy_, nullptr));
  samples_.clear();
}

bool LatencyProbe::next_sample() {
  const bool first = samples_.empty();
  const bool last = static_cast<int>(samples_.size()) + 1 >= spec_.samples;
  call_.fresh_connection = first || !spec_.reuse;
  call_.keep_connection = spec_.reuse && !last;
  return exchange_.start(easy_, call_, [this](HttpExchangeResult x) { on_sample(std::move(x)); });
}

ProbeResult LatencyProbe::timed_out() {
  if (!exchange_.running()) {
    // Between two samples: the loop was held up for longer than a sample may take.
    ProbeResult r;
    r.cause = fmt::format("the samples did not finish within {} ({} of {} done)",
                          format_duration(deadline()), samples_.size(), spec_.samples);
    return with_samples(std::move(r));
  }
  samples_.push_back(judge_exchange(exchange_.timed_out(), spec_.expect));
  return failed_by_last_sample();
}

void LatencyProbe::on_sample(HttpExchangeResult x) {
  samples_.push_back(judge_exchange(std::move(x), spec_.expect));
  if (samples_.back().outcome == Outcome::kDown) {
    finish(failed_by_last_sample());
    return;
  }
  if (static_cast<int>(samples_.size()) < spec_.samples) {
    // Not from inside the finished transfer's callback: the next one starts on the next turn.
    next_turn([this] {
      if (!next_sample()) {
        ProbeResult r;
        r.kind = ErrorKind::kInternal;
        r.cause = "could not start the next sample";
        finish(with_samples(std::move(r)));
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
  finish(with_samples(std::move(r)));
}

ProbeResult LatencyProbe::failed_by_last_sample() const {
  const ProbeResult& s = samples_.back();
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = s.kind;
  r.http_status = s.http_status;
  r.timings = s.timings;
  r.cause = spec_.samples > 1
                ? fmt::format("sample {} of {}: {}", samples_.size(), spec_.samples, s.cause)
                : s.cause;
  return with_samples(std::move(r));
}

ProbeResult LatencyProbe::with_samples(ProbeResult r) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : samples_) {
    if (s.timings.total_us) r.samples_us.push_back(*s.timings.total_us);
    nlohmann::json sample = phases_json(s.timings);
    sample["status"] = s.http_status;
    list.push_back(std::move(sample));
  }
  r.detail = nlohmann::json{{"samples", std::move(list)}}.dump();
  return r;
}

}  // namespace lookout
