// Alerting end to end with the real binary and real peers: a real SMTP server, a webhook
// receiver that checks the HMAC, and an endpoint speaking Twilio's wire format.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const std::string kHookSecret = "hook-secret-0123456789";
const std::string kTwilioToken = "twilio-token-abcdef";

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

// Milliseconds since the epoch of the contract's JSON times ("2026-12-04T10:42:00.123Z").
int64_t unix_ms(const std::string& rfc3339) {
  std::tm tm{};
  int ms = 0;
  EXPECT_EQ(std::sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
            7)
      << rfc3339;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

// Records webhook deliveries; answers 500 while `failing`. `events` holds every event, also
// each one inside a grouped body; `bodies` each request as it came, with when.
struct WebhookReceiver {
  TargetServer server;
  std::mutex mu;
  std::vector<nlohmann::json> events;
  std::vector<std::pair<std::chrono::steady_clock::time_point, nlohmann::json>> bodies;
  std::set<std::string> ids;
  std::atomic<bool> failing{false};
  std::atomic<int> bad_signatures{0};
  WebhookReceiver() {
    server.routes().Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      if (failing) {
        res.status = 500;
        return;
      }
      if (req.get_header_value("X-Lookout-Signature") !=
          "sha256=" + hmac_hex(kHookSecret, req.body))
        ++bad_signatures;
      auto j = nlohmann::json::parse(req.body);
      EXPECT_EQ(req.get_header_value("Idempotency-Key"), j["id"].get<std::string>());
      EXPECT_EQ(req.get_header_value("X-Lookout-Event"), j["event"].get<std::string>());
      std::lock_guard lock(mu);
      bodies.emplace_back(std::chrono::steady_clock::now(), j);
      if (j["event"] == "group") {
        for (auto e : j["events"]) {
          e["version"] = j["version"];
          e["sent_at"] = j["sent_at"];
          ids.insert(e["id"].get<std::string>());
          events.push_back(std::move(e));
        }
      } else {
        ids.insert(j["id"].get<std::string>());
        events.push_back(std::move(j));
      }
    });
    server.start();
  }
  size_t count(const std::string& event) {
    std::lock_guard lock(mu);
    return static_cast<size_t>(
        std::count_if(events.begin(), events.end(),
                      [&](const nlohmann::json& j) { return j["event"] == event; }));
  }
  nlohmann::json first(const std::string& event) {
    std::lock_guard lock(mu);
    for (const auto& j : events) {
      if (j["event"] == event) return j;
    }
    return nullptr;
  }
};

// Twilio's Messages API: form fields and HTTP basic auth.
struct TwilioReceiver {
  TargetServer server;
  std::mutex mu;
  std::vector<std::map<std::string, std::string>> messages;
  TwilioReceiver() {
    server.routes().Post(
        "/2010-04-01/Accounts/AC123/Messages.json",
        [this](const httplib::Request& req, httplib::Response& res) {
          if (req.get_header_value("Authorization") != "Basic " + base64("AC123:" + kTwilioToken)) {
            res.status = 401;
            return;
          }
          std::lock_guard lock(mu);
          messages.push_back({{"To", req.get_param_value("To")},
                              {"From", req.get_param_value("From")},
                              {"Body", req.get_param_value("Body")}});
          res.status = 201;
          res.set_content(R"({"sid":"SM1","status":"queued"})", "application/json");
        });
    server.start();
  }
  size_t size() {
    std::lock_guard lock(mu);
    return messages.size();
  }
};

// A target whose health the test switches.
struct Switch {
  TargetServer server;
  std::atomic<bool> healthy{true};
  std::atomic<bool> alternate{false};
  std::atomic<int> n{0};
  Switch() {
    server.routes().Get("/app", [this](const httplib::Request&, httplib::Response& res) {
      const bool ok = alternate ? (n++ % 2 == 0) : healthy.load();
      res.status = ok ? 200 : 500;
      res.set_content(ok ? "ok" : "broken", "text/plain");
    });
    server.start();
  }
};

