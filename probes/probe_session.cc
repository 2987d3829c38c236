#include "probes/probe_session.h"

#include "config/config.h"
#include "core/curl_bridge.h"

namespace lookout {

ProbeSession::ProbeSession(const MonitorConfig& m, ProbeContext& ctx,
                           std::shared_ptr<const Redactor> redactor)
    : m_(m), ctx_(ctx), redactor_(std::move(redactor)), deadline_(ctx.loop) {}

ProbeSession::~ProbeSession() = default;

Duration ProbeSession::deadline() const { return m_.timeout; }

bool ProbeSession::start(Done done) {
  if (running()) return false;
  started_at_ = ctx_.clock.wall();
  started_mono_ = ctx_.clock.mono();
  run_ = std::make_shared<int>(0);
  if (!begin()) {
    run_.reset();
    abort();
    return false;
  }
  done_ = std::move(done);
  // The loop's time is that of the start of its turn, which a busy turn leaves behind: the
  // deadline would come early by as much.
  uv_update_time(ctx_.loop.raw());
  deadline_.start(deadline(), [this] { expire(); });
  return true;
}

void ProbeSession::cancel() {
  if (!running()) return;
  ProbeResult r;
  r.kind = ErrorKind::kCancelled;
  r.cause = "cancelled";
  finish(std::move(r));  // may destroy this
}

void ProbeSession::expire() {
  ProbeResult r = timed_out();
  r.outcome = Outcome::kDown;
  r.kind = ErrorKind::kTimeout;
  finish(std::move(r));  // may destroy this
}

void ProbeSession::finish(ProbeResult r) {
  if (!running()) return;
  run_.reset();
  deadline_.stop();
  r.started_at = started_at_;
  r.started_mono = started_mono_;
  if (!r.cause.empty() && secrets() != nullptr) r.cause = secrets()->apply(std::move(r.cause));
  // A run that passed without a latency of its own took the whole run's time.
  if (r.outcome != Outcome::kDown && !r.timings.total_us) {
    r.timings.total_us = elapsed_us();
    r.samples_us.push_back(*r.timings.total_us);
  }
  abort();
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

void ProbeSession::next_turn(std::function<void()> f) {
  ctx_.curl.defer([run = std::weak_ptr<int>(run_), f = std::move(f)] {
    if (!run.expired()) f();
  });
}

int64_t ProbeSession::elapsed_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(ctx_.clock.mono() - started_mono_)
      .count();
}

Duration ProbeSession::time_left() const {
  return std::chrono::duration_cast<Duration>(started_mono_ + deadline() - ctx_.clock.mono());
}

nlohmann::json phases_json(const PhaseTimings& t) {
  return {{"total_ms", ms_json(t.total_us)},
          {"dns_ms", ms_json(t.dns_us)},
          {"connect_ms", ms_json(t.connect_us)},
          {"tls_ms", ms_json(t.tls_us)},
          {"first_byte_ms", ms_json(t.first_byte_us)}};
}

}  // namespace lookout
