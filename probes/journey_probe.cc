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
    : ProbeSession(m, ctx, std::move(redactor)),
      spec_(m.spec_as<JourneySpec>()),
      exchange_(ctx.curl, ctx.source) {}

JourneyProbe::~JourneyProbe() { abort(); }

std::string JourneyProbe::step_label() const {
  const auto& s = spec_.steps[step_];
  return s.name.empty() ? fmt::format("step {}", step_ + 1)
                        : fmt::format("step {} '{}'", step_ + 1, s.name);
}

std::string JourneyProbe::out_of_time() const {
  return fmt::format("the journey did not finish within its timeout {}",
                     format_duration(m_.timeout));
}

bool JourneyProbe::begin() {
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  open_cookie_jar(easy_);  // a fresh jar for each run
  step_ = 0;
  step_times_.clear();
  degraded_ = ProbeResult{};
  run_redactor_ = redactor_ ? *redactor_ : Redactor();
  return run_step();
}

// The run's values are secrets: none is kept once it ended.
void JourneyProbe::abort() {
  exchange_.cancel();
  if (easy_ != nullptr) close_cookie_jar(easy_);
  ctx_.curl.release(std::exchange(easy_, nullptr));
  vars_.clear();
  run_redactor_ = Redactor();
}

bool JourneyProbe::run_step() {
  const JourneyStep& s = spec_.steps[step_];
  const Duration left = time_left();
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

ProbeResult JourneyProbe::timed_out() {
  PhaseTimings timings;
  if (exchange_.running()) {
    timings = exchange_.timed_out().timings;
    step_times_.emplace_back(step_label(), timings);
  }
  return step_failed(ErrorKind::kTimeout, out_of_time(), timings, 0);
}

ProbeResult JourneyProbe::step_failed(ErrorKind kind, const std::string& why,
                                      const PhaseTimings& timings, int status) const {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.http_status = status;
  r.timings = timings;
  r.cause = fmt::format("{}: {}", step_label(), why);
  return with_steps(std::move(r));
}

void JourneyProbe::on_step(HttpExchangeResult x) {
  const JourneyStep& s = spec_.steps[step_];
  const PhaseTimings timings = x.timings;
  step_times_.emplace_back(step_label(), timings);
  if (!x.responded && x.kind == ErrorKind::kTimeout && step_has_rest_of_run_) {
    finish(step_failed(ErrorKind::kTimeout, out_of_time(), timings, 0));
    return;
  }
  HttpObservation obs = x.obs;
  if (observer_ && x.responded) observer_(s.name, obs);
  ProbeResult judged = judge_exchange(std::move(x), s.expect);
  if (judged.outcome == Outcome::kDown) {
    finish(step_failed(judged.kind, judged.cause, timings, judged.http_status));
    return;
  }
  if (judged.outcome == Outcome::kDegraded && degraded_.outcome != Outcome::kDegraded) {
    degraded_.outcome = Outcome::kDegraded;
    degraded_.kind = judged.kind;
    degraded_.cause = fmt::format("{}: {}", step_label(), judged.cause);
  }
  const auto cookies = s.extracts.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                          : parse_cookie_lines(cookie_lines(easy_));
  for (const auto& e : s.extracts) {
    std::string why;
    auto v = extract_value(e, obs, cookies, why);
    if (!v) {
      finish(step_failed(ErrorKind::kExpectation, why, timings, obs.status));
      return;
    }
    run_redactor_.add(*v);
    vars_[e.name] = std::move(*v);
  }
  if (++step_ == spec_.steps.size()) {
    ProbeResult r;
    r.outcome = degraded_.outcome == Outcome::kDegraded ? Outcome::kDegraded : Outcome::kUp;
    r.kind = degraded_.outcome == Outcome::kDegraded ? degraded_.kind : ErrorKind::kNone;
    r.cause = degraded_.outcome == Outcome::kDegraded ? degraded_.cause : std::string();
    r.http_status = obs.status;
    finish(with_steps(std::move(r)));
    return;
  }
  next_turn([this] {
    if (!run_step()) {
      ProbeResult r;
      r.kind = ErrorKind::kInternal;
      r.cause = fmt::format("{} could not be started", step_label());
      finish(with_steps(std::move(r)));
    }
  });
}

ProbeResult JourneyProbe::with_steps(ProbeResult r) const {
  // Its phases are those of the first step; its total, of a run that passed, is the whole
  // run's, which the session takes.
  if (!step_times_.empty()) {
    const PhaseTimings& first = step_times_.front().second;
    r.timings.dns_us = first.dns_us;
    r.timings.connect_us = first.connect_us;
    r.timings.tls_us = first.tls_us;
    r.timings.first_byte_us = first.first_byte_us;
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& [label, t] : step_times_) {
    nlohmann::json step = phases_json(t);
    step["step"] = label;
    steps.push_back(std::move(step));
  }
  r.detail = run_redactor_.apply(nlohmann::json{{"steps", std::move(steps)}}.dump());
  return r;
}

}  // namespace lookout