std::string alerting_config(
    int target, int smtp, int hook, int twilio, const std::string& escalate_after = "1s",
    const std::string& monitor_extra = "fail_after = 2\nrecover_after = 2") {
  return fmt::format(R"([[monitor]]
name = "portal"
type = "http"
group = "Portal"
public = true
url = "http://127.0.0.1:{0}/app"
interval = "300ms"
timeout = "250ms"
{5}

[[channel]]
name = "ops-email"
type = "email"
smtp_url = "smtp://127.0.0.1:{1}"
starttls = "off"
from = "lookout@test.example"
to = ["oncall@test.example"]

[[channel]]
name = "ops-webhook"
type = "webhook"
url = "http://127.0.0.1:{2}/hook"
secret = "${{env:HOOK_SECRET}}"

[[channel]]
name = "oncall-sms"
type = "sms"
provider = "twilio"
url = "http://127.0.0.1:{3}"
account = "AC123"
token = "${{env:TWILIO_TOKEN}}"
from = "+15550000"
to = ["+15550100"]

[[route]]
name = "oncall"
match = {{ group = "Portal" }}
notify = ["ops-email", "ops-webhook"]
escalate = [ {{ after = "{4}", notify = ["oncall-sms"] }} ]
# These tests follow each notification alone; AlertStorm and LoneIncident test grouping.
group_wait = "0s"
group_interval = "0s"
)",
                     target, smtp, hook, twilio, escalate_after, monitor_extra);
}

const std::map<std::string, std::string> kEnv{{"HOOK_SECRET", kHookSecret},
                                              {"TWILIO_TOKEN", kTwilioToken}};
const std::string kServer =
    "public_url = \"http://127.0.0.1:@PORT@\"\nadmin_token = \"${env:ADMIN}\"";

std::map<std::string, std::string> env_with_admin() {
  auto e = kEnv;
  e["ADMIN"] = "admin-token-0123456789abcdef";
  return e;
}

// The real peers every alerting test talks to, and a config pointing at them.
struct Peers {
  TempDir dir;
  SmtpServer smtp{dir};
  WebhookReceiver hook;
  TwilioReceiver twilio;
  Switch target;
  std::string config(const std::string& escalate_after = "1s",
                     const std::string& monitor_extra = "fail_after = 2\nrecover_after = 2") {
    return alerting_config(target.server.port(), smtp.port(), hook.server.port(),
                           twilio.server.port(), escalate_after, monitor_extra);
  }
};

