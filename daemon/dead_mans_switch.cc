#include "daemon/dead_mans_switch.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/channels/curl_channel.h"
#include "core/curl_bridge.h"
#include "core/units.h"

namespace lookout {
namespace {

// The contract's timeout for the outside check.
constexpr Duration kRequestTimeout{10'000};

}  // namespace

std::optional<std::string> stuck_notification(const DispatchStats& stats, WallTime now,
                                              Duration limit) {
  if (!stats.oldest_due) return std::nullopt;
  const auto waited = std::chrono::duration_cast<Duration>(now - *stats.oldest_due);
  if (waited <= limit) return std::nullopt;
  return fmt::format("a notification through {} has been due for {} and is not delivered",
                     stats.oldest_due_channel, format_duration(waited));
}

DeadMansSwitch::DeadMansSwitch(CurlBridge& curl, const Clock& clock, Health health,
                               std::function<void()> changed)
    : curl_(curl),
      clock_(clock),
      health_(std::move(health)),
      changed_(std::move(changed)),
      timer_(curl.loop()) {}

DeadMansSwitch::~DeadMansSwitch() {
  if (transfer_) curl_.remove(transfer_->easy());
}

void DeadMansSwitch::configure(const std::optional<DeadMansSwitchConfig>& cfg,
                               std::shared_ptr<const Redactor> redactor) {
  redactor_ = std::move(redactor);
  const bool same = cfg && cfg_ && cfg->url == cfg_->url && cfg->every == cfg_->every;
  if (same) return;
  cfg_ = cfg;
  changed_();
  timer_.stop();
  if (!cfg_) return;
  timer_.start_repeating(cfg_->every, [this] { tick(); });
  tick();
}

void DeadMansSwitch::tick() {
  if (transfer_) return;  // the last request is still out (its timeout ends it)
  const HealthReport h = health_();
  if (!h.ok) {
    if (h.reason != skipped_because_) {
      spdlog::warn("heartbeat: not requesting the outside check, so it will alert: {}", h.reason);
    }
    skipped_because_ = h.reason;
    return;
  }
  if (!skipped_because_.empty()) {
    spdlog::info("heartbeat: healthy again, requesting the outside check");
    skipped_because_.clear();
  }
  ChannelConfig c;
  c.name = "heartbeat";
  c.timeout = kRequestTimeout;
  transfer_ = std::make_unique<Transfer>(curl_, c);
  curl_easy_setopt(transfer_->easy(), CURLOPT_URL, cfg_->url.reveal().c_str());
  curl_easy_setopt(transfer_->easy(), CURLOPT_HTTPGET, 1L);
  transfer_->header(fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION));
  const bool started =
      transfer_->start([this](CURLcode code, long status, const std::string& detail) {
        answered(code, status, detail);  // ends the transfer, which Transfer allows here
      });
  if (!started) {
    transfer_.reset();
    answered(CURLE_FAILED_INIT, 0, "the request could not be started");
  }
}

void DeadMansSwitch::answered(CURLcode code, long status, const std::string& detail) {
  transfer_.reset();
  const bool ok = code == CURLE_OK && status >= 200 && status < 300;
  if (ok) {
    last_success_ = clock_.wall();
    changed_();
    if (failing_) spdlog::info("heartbeat: the outside check answers again");
    failing_ = false;
    return;
  }
  const std::string why = code != CURLE_OK ? detail : fmt::format("HTTP {}", status);
  if (!failing_) {
    spdlog::warn(
        "heartbeat: requesting the outside check (heartbeat.url) failed: {}; it will alert "
        "unless a later request gets through",
        redactor_ ? redactor_->apply(why) : why);
  }
  failing_ = true;
}

}  // namespace lookout
