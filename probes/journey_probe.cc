#include "probes/journey_probe.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/curl_bridge.h"
#include "core/units.h"
#include "probes/extract.h"
#include "probes/http_probe.h"
#include "probes/template.h"

namespace lookout {
namespace {

std::vector<std::string> cookie_lines(CURL* easy) {
  std::vector<std::string> lines;
  curl_slist* list = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &list) == CURLE_OK) {
    for (curl_slist* c = list; c != nullptr; c = c->next) lines.emplace_back(c->data);
  }
  curl_slist_free_all(list);
  return lines;
}

// A value put into a header must not end the line: a response could otherwise add headers.
std::string without_line_breaks(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n'; }),
          s.end());
  return s;
}

}  // namespace

JourneyProbe::JourneyProbe(const MonitorConfig& m, ProbeContext& ctx,
                           std::shared_ptr<const Redactor> redactor)
    : m_(m),
      spec_(m.spec_as<JourneySpec>()),
      ctx_(ctx),
      redactor_(std::move(redactor)),
      exchange_(ctx.curl) {}

JourneyProbe::~JourneyProbe() {
  exchange_.cancel();
  if (easy_ != nullptr) close_cookie_jar(easy_);
  ctx_.curl.release(easy_);
}

std::string JourneyProbe::step_label() const {
  const auto& s = spec_.steps[step_];
  return s.name.empty() ? fmt::format("step {}", step_ + 1)
                        : fmt::format("step {} '{}'", step_ + 1, s.name);
}

bool JourneyProbe::start(Done done) {
  if (easy_ != nullptr) return false;
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  open_cookie_jar(easy_);  // a fresh jar for each run
  step_ = 0;
  vars_.clear();
  step_times_.clear();
  run_redactor_ = redactor_ ? *redactor_ : Redactor();
  result_ = ProbeResult{};
  result_.started_at = ctx_.clock.wall();
  result_.started_mono = ctx_.clock.mono();
  deadline_ = result_.started_mono + m_.timeout;
  if (!run_step()) {
    close_cookie_jar(easy_);
    ctx_.curl.release(std::exchange(easy_, nullptr));
    return false;
  }
  done_ = std::move(done);
  return true;
}

bool JourneyProbe::run_step() {
  const JourneyStep& s = spec_.steps[step_];
  const auto left = std::chrono::duration_cast<Duration>(deadline_ - ctx_.clock.mono());
  call_ = HttpCall{};
  call_.options = &s.request;
  call_.url = render_template(s.request.url.reveal(), vars_, Escape::kUrl);
  call_.method = s.request.method;
  std::vector<std::pair<std::string, Secret>> headers;
  for (const auto& [k, v] : s.request.headers) {
    headers.emplace_back(
        k, Secret(without_line_breaks(render_template(v.reveal(), vars_, Escape::kNone)), true));
  }
  switch (s.body_kind) {
    case JourneyStep::Body::kNone:
      break;
    case JourneyStep::Body::kRaw:
      call_.body = render_template(s.request.body->reveal(), vars_, Escape::kNone);
      break;
    case JourneyStep::Body::kForm: {
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& [k, v] : s.form)
        fields.emplace_back(k, render_template(v.reveal(), vars_, Escape::kNone));
      call_.body = form_encode(fields);
      headers.emplace_back("Content-Type", Secret::plain("application/x-www-form-urlencoded"));
      break;
    }
    case JourneyStep::Body::kJson:
      call_.body = render_template(s.request.body->reveal(), vars_, Escape::kJson);
      headers.emplace_back("Content-Type", Secret::plain("application/json"));
      break;
  }
  call_.header_lines = header_lines(headers);
  call_.timeout = std::max(Duration{1}, std::min(left, s.timeout.value_or(left)));
  step_has_rest_of_run_ = !s.timeout || *s.timeout >= left;
  // Steps share connections like a browser does; the first step measures a fresh one.
  call_.fresh_connection = step_ == 0;
  call_.keep_connection = step_ + 1 < spec_.steps.size();
  return exchange_.start(easy_, call_, [this](HttpExchangeResult x) { on_step(std::move(x)); });
}