TEST(Alerting, DownEscalateAckResolveThroughEveryChannel) {
  Peers p;
  auto& smtp = p.smtp;
  auto& hook = p.hook;
  auto& twilio = p.twilio;
  auto& target = p.target;
  const auto env = env_with_admin();
  Daemon d(p.dir, p.config(), kServer, env);
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));

  const auto failed_at = std::chrono::steady_clock::now();
  target.healthy = false;
  ASSERT_TRUE(wait_until([&] { return hook.count("incident.opened") == 1; }, 10'000ms));
  const auto took = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - failed_at);
  // fail_after x interval, then the outbox: well within interval x fail_after + 2 s.
  EXPECT_LT(took.count(), 2 * 300 + 2000);
  const auto opened = hook.first("incident.opened");
  EXPECT_EQ(opened["version"], 1);
  EXPECT_EQ(opened["incident"]["monitor"], "portal");
  EXPECT_EQ(opened["incident"]["state"], "down");
  EXPECT_EQ(opened["incident"]["cause"], "expected status 2xx, got 500");
  EXPECT_EQ(opened["id"].get<std::string>().rfind("evt_", 0), 0u);

  ASSERT_TRUE(wait_until([&] { return !smtp.messages().empty(); }, 10'000ms));
  const std::string mail = smtp.messages().front();
  EXPECT_NE(mail.find("Subject: [DOWN] portal: expected status 2xx, got 500"), std::string::npos)
      << mail;
  EXPECT_NE(mail.find("From: lookout@test.example"), std::string::npos);
  EXPECT_NE(mail.find("Message-ID: <evt_"), std::string::npos);
  EXPECT_NE(mail.find("Date: "), std::string::npos);
  EXPECT_NE(mail.find("Acknowledge: http://127.0.0.1:"), std::string::npos);

  // Unacknowledged after 1 s: the SMS tier fires.
  ASSERT_TRUE(wait_until([&] { return twilio.size() == 1; }, 10'000ms));
  {
    std::lock_guard lock(twilio.mu);
    EXPECT_EQ(twilio.messages[0]["To"], "+15550100");
    EXPECT_EQ(twilio.messages[0]["From"], "+15550000");
    EXPECT_EQ(twilio.messages[0]["Body"].rfind(
                  "ESCALATED DOWN portal expected status 2xx, got 500 since ", 0),
              0u)
        << twilio.messages[0]["Body"];
    EXPECT_LE(twilio.messages[0]["Body"].size(), 160u);
  }

  // Acknowledge through the signed link of the alert: GET shows a button, POST does it.
  const std::string ack_url = opened["incident"]["ack_url"];
  const std::string path = ack_url.substr(ack_url.find("/ack/"));
  const auto confirm = http_get(d.port(), path);
  EXPECT_EQ(confirm.status, 200);
  EXPECT_NE(confirm.body.find("<form method=\"post\""), std::string::npos);
  httplib::Client cli("127.0.0.1", d.port());
  auto posted = cli.Post(path);
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 200);
  ASSERT_TRUE(wait_until([&] { return hook.count("incident.acknowledged") == 1; }, 10'000ms));
  EXPECT_EQ(hook.first("incident.acknowledged")["incident"]["acknowledged_by"], "link");
  // A repeated ack answers 200 and changes nothing.
  EXPECT_EQ(cli.Post(path)->status, 200);

  target.healthy = true;
  ASSERT_TRUE(wait_until([&] { return hook.count("incident.resolved") == 1; }, 10'000ms));
  EXPECT_EQ(hook.first("incident.resolved")["incident"]["state"], "up");
  // An ack after resolution is a conflict.
  EXPECT_EQ(cli.Post(path)->status, 409);

  EXPECT_EQ(hook.count("incident.opened"), 1u)
      << "one notification per state change, not per failed run";
  EXPECT_EQ(hook.count("incident.escalated"), 0u) << "the SMS tier is not the webhook's";
  EXPECT_EQ(hook.bad_signatures.load(), 0);
  EXPECT_EQ(twilio.size(), 3u)
      << "the escalation, then the acknowledgement and the resolution to the tier that fired";

  const auto incidents = nlohmann::json::parse(http_get(d.port(), "/api/v1/incidents").body);
  ASSERT_EQ(incidents["incidents"].size(), 1u);
  const auto& inc = incidents["incidents"][0];
  EXPECT_EQ(inc["acknowledged_by"], "link");
  EXPECT_FALSE(inc["resolved_at"].is_null());
  std::set<std::string> seen;
  for (const auto& e : inc["events"])
    seen.insert(e["event"].get<std::string>() + "/" + e["outcome"].dump());
  EXPECT_TRUE(seen.count("incident.opened/\"delivered\"")) << inc.dump();
  EXPECT_EQ(
      nlohmann::json::parse(http_get(d.port(), "/api/v1/incidents?state=open").body)["incidents"]
          .size(),
      0u);
  EXPECT_EQ(http_get(d.port(), "/api/v1/incidents?state=nope").status, 400);
  EXPECT_NE(d.metrics().find(
                "lookout_notifications_total{channel=\"ops-webhook\",outcome=\"delivered\"}"),
            std::string::npos);
}

// A shared dependency fails and 500 monitors go down within a few seconds. With the default
// (leading) grouping each channel sends the first notification at once and everything that
// follows within group_wait as one more message: two per channel for the whole storm. That
// message counts them, puts the worst first and links to the page; the webhook's body still
// carries every event with its own id. No resolution is held back longer than group_wait.
TEST(AlertStorm, FiveHundredMonitorsFailingTogetherMakeTwoMessagesPerChannel) {
  Peers p;
  auto& smtp = p.smtp;
  auto& hook = p.hook;
  auto& twilio = p.twilio;
  auto& target = p.target;
  constexpr int kMonitors = 500;
  std::string config;
  for (int i = 0; i < kMonitors; ++i) {
    config += fmt::format(R"([[monitor]]
name = "api-{:03}"
type = "http"
group = "Portal"
public = true
url = "http://127.0.0.1:{}/app"
interval = "2s"
timeout = "1500ms"
fail_after = 2
recover_after = 2
)",
                          i, target.server.port());
  }
  // The channels of the other tests, and a route that gathers for 12 s (two failing runs every
  // 2 s reach every monitor well within 12 s, also under the sanitizers); group_interval stays
  // at its default of 5 minutes, which only the alertmanager mode uses.
  const std::string base = p.config();
  config +=
      base.substr(base.find("[[channel]]"), base.find("[[route]]") - base.find("[[channel]]"));
  config += R"([[route]]
name = "storm"
notify = ["ops-email", "ops-webhook", "oncall-sms"]
group_wait = "12s"
)";
  Daemon d(p.dir, config, kServer, env_with_admin());
  d.start();
  auto all = [&](const char* state) {
    const auto s = d.status();
    return std::count_if(s["monitors"].begin(), s["monitors"].end(),
                         [&](const auto& m) { return m["state"] == state; }) == kMonitors;
  };
  ASSERT_TRUE(wait_until([&] { return all("up"); }, 30'000ms));

  target.healthy = false;
  ASSERT_TRUE(wait_until([&] { return hook.count("incident.opened") == kMonitors; }, 60'000ms))
      << hook.count("incident.opened");
  std::chrono::steady_clock::time_point first_at;
  size_t rest = 0;  // the notifications of the second message
  {
    std::lock_guard lock(hook.mu);
    std::string seen;
    for (const auto& [at, b] : hook.bodies) {
      seen += fmt::format("{} ms: {} {}; ",
                          std::chrono::duration_cast<Ms>(at - hook.bodies[0].first).count(),
                          b["event"].get<std::string>(), b.value("count", 1));
    }
    ASSERT_EQ(hook.bodies.size(), 2u)
        << "the first at once, the rest of the storm as one more webhook call: " << seen;
    first_at = hook.bodies[0].first;
    const auto& lead = hook.bodies[0].second;
    const size_t led = lead["event"] == "group" ? lead["count"].get<size_t>() : 1;
    EXPECT_LT(led, static_cast<size_t>(kMonitors))
        << "the first message left before the storm had fully arrived";
    const auto& body = hook.bodies[1].second;
    rest = kMonitors - led;
    EXPECT_EQ(body["event"], "group");
    EXPECT_EQ(body["count"], rest);
    EXPECT_EQ(body["counts"]["incident.opened"], rest);
    EXPECT_EQ(body["route"], "storm");
    EXPECT_EQ(body["status_url"].get<std::string>().rfind("http://127.0.0.1:", 0), 0u);
    EXPECT_EQ(hook.ids.size(), static_cast<size_t>(kMonitors)) << "every event keeps its own id";
    std::set<std::string> monitors;
    for (const auto& e : hook.events) {
      EXPECT_EQ(e["id"].get<std::string>().rfind("evt_", 0), 0u);
      EXPECT_EQ(e["incident"]["state"], "down");
      monitors.insert(e["incident"]["monitor"].get<std::string>());
    }
    EXPECT_EQ(monitors.size(), static_cast<size_t>(kMonitors));
    std::vector<std::string> order;
    for (const auto& e : body["events"]) order.push_back(e["incident"]["monitor"]);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "all down: by monitor name";
    EXPECT_GE(std::chrono::duration_cast<Ms>(hook.bodies[1].first - first_at).count(), 11'500)
        << "the rest gathered for group_wait after the first message";
  }

  // Email and SMS: the same two messages; the second counts the rest of the storm.
  ASSERT_TRUE(wait_until([&] { return smtp.messages().size() == 2; }, 20'000ms))
      << smtp.messages().size() << " emails";
  std::string mail;
  for (const auto& m : smtp.messages()) {
    if (m.find(fmt::format("Subject: [{} DOWN] api-", rest)) != std::string::npos) mail = m;
  }
  ASSERT_FALSE(mail.empty()) << "an email counts the rest of the storm";
  EXPECT_NE(mail.find(fmt::format(" and {} more\n", rest - 1)), std::string::npos)
      << mail.substr(0, 600);
  EXPECT_NE(mail.find(fmt::format("{} notifications of route \"storm\", worst first: {} DOWN.",
                                  rest, rest)),
            std::string::npos);
  EXPECT_NE(mail.find("acknowledge: http://127.0.0.1:"), std::string::npos);
  EXPECT_NE(mail.find(fmt::format("... and {} more: http://127.0.0.1:", rest - 100)),
            std::string::npos);
  const std::string sms_head = fmt::format("{} DOWN: api-", rest);
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(twilio.mu);
        return std::any_of(twilio.messages.begin(), twilio.messages.end(),
                           [&](auto& m) { return m["Body"].rfind(sms_head, 0) == 0; });
      },
      20'000ms));

  target.healthy = true;
  ASSERT_TRUE(wait_until([&] { return hook.count("incident.resolved") == kMonitors; }, 60'000ms))
      << hook.count("incident.resolved");
  {
    std::lock_guard lock(hook.mu);
    EXPECT_LE(hook.bodies.size(), 4u) << "the recoveries take at most two more messages";
    for (const auto& e : hook.events) {
      if (e["event"] != "incident.resolved") continue;
      const auto held = unix_ms(e["sent_at"]) - unix_ms(e["incident"]["resolved_at"]);
      // group_wait, and a store flush and a turn of the loop under the sanitizers.
      EXPECT_LE(held, 14'000) << "a resolution is never held back much longer than group_wait: "
                              << e.dump();
    }
  }
  ASSERT_TRUE(wait_until([&] { return smtp.messages().size() >= 3; }, 20'000ms));
  size_t resolved_mails = 0;
  for (const auto& m : smtp.messages()) {
    if (m.find(" RESOLVED] ") != std::string::npos ||
        m.find("Subject: [RESOLVED] ") != std::string::npos)
      ++resolved_mails;
  }
  EXPECT_TRUE(resolved_mails == 1 || resolved_mails == 2) << resolved_mails;
  EXPECT_EQ(hook.bad_signatures.load(), 0);
  // Each notification is counted and recorded as delivered, grouped or not.
  EXPECT_TRUE(wait_until(
      [&] {
        return metric_value(d.metrics(), "lookout_notifications_total",
                            "channel=\"oncall-sms\",outcome=\"delivered\"") == 2 * kMonitors &&
               metric_value(d.metrics(), "lookout_notifications_total",
                            "channel=\"ops-webhook\",outcome=\"delivered\"") == 2 * kMonitors;
      },
      10'000ms))
      << d.metrics();
  nlohmann::json incidents;
  EXPECT_TRUE(wait_until(
      [&] {
        incidents = nlohmann::json::parse(
            http_get(d.port(), "/api/v1/incidents?limit=1000").body)["incidents"];
        return std::all_of(incidents.begin(), incidents.end(), [](const auto& inc) {
          return std::all_of(inc["events"].begin(), inc["events"].end(),
                             [](const auto& e) { return e["outcome"] == "delivered"; });
        });
      },
      10'000ms));
  ASSERT_EQ(incidents.size(), static_cast<size_t>(kMonitors));
  for (const auto& inc : incidents) EXPECT_EQ(inc["events"].size(), 6u) << inc.dump();
}

// A route with no grouping keys: the default (leading, group_wait 30 s) sends a lone
// incident's first notification at once on every channel, not group_wait later.
TEST(LoneIncident, PagesAtOnceWithTheDefaultGrouping) {
  Peers p;
  auto& smtp = p.smtp;
  auto& hook = p.hook;
  auto& target = p.target;
  std::string config = p.config("1h");
  const std::string zero = "group_wait = \"0s\"\ngroup_interval = \"0s\"\n";
  ASSERT_NE(config.find(zero), std::string::npos);
  config.erase(config.find(zero), zero.size());
  Daemon d(p.dir, config, kServer, env_with_admin());
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
  const auto failed_at = std::chrono::steady_clock::now();
  target.healthy = false;
  ASSERT_TRUE(wait_until(
      [&] { return hook.count("incident.opened") == 1 && smtp.messages().size() == 1; }, 20'000ms));
  const auto took = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - failed_at);
  // Two failing runs 300 ms apart and a store flush; group_wait (30 s) would be far beyond.
  EXPECT_LT(took.count(), 10'000);
  EXPECT_EQ(hook.first("incident.opened")["incident"]["monitor"], "portal");
  EXPECT_NE(smtp.messages().front().find("Subject: [DOWN] portal: "), std::string::npos);
}

TEST(Alerting, AWebhookThatFailsDelaysButNeverLosesAndAKillLosesNothing) {
  Peers p;
  auto& smtp = p.smtp;
  auto& hook = p.hook;
  auto& target = p.target;
  hook.failing = true;
  Daemon d(p.dir, p.config("1h"), kServer, env_with_admin());
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
  target.healthy = false;
  ASSERT_TRUE(wait_until([&] { return !smtp.messages().empty(); }, 10'000ms))
      << "email still works while the webhook fails";
  // Let the webhook fail a few times, then kill the daemon in the middle of its retries.
  ASSERT_TRUE(wait_until(
      [&] {
        return metric_value(d.metrics(), "lookout_notifications_total",
                            "channel=\"ops-webhook\",outcome=\"retry\"") >= 2;
      },
      15'000ms));
  d.process().signal(SIGKILL);
  ASSERT_EQ(d.process().wait(5000ms), 128 + SIGKILL);

  std::set<std::string> stored;
  {
    sqlite3* db = nullptr;
    sqlite3_open_v2(d.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM outbox WHERE channel = 'ops-webhook'", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW)
      stored.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  ASSERT_FALSE(stored.empty());

  hook.failing = false;
  Daemon again(p.dir, p.config("1h"), kServer, env_with_admin());
  again.start();
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(hook.mu);
        return std::includes(hook.ids.begin(), hook.ids.end(), stored.begin(), stored.end());
      },
      20'000ms))
      << "an outbox row written before the kill never arrived";
  // Still down after the restart: the same incident continues, none is opened twice.
  std::this_thread::sleep_for(1000ms);
  EXPECT_EQ(hook.count("incident.opened"), 1u);
  const auto incidents =
      nlohmann::json::parse(http_get(again.port(), "/api/v1/incidents").body)["incidents"];
  EXPECT_EQ(incidents.size(), 1u);
}

TEST(Alerting, AFlappingTargetSendsOneNotificationThenQuiet) {
  Peers p;
  auto& hook = p.hook;
  auto& target = p.target;
  const auto env = env_with_admin();
  Daemon d(
      p.dir,
      p.config("1h", "fail_after = 1\nrecover_after = 1\nflap.window = 10\nflap.threshold = 4"),
      kServer, env);
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
  target.alternate = true;  // 200, 500, 200, 500, ...: the state flips on every run
  const int start = target.n.load();
  ASSERT_TRUE(wait_until([&] { return target.n.load() >= start + 30; }, 30'000ms));
  std::this_thread::sleep_for(500ms);  // let the last deliveries land
  size_t total;
  {
    std::lock_guard lock(hook.mu);
    total = hook.events.size();
  }
  // opened, resolved, opened again: then the guard trips and the monitor is flapping, quietly.
  EXPECT_LE(total, 4u) << "a bouncing target must not page on every bounce";
  EXPECT_GE(total, 1u);
  const auto open =
      nlohmann::json::parse(http_get(d.port(), "/api/v1/incidents?state=open").body)["incidents"];
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0]["flapping"], true);
}

TEST(Alerting, AlertTestReportsEachChannel) {
  TempDir dir;
  SmtpServer smtp(dir);
  WebhookReceiver hook;
  TwilioReceiver twilio;
  const auto env = env_with_admin();
  dir.write("c.toml",
            "[server]\npublic_url = \"https://status.test\"\n" +
                alerting_config(1, smtp.port(), hook.server.port(), twilio.server.port()));
  const auto ok = run_lookout({"alert-test", "-c", dir.file("c.toml")}, env);
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("ops-webhook"), std::string::npos);
  EXPECT_EQ(hook.count("test"), 1u);
  EXPECT_TRUE(hook.first("test")["incident"].is_null());
  EXPECT_EQ(twilio.size(), 1u);
  ASSERT_TRUE(wait_until([&] { return smtp.messages().size() == 1; }, 5000ms));
  EXPECT_NE(smtp.messages()[0].find("Subject: [TEST] lookout test notification"),
            std::string::npos);

  hook.failing = true;
  const auto bad = run_lookout({"alert-test", "-c", dir.file("c.toml"), "--route", "oncall"}, env);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("FAILED"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("HTTP 500"), std::string::npos) << bad.out;
  EXPECT_EQ(run_lookout({"alert-test", "-c", dir.file("c.toml"), "--route", "nope"}, env).code, 2);
}

}  // namespace
}  // namespace lookout::testing

namespace lookout::testing {
namespace {

std::string email_only(int smtp, const std::string& extra) {
  return fmt::format(R"([server]
public_url = "https://status.test"
[[channel]]
name = "mail"
type = "email"
smtp_url = "smtp://127.0.0.1:{}"
from = "lookout@test.example"
to = ["oncall@test.example"]
{}
[[route]]
name = "r"
notify = ["mail"]
)",
                     smtp, extra);
}

TEST(Email, AuthWithUsernameAndPassword) {
  TempDir dir;
  SmtpServer smtp(dir, {"alice:s3cret-pass", "", ""});
  dir.write(
      "ok.toml",
      email_only(smtp.port(),
                 "starttls = \"off\"\nusername = \"alice\"\npassword = \"${env:SMTP_PASS}\""));
  const auto ok =
      run_lookout({"alert-test", "-c", dir.file("ok.toml")}, {{"SMTP_PASS", "s3cret-pass"}});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  ASSERT_TRUE(wait_until([&] { return smtp.messages().size() == 1; }, 5000ms));
  EXPECT_NE(smtp.messages()[0].find("X-RcptTo: oncall@test.example"), std::string::npos);

  const auto wrong =
      run_lookout({"alert-test", "-c", dir.file("ok.toml")}, {{"SMTP_PASS", "wrong-pass"}});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.out.find("FAILED"), std::string::npos) << wrong.out;
  EXPECT_EQ(wrong.out.find("wrong-pass"), std::string::npos) << "the password never shows";
  EXPECT_EQ(smtp.messages().size(), 1u);
}

TEST(Email, StartTlsIsRequiredAndVerified) {
  TempDir dir;
  const Certs certs = make_certs(dir);
  SmtpServer smtp(dir, {"", certs.leaf_cert, certs.leaf_key});
  dir.write("tls.toml", email_only(smtp.port(), fmt::format("ca_file = \"{}\"", certs.ca_cert)));
  const auto ok = run_lookout({"alert-test", "-c", dir.file("tls.toml")});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  ASSERT_TRUE(wait_until([&] { return smtp.messages().size() == 1; }, 5000ms));
  // Without our CA the certificate is not trusted: nothing is sent in clear instead.
  dir.write("untrusted.toml", email_only(smtp.port(), ""));
  const auto untrusted = run_lookout({"alert-test", "-c", dir.file("untrusted.toml")});
  EXPECT_EQ(untrusted.code, 1) << untrusted.out;
  EXPECT_EQ(smtp.messages().size(), 1u);
}

}  // namespace
}  // namespace lookout::testing

namespace lookout::testing {
namespace {

TEST(Alerting, MaintenanceShowsAndSendsNothing) {
  Peers p;
  auto& smtp = p.smtp;
  auto& hook = p.hook;
  auto& target = p.target;
  target.healthy = false;
  const auto now = std::chrono::system_clock::now();
  const std::time_t started = std::chrono::system_clock::to_time_t(now - std::chrono::minutes(1));
  std::tm tm{};
  gmtime_r(&started, &tm);
  char start[32];
  std::strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
  const auto env = env_with_admin();
  Daemon d(p.dir,
           p.config() +
               fmt::format(
                   "\n[[maintenance]]\nmonitors = [\"port*\"]\nstart = \"{}\"\nduration = \"1h\"\n",
                   start),
           kServer, env);
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "maintenance"; }, 10'000ms));
  ASSERT_TRUE(wait_until(
      [&] {
        return metric_value(d.metrics(), "lookout_probe_runs_total", "monitor=\"portal\"") >= 6;
      },
      10'000ms));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(hook.events.empty());
  EXPECT_TRUE(smtp.messages().empty());
  EXPECT_EQ(nlohmann::json::parse(http_get(d.port(), "/api/v1/incidents").body)["incidents"].size(),
            0u);
  // The runs are stored with the maintenance flag.
  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(10'000ms), 0);
  sqlite3* db = nullptr;
  sqlite3_open_v2(d.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*), sum(maintenance) FROM results", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_GE(sqlite3_column_int(st, 0), 6);
  EXPECT_EQ(sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace lookout::testing
