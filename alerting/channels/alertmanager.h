// The alertmanager channel: alerts POSTed to an Alertmanager's v2 API, as Prometheus sends them.
// Every POST carries one alert. An open incident is a firing alert that must be posted again
// every minute, or Alertmanager resolves it; a resolution is one post with endsAt at the resolve
// time.
// What is posted is a pure function of the rows and the time (alertmanager_alerts,
// alertmanager_firing, alertmanager_request), and so is the set of alerts that keep firing
// (FiringAlerts); AlertmanagerChannel sends them and keeps the set on a loop timer.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"
#include "core/event_loop.h"

namespace lookout {

// How often a firing alert is posted again: Alertmanager's resend convention (Prometheus's
// resend_delay is one minute too).
inline constexpr Duration kAlertmanagerResendEvery{60'000};
// How long `alert-test`'s alert fires before it resolves by itself (an incident's alerts have
// no endsAt until they resolve: Alertmanager keeps each for its resolve_timeout, 5 minutes by
// default, after every post, so the resends keep it firing and a dead lookout's alerts end).
inline constexpr Duration kAlertmanagerTestFiresFor{4 * 60'000};

// The incidents whose alerts a channel keeps posting: the latest delivered row of each open
// one. A row older than the one kept, or of an incident already resolved, changes nothing: a
// retried notification may be delivered after a newer one. An acknowledgement changes nothing
// either (Alertmanager has none): the alert keeps firing as it was posted.
class FiringAlerts {
 public:
  // Rows that were delivered (or, at start-up, rows of the incidents still open).
  void add(const std::vector<OutboxRow>& rows);
  std::vector<OutboxRow> rows() const;
  bool empty() const { return firing_.empty(); }
  // The state (down | degraded) the incident's alert fires under; "" when it is not firing.
  std::string state_of(int64_t incident_id) const;

 private:
  static constexpr size_t kEndedKept = 10'000;
  std::map<int64_t, OutboxRow> firing_;  // by incident id
  std::set<int64_t> ended_;              // the latest resolved incident ids
};

// The alerts of a batch, in the order they are posted, each in a POST of its own. Each
// incident's latest row in the batch (Alertmanager keeps state, not history) makes its alert:
// labels {alertname (LookoutMonitorDown | LookoutMonitorDegraded), monitor, group, type,
// severity (critical | warning)}, annotations {summary, cause, ack_url while it works},
// startsAt (the incident's start), endsAt (only once it ended), generatorURL (the monitor
// page). An acknowledgement posts nothing, nor does a post's event. An update (the incident changed
// between down and degraded, so its labels did) fires the alert under its new name first and then
// ends the one under the other name, so Alertmanager never sees the incident without a firing
// alert. A resolution repeats the firing alert's labels with endsAt at its resolve time: the state
// it fired under is `firing`'s, else the batch's earlier row's; when neither knows, it ends the
// alert under both names. A test is a LookoutTest alert that fires for
// kAlertmanagerTestFiresFor.
std::vector<nlohmann::json> alertmanager_alerts(const Batch& rows, WallTime now,
                                                const std::string& public_url,
                                                const FiringAlerts& firing = {});
// The firing alerts of `rows` (open incidents' rows), to post again, one POST each.
std::vector<nlohmann::json> alertmanager_firing(const std::vector<OutboxRow>& rows,
                                                const std::string& public_url);

// POST {url}/api/v2/alerts with an array of the one alert, basic auth when the channel has a
// username.
HttpPost alertmanager_request(const ChannelConfig& c, const nlohmann::json& alert);
std::vector<HttpPost> alertmanager_requests(const ChannelConfig& c,
                                            const std::vector<nlohmann::json>& alerts);

// 200 is delivered; a 400 (an alert Alertmanager refuses) fails for good with its message;
// 429 and 5xx are retried.
DeliveryOutcome alertmanager_outcome(CURLcode code, long status, const std::string& answer);

class AlertmanagerChannel final : public CurlChannel {
 public:
  AlertmanagerChannel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock,
                      std::string public_url, std::shared_ptr<const Redactor> redactor,
                      Duration resend_every = kAlertmanagerResendEvery);
  void send(const std::vector<OutboxRow>& rows, Done done) override;

  // Incidents that were open before a restart or a reload: their alerts are posted again from
  // the next resend on (the rows' events were delivered before, so nothing is sent at once).
  void resume(const std::vector<OutboxRow>& delivered) override;
  std::vector<OutboxRow> resumable() const override { return firing_.rows(); }
  const FiringAlerts& firing() const { return firing_; }

 private:
  struct Waiting {
    std::vector<OutboxRow> rows;
    Done done;
  };
  void post_alerts(const std::vector<OutboxRow>& rows, Done done);
  void keep_firing(const std::vector<OutboxRow>& rows);
  void resend();
  void resent(const DeliveryOutcome& o);

  Duration resend_every_;
  FiringAlerts firing_;
  Timer timer_;
  bool timer_running_ = false;
  // A resend and a notification are never on the wire together: Alertmanager takes the last
  // post it receives, and a resend that arrived after the resolution would fire the resolved
  // alert again. Notifications wait for the resend's answer; a resend skips its turn while a
  // notification is out.
  size_t sending_ = 0;
  bool resending_ = false;
  std::vector<Waiting> waiting_;
  bool resend_failing_ = false;  // only a change is logged
  // A resend's callback holds this weakly: a transfer that cannot start reports on the next
  // turn, when the channel may be gone (replaced by a reload).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lookout
