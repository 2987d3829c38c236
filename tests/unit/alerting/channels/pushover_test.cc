#include "alerting/channels/pushover.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "alerting/ack_token.h"
#include "config/channels/pushover_spec.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "probes/template.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;
using Kind = DeliveryOutcome::Kind;
using Form = std::vector<std::pair<std::string, std::string>>;

const std::string kPushoverToken = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const std::string kUser = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
const std::string kWhen = "1796090400";  // test::kIncidentStart

ChannelConfig pushover_config(bool callback = false,
                              const std::string& url = "https://api.pushover.test") {
  ChannelConfig c;
  c.name = "oncall-push";
  c.type = "pushover";
  c.url = Secret::plain(url);
  auto spec = std::make_shared<PushoverSpec>();
  spec->token = Secret(kPushoverToken, true);
  spec->user = Secret(kUser, true);
  spec->callback = callback;
  c.spec = spec;
  return c;
}

// The value of `key` in a form, decoded.
std::string form_value(const std::string& body, const std::string& key) {
  const std::string from = "&" + key + "=";
  const size_t at = body.find(from) + from.size();
  const std::string raw = body.substr(at, body.find('&', at) - at);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      out += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += raw[i];
    }
  }
  return out;
}

// The fields of a form body, decoded.
httplib::Params form_decode(const std::string& body) {
  httplib::Params p;
  httplib::detail::parse_query_text(body, p);
  return p;
}

HttpPost pushover_request_for(const OutboxRow& row, bool callback = false) {
  return pushover_request(pushover_config(callback), {row}, test::kPublicUrl);
}

const std::string kOpenedText =
    "DOWN portal-home: expected status 200, got 503\n"
    "state down since 2026-12-01T02:00:00.000Z\n"
    "https://status.test/monitor/portal-home\n"
    "acknowledge: https://status.test/ack/42.1.abc\n";