void JourneyProbe::cancel() {
  if (easy_ == nullptr) return;
  exchange_.cancel();
  close_cookie_jar(easy_);
  ctx_.curl.release(std::exchange(easy_, nullptr));
  finish_cancelled(std::move(done_), std::move(result_));  // may destroy this
}

void JourneyProbe::fail_step(ErrorKind kind, const std::string& why, const PhaseTimings& timings,
                             int status) {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.http_status = status;
  r.timings = timings;
  r.cause = fmt::format("{}: {}", step_label(), why);
  finish(std::move(r));
}

void JourneyProbe::on_step(HttpExchangeResult x) {
  const JourneyStep& s = spec_.steps[step_];
  const PhaseTimings timings = x.timings;
  step_times_.emplace_back(step_label(), timings);
  if (!x.responded && x.kind == ErrorKind::kTimeout && step_has_rest_of_run_) {
    fail_step(ErrorKind::kTimeout,
              fmt::format("the journey did not finish within its timeout {}",
                          format_duration(m_.timeout)),
              timings, 0);
    return;
  }
  HttpObservation obs = x.obs;
  if (observer_ && x.responded) observer_(s.name, obs);
  ProbeResult judged = judge_exchange(std::move(x), s.expect, nullptr);
  if (judged.outcome == Outcome::kDown) {
    fail_step(judged.kind, judged.cause, timings, judged.http_status);
    return;
  }
  if (judged.outcome == Outcome::kDegraded && result_.outcome != Outcome::kDegraded) {
    result_.outcome = Outcome::kDegraded;
    result_.kind = judged.kind;
    result_.cause = fmt::format("{}: {}", step_label(), judged.cause);
  }
  const auto cookies = s.extracts.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                          : parse_cookie_lines(cookie_lines(easy_));
  for (const auto& e : s.extracts) {
    std::string why;
    auto v = extract_value(e, obs, cookies, why);
    if (!v) {
      fail_step(ErrorKind::kExpectation, why, timings, obs.status);
      return;
    }
    run_redactor_.add(*v);
    vars_[e.name] = std::move(*v);
  }
  if (++step_ == spec_.steps.size()) {
    ProbeResult r;
    r.outcome = result_.outcome == Outcome::kDegraded ? Outcome::kDegraded : Outcome::kUp;
    r.kind = result_.outcome == Outcome::kDegraded ? result_.kind : ErrorKind::kNone;
    r.cause = result_.outcome == Outcome::kDegraded ? result_.cause : std::string();
    r.http_status = obs.status;
    finish(std::move(r));
    return;
  }
  ctx_.curl.defer([this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired() || easy_ == nullptr) return;  // destroyed or cancelled meanwhile
    if (!run_step()) {
      ProbeResult r;
      r.kind = ErrorKind::kInternal;
      r.cause = fmt::format("{} could not be started", step_label());
      finish(std::move(r));
    }
  });
}

void JourneyProbe::finish(ProbeResult r) {
  r.started_at = result_.started_at;
  r.started_mono = result_.started_mono;
  // The journey's time is the whole run; its phases are those of the first step.
  if (!step_times_.empty()) {
    const PhaseTimings& first = step_times_.front().second;
    r.timings.dns_us = first.dns_us;
    r.timings.connect_us = first.connect_us;
    r.timings.tls_us = first.tls_us;
    r.timings.first_byte_us = first.first_byte_us;
  }
  if (r.outcome != Outcome::kDown) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        ctx_.clock.mono() - result_.started_mono);
    r.timings.total_us = elapsed.count();
    r.samples_us.push_back(elapsed.count());
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& [label, t] : step_times_) {
    steps.push_back({{"step", label},
                     {"total_ms", ms_json(t.total_us)},
                     {"dns_ms", ms_json(t.dns_us)},
                     {"connect_ms", ms_json(t.connect_us)},
                     {"tls_ms", ms_json(t.tls_us)},
                     {"first_byte_ms", ms_json(t.first_byte_us)}});
  }
  r.detail = run_redactor_.apply(nlohmann::json{{"steps", std::move(steps)}}.dump());
  if (!r.cause.empty()) r.cause = run_redactor_.apply(std::move(r.cause));
  vars_.clear();
  run_redactor_ = Redactor();
  close_cookie_jar(easy_);
  ctx_.curl.release(std::exchange(easy_, nullptr));
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

}  // namespace lookout