TEST(PushoverChannel, DownIsAnEmergencyThatRetriesAndIsTaggedWithTheIncident) {
  const HttpPost r = pushover_request_for(incident_row("incident.opened"));
  EXPECT_EQ(r.url, "https://api.pushover.test/1/messages.json");
  EXPECT_EQ(r.method, "POST");
  EXPECT_FALSE(r.basic_auth);
  EXPECT_EQ(r.headers, std::vector<std::string>{"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(r.body, "token=" + kPushoverToken + "&user=" + kUser +
                        "&title=DOWN%20portal-home%3A%20expected%20status%20200%2C%20got%20503"
                        "&message=DOWN%20portal-home%3A%20expected%20status%20200%2C%20got%20503%0A"
                        "state%20down%20since%202026-12-01T02%3A00%3A00.000Z%0A"
                        "https%3A%2F%2Fstatus.test%2Fmonitor%2Fportal-home%0A"
                        "acknowledge%3A%20https%3A%2F%2Fstatus.test%2Fack%2F42.1.abc%0A"
                        "&url=https%3A%2F%2Fstatus.test%2Fmonitor%2Fportal-home"
                        "&url_title=Monitor%20portal-home&priority=2&retry=60&expire=3600"
                        "&tags=lookout-42&timestamp=1796090400");
}

TEST(PushoverChannel, TheCallbackIsOnlyAskedForWhenTheChannelWantsIt) {
  const Form with_callback{{"token", kPushoverToken},
                           {"user", kUser},
                           {"title", "DOWN portal-home: expected status 200, got 503"},
                           {"message", kOpenedText},
                           {"url", "https://status.test/monitor/portal-home"},
                           {"url_title", "Monitor portal-home"},
                           {"priority", "2"},
                           {"retry", "60"},
                           {"expire", "3600"},
                           {"tags", "lookout-42"},
                           {"callback", "https://status.test/hooks/pushover/42.1.abc"},
                           {"timestamp", kWhen}};
  EXPECT_EQ(pushover_request_for(incident_row("incident.opened"), true).body,
            form_encode(with_callback));
  // Not below priority 2, nor once the incident is acknowledged.
  EXPECT_EQ(pushover_request_for(incident_row("incident.acknowledged"), true).body.find("callback"),
            std::string::npos);
}

TEST(PushoverChannel, EscalationsAndRemindersRingAgain) {
  for (const std::string event : {"incident.escalated", "incident.reminder"}) {
    const std::string label = event == "incident.escalated" ? "ESCALATED DOWN" : "REMINDER DOWN";
    const std::string title = label + " portal-home: expected status 200, got 503";
    EXPECT_EQ(pushover_request_for(incident_row(event)).body,
              form_encode({{"token", kPushoverToken},
                           {"user", kUser},
                           {"title", title},
                           {"message", title + kOpenedText.substr(kOpenedText.find('\n'))},
                           {"url", "https://status.test/monitor/portal-home"},
                           {"url_title", "Monitor portal-home"},
                           {"priority", "2"},
                           {"retry", "60"},
                           {"expire", "3600"},
                           {"tags", "lookout-42"},
                           {"timestamp", kWhen}}))
        << event;
  }
}

TEST(PushoverChannel, DegradedIsHighPriorityWithoutRetries) {
  OutboxRow row = incident_row("incident.opened", "p95 712ms");
  auto j = nlohmann::json::parse(row.payload);
  j["state"] = "degraded";
  row.payload = j.dump();
  EXPECT_EQ(pushover_priority(row), 1);
  EXPECT_EQ(pushover_request_for(row).body,
            form_encode({{"token", kPushoverToken},
                         {"user", kUser},
                         {"title", "DEGRADED portal-home: p95 712ms"},
                         {"message",
                          "DEGRADED portal-home: p95 712ms\n"
                          "state degraded since 2026-12-01T02:00:00.000Z\n"
                          "https://status.test/monitor/portal-home\n"
                          "acknowledge: https://status.test/ack/42.1.abc\n"},
                         {"url", "https://status.test/monitor/portal-home"},
                         {"url_title", "Monitor portal-home"},
                         {"priority", "1"},
                         {"timestamp", kWhen}}));
  EXPECT_TRUE(pushover_ringing({row}).empty());
}

TEST(PushoverChannel, AcknowledgedAndResolvedAreNormalPriority) {
  EXPECT_EQ(pushover_request_for(incident_row("incident.acknowledged")).body,
            form_encode({{"token", kPushoverToken},
                         {"user", kUser},
                         {"title", "ACK DOWN portal-home: expected status 200, got 503"},
                         {"message",
                          "ACK DOWN portal-home: expected status 200, got 503\n"
                          "state down since 2026-12-01T02:00:00.000Z\n"
                          "https://status.test/monitor/portal-home\n"},
                         {"url", "https://status.test/monitor/portal-home"},
                         {"url_title", "Monitor portal-home"},
                         {"priority", "0"},
                         {"timestamp", kWhen}}));
  EXPECT_EQ(pushover_request_for(incident_row("incident.resolved")).body,
            form_encode({{"token", kPushoverToken},
                         {"user", kUser},
                         {"title", "RESOLVED portal-home"},
                         {"message",
                          "RESOLVED portal-home\n"
                          "was down since 2026-12-01T02:00:00.000Z\n"
                          "https://status.test/monitor/portal-home\n"},
                         {"url", "https://status.test/monitor/portal-home"},
                         {"url_title", "Monitor portal-home"},
                         {"priority", "0"},
                         {"timestamp", kWhen}}));
}

TEST(PushoverChannel, TestMessageSaysTestAtNormalPriority) {
  OutboxRow row = test::test_row();
  row.created = WallTime{std::chrono::seconds{1'796'090'460}};
  EXPECT_EQ(pushover_request_for(row).body,
            "token=" + kPushoverToken + "&user=" + kUser +
                "&title=TEST%20lookout%3A%20this%20channel%20delivers"
                "&message=TEST%20lookout%3A%20this%20channel%20delivers.%20Nothing%20is%20wrong."
                "&url=https%3A%2F%2Fstatus.test%2F&url_title=Status%20page&priority=0"
                "&timestamp=1796090460");
}

TEST(PushoverChannel, AStormIsOneMessageThatRingsForItsDownIncidents) {
  auto rows = storm(3);
  rows[0].incident_id = 7;
  rows[1].incident_id = 8;
  rows[2].incident_id = 9;
  rows[1].created += std::chrono::seconds(30);
  EXPECT_EQ(pushover_request(pushover_config(true), rows, test::kPublicUrl).body,
            form_encode({{"token", kPushoverToken},
                         {"user", kUser},
                         {"title", "lookout: 2 DOWN, 1 RESOLVED"},
                         {"message",
                          "lookout: 2 DOWN, 1 RESOLVED\n"
                          "DOWN api-000: expected status 200, got 503\n"
                          "DOWN api-001: expected status 200, got 503\n"
                          "RESOLVED api-002\n"
                          "https://status.test/\n"},
                         {"url", "https://status.test/"},
                         {"url_title", "Status page"},
                         {"priority", "2"},
                         {"retry", "60"},
                         {"expire", "3600"},
                         {"tags", "lookout-7,lookout-8"},
                         {"timestamp", "1796090430"}}))
      << "no callback without the key to sign one";
  // With the key, its callback acknowledges every incident it rings for.
  const std::string key = "0123456789abcdef0123456789abcdef";
  const auto form =
      form_decode(pushover_request(pushover_config(true), rows, test::kPublicUrl, key).body);
  const std::string prefix = "https://status.test/hooks/pushover/";
  ASSERT_EQ(form.count("callback"), 1u);
  const std::string callback = form.find("callback")->second;
  ASSERT_EQ(callback.rfind(prefix, 0), 0u) << callback;
  const std::string token = callback.substr(prefix.size());
  EXPECT_EQ(verify_group_ack_token(key, token, 1'796'090'430), (std::vector<int64_t>{7, 8}));
  EXPECT_FALSE(verify_group_ack_token(key, token, 1'796'090'430 + kAckTokenLifetimeS))
      << "valid as long as an ack link";
  EXPECT_FALSE(verify_ack_token(key, token, 1'796'090'430)) << "not an /ack/ link";
  EXPECT_EQ(form_decode(pushover_request(pushover_config(false), rows, test::kPublicUrl, key).body)
                .count("callback"),
            0u)
      << "callback = false";
  EXPECT_EQ(pushover_ringing(rows), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(pushover_cancels(rows), (std::vector<int64_t>{9}));
  const auto one = storm(1);
  EXPECT_EQ(pushover_request(pushover_config(), one, test::kPublicUrl).body,
            pushover_request_for(one.front()).body);
}

TEST(PushoverChannel, LongTextsAreCutToPushoversLimits) {
  auto rows = storm(12);
  for (auto& row : rows) {
    auto j = nlohmann::json::parse(row.payload);
    // Not std::string(250, 'c') + "ü": GCC 12 warns of an out-of-bounds copy there.
    std::string cause(250, 'c');
    cause += "ü";
    j["cause"] = cause;
    row.payload = j.dump();
  }
  const HttpPost storm_request = pushover_request(pushover_config(), rows, test::kPublicUrl);
  EXPECT_EQ(form_value(storm_request.body, "message").size(), 1024u);
  const HttpPost single = pushover_request_for(rows.front());
  const std::string title = form_value(single.body, "title");
  EXPECT_LE(title.size(), 250u);
  EXPECT_EQ(title.substr(title.size() - 3), "...");
}

TEST(PushoverChannel, AcknowledgementsAndResolutionsCancelByReceiptOrTag) {
  const ChannelConfig c = pushover_config(false, "https://api.pushover.test/");
  const HttpPost by_receipt = pushover_cancel_request(c, "KAWXTswy4cekx6vZbHBKbCKk1c1fdf");
  EXPECT_EQ(by_receipt.url,
            "https://api.pushover.test/1/receipts/KAWXTswy4cekx6vZbHBKbCKk1c1fdf/cancel.json");
  EXPECT_EQ(by_receipt.headers,
            std::vector<std::string>{"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(by_receipt.body, "token=" + kPushoverToken);
  const HttpPost by_tag = pushover_cancel_by_tag_request(c, 42);
  EXPECT_EQ(by_tag.url, "https://api.pushover.test/1/receipts/cancel_by_tag/lookout-42.json");
  EXPECT_EQ(by_tag.body, "token=" + kPushoverToken);

  EXPECT_EQ(pushover_cancels({incident_row("incident.acknowledged")}), std::vector<int64_t>{42});
  EXPECT_EQ(pushover_cancels({incident_row("incident.resolved")}), std::vector<int64_t>{42});
  for (const std::string event : {"incident.opened", "incident.escalated", "incident.reminder"})
    EXPECT_TRUE(pushover_cancels({incident_row(event)}).empty()) << event;
  EXPECT_TRUE(pushover_cancels({test::test_row()}).empty());
}

TEST(PushoverChannel, JudgeWantsStatusOneAndQuotesPushoversErrors) {
  const auto ok = pushover_outcome(CURLE_OK, 200, R"({"status":1,"request":"647d2300"})");
  EXPECT_EQ(ok.kind, Kind::kDelivered);
  EXPECT_EQ(ok.detail, "HTTP 200");
  const auto invalid =
      pushover_outcome(CURLE_OK, 400,
                       R"({"user":"invalid","errors":["user identifier is invalid"],"status":0,)"
                       R"("request":"5042853c"})");
  EXPECT_EQ(invalid.kind, Kind::kPermanent);
  EXPECT_EQ(invalid.detail, "HTTP 400: user identifier is invalid");
  const auto two =
      pushover_outcome(CURLE_OK, 400,
                       R"({"token":"invalid","errors":["application token is invalid",)"
                       R"("message cannot be blank"],"status":0,"request":"x"})");
  EXPECT_EQ(two.detail, "HTTP 400: application token is invalid; message cannot be blank");
  const auto unaccepted = pushover_outcome(CURLE_OK, 200, R"({"status":0,"request":"x"})");
  EXPECT_EQ(unaccepted.kind, Kind::kPermanent);
  EXPECT_EQ(unaccepted.detail, R"(HTTP 200 without "status": 1: {"status":0,"request":"x"})");
  EXPECT_EQ(pushover_outcome(CURLE_OK, 200, "<html>captive portal</html>").kind, Kind::kPermanent);
  const auto quota = pushover_outcome(
      CURLE_OK, 429, R"({"errors":["application is over its monthly quota"],"status":0})");
  EXPECT_EQ(quota.kind, Kind::kRetry);
  EXPECT_EQ(quota.detail, "HTTP 429: application is over its monthly quota");
  EXPECT_EQ(pushover_outcome(CURLE_OK, 500, "").kind, Kind::kRetry);
  EXPECT_EQ(pushover_outcome(CURLE_OK, 503, "<html>").detail, "HTTP 503");
  EXPECT_EQ(pushover_outcome(CURLE_COULDNT_RESOLVE_HOST, 0, "Could not resolve host").kind,
            Kind::kRetry);
}

TEST(PushoverChannel, ReceiptComesFromAnEmergencyAnswerOnlyInPushoversForm) {
  EXPECT_EQ(pushover_receipt(R"({"status":1,"request":"x","receipt":"KAWXTswy4cekx6vZbH"})"),
            "KAWXTswy4cekx6vZbH");
  EXPECT_EQ(pushover_receipt(R"({"status":1,"request":"x"})"), "");
  EXPECT_EQ(pushover_receipt(R"({"status":1,"receipt":"../../1/messages"})"), "");
  EXPECT_EQ(pushover_receipt("not json"), "");
}

// A stand-in for api.pushover.net on loopback that records each request's path and form.
class FakePushover {
 public:
  FakePushover() {
    svr_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      seen_.emplace_back(req.path, req.body);
      if (req.path == fail_path_) {
        res.status = 503;
        return;
      }
      const bool emergency = req.body.find("priority=2") != std::string::npos;
      res.set_content(emergency ? R"({"status":1,"request":"r","receipt":"Rcpt0042"})"
                                : R"({"status":1,"request":"r"})",
                      "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakePushover() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void fail(const std::string& path) {
    std::lock_guard lock(mu_);
    fail_path_ = path;
  }
  // The paths requested since the last call.
  std::vector<std::string> take_paths() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [path, body] : seen_) out.push_back(path);
    last_body_ = seen_.empty() ? "" : seen_.back().second;
    seen_.clear();
    return out;
  }
  std::string last_body() const { return last_body_; }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> seen_;
  std::string fail_path_, last_body_;
};

class PushoverChannelSend : public ::testing::Test {
 protected:
  DeliveryOutcome send(PushoverChannel& ch, const OutboxRow& row) {
    DeliveryOutcome out{Kind::kRetry, "never called back"};
    ch.send({row}, [&out](DeliveryOutcome o) { out = std::move(o); });
    loop_.run();
    return out;
  }
  std::unique_ptr<PushoverChannel> channel() {
    return std::make_unique<PushoverChannel>(pushover_config(false, api_.url()), curl_, clock_,
                                             test::kPublicUrl, nullptr);
  }

  FakePushover api_;
  SystemClock clock_;
  EventLoop loop_;
  CurlBridge curl_{loop_, clock_};
};

TEST_F(PushoverChannelSend, AnAcknowledgementCancelsTheReceiptAndTheTagBeforeItsMessage) {
  auto ch = channel();
  ASSERT_EQ(send(*ch, incident_row("incident.opened")).kind, Kind::kDelivered);
  EXPECT_EQ(api_.take_paths(), std::vector<std::string>{"/1/messages.json"});
  const auto acked = send(*ch, incident_row("incident.acknowledged"));
  EXPECT_EQ(acked.kind, Kind::kDelivered) << acked.detail;
  EXPECT_EQ(api_.take_paths(), (std::vector<std::string>{
                                   "/1/receipts/Rcpt0042/cancel.json",
                                   "/1/receipts/cancel_by_tag/lookout-42.json",
                                   "/1/messages.json",
                               }));
  EXPECT_NE(api_.last_body().find("&priority=0&"), std::string::npos) << api_.last_body();
  // The receipt is spent: a resolution later cancels by the tag alone.
  ASSERT_EQ(send(*ch, incident_row("incident.resolved")).kind, Kind::kDelivered);
  EXPECT_EQ(api_.take_paths(), (std::vector<std::string>{
                                   "/1/receipts/cancel_by_tag/lookout-42.json",
                                   "/1/messages.json",
                               }));
}

TEST_F(PushoverChannelSend, AfterAReloadTheTagStillReachesEarlierEmergencies) {
  ASSERT_EQ(send(*channel(), incident_row("incident.opened")).kind, Kind::kDelivered);
  api_.take_paths();
  auto fresh = channel();
  ASSERT_EQ(send(*fresh, incident_row("incident.resolved")).kind, Kind::kDelivered);
  EXPECT_EQ(api_.take_paths(), (std::vector<std::string>{
                                   "/1/receipts/cancel_by_tag/lookout-42.json",
                                   "/1/messages.json",
                               }));
}

TEST_F(PushoverChannelSend, ACancelToRetryHoldsTheMessageBack) {
  auto ch = channel();
  api_.fail("/1/receipts/cancel_by_tag/lookout-42.json");
  const auto o = send(*ch, incident_row("incident.resolved"));
  EXPECT_EQ(o.kind, Kind::kRetry);
  EXPECT_EQ(o.detail, "cancelling the emergency retries: HTTP 503");
  EXPECT_EQ(api_.take_paths(),
            std::vector<std::string>{"/1/receipts/cancel_by_tag/lookout-42.json"});
}

TEST(PushoverChannel, APostIsNeverAnEmergencyAndLinksItsPage) {
  const OutboxRow row = test::post_row();
  EXPECT_EQ(pushover_priority(row), 0);
  const auto form = form_decode(pushover_request_for(row, true).body);
  EXPECT_EQ(form.find("title")->second, "POST [major] Database failover: investigating");
  EXPECT_EQ(form.find("message")->second,
            "POST [major] Database failover: investigating\n"
            "Replicas lag behind. Failing over.\n"
            "about portal-home, billing-db\n"
            "https://status.test/posts/7\n");
  EXPECT_EQ(form.find("url")->second, "https://status.test/posts/7");
  EXPECT_EQ(form.find("url_title")->second, "Open post");
  EXPECT_EQ(form.find("priority")->second, "0");
  EXPECT_EQ(form.count("retry"), 0u);
  EXPECT_EQ(form.count("callback"), 0u);
  EXPECT_EQ(form.find("timestamp")->second, kWhen);
  // In a storm, after the down incident: the message rings for the incident, the post is
  // listed, and it stops no ringing.
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, row);
  EXPECT_EQ(pushover_ringing(rows), std::vector<int64_t>{42});
  EXPECT_EQ(form_decode(pushover_request(pushover_config(), rows, test::kPublicUrl).body)
                .find("priority")
                ->second,
            "2");
  EXPECT_TRUE(pushover_cancels({row}).empty());
}

}  // namespace
}  // namespace lookout
