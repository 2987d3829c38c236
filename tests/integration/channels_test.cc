// The on-call and chat channels end to end: the real binary against ProviderServer, which
// speaks each provider's wire format and refuses what the provider would refuse. Test
// messages of every type, one incident's events through every type, Retry-After and the
// providers' own hints, a kill -9 in the middle of retries, and credentials that must never
// show anywhere lookout writes or serves.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <sstream>

#include "core/digest.h"
#include "tests/integration/harness.h"
#include "tests/integration/providers.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {
namespace {

using nlohmann::json;
using P = Provider;

const std::string kAdmin = "admin-token-0123456789abcdef";
const std::string kPagerDutyWebhookSecret = "pdWebhookCanary4Rt7Yu1Io3";
const std::string kCause = "expected status 2xx, got 500";

const std::vector<P> kAll{P::kPagerDuty, P::kOpsgenie,     P::kSlack,  P::kTeams,
                          P::kDiscord,   P::kTelegram,     P::kMatrix, P::kNtfy,
                          P::kPushover,  P::kAlertmanager, P::kGotify};
// The types that send one readable message per event.
const std::vector<P> kChat{P::kSlack,  P::kTeams, P::kDiscord, P::kTelegram,
                           P::kMatrix, P::kNtfy,  P::kGotify};

std::string channel(P p) { return std::string("to-") + name(p); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// What a request says, to look for words and links in it: its JSON written again (so no
// escaped slashes), else its body, then its form fields and the headers ntfy reads.
std::string said(const ProviderRequest& r) {
  const json j = r.json();
  std::string out = j.is_discarded() ? r.body : j.dump();
  for (const auto& [k, v] : r.params) out += fmt::format("\n{}={}", k, v);
  for (const char* h : {"Title", "Tags", "Click", "Actions", "Priority"}) {
    if (!r.header(h).empty()) out += fmt::format("\n{}: {}", h, r.header_text(h));
  }
  return out;
}

// Milliseconds since the epoch of an RFC 3339 time, with or without fractions.
int64_t unix_ms(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  const int n = std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
  EXPECT_GE(n, 6) << t;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (n == 7 ? ms : 0);
}

// Whether an Alertmanager alert says when it ended (null reads as absent, as in Go).
bool ends(const json& alert) { return alert.value("endsAt", json()).is_string(); }

int64_t gap_ms(const ProviderRequest& a, const ProviderRequest& b) {
  return std::chrono::duration_cast<Ms>(b.at - a.at).count();
}

// A target whose health the test switches.
struct Target {
  std::atomic<bool> healthy{true};
  TargetServer server;
  Target() {
    server.routes().Get("/app", [this](const httplib::Request&, httplib::Response& res) {
      res.status = healthy ? 200 : 500;
      res.set_content(healthy ? "ok" : "broken", "text/plain");
    });
    server.start();
  }
};

// Credentials in each provider's format that ProviderServer refuses, each a canary of its own.
ProviderSecrets wrong_secrets() {
  ProviderSecrets w;
  w.pagerduty_routing_key = "WrongKeyCanaryPd00000000000000x1";
  w.opsgenie_api_key = "wrong000-c4na-4f1b-9e8d-0psgenieWrong";
  w.slack_secret = "slackWrongPath0Canary00000";
  w.teams_sig = "teamsWrongSig0Canary00000";
  w.discord_token = "discordWrongTok0Canary0000";
  w.telegram_token = "7310045221:AAtelegramWrong00Canary000000000000";
  w.matrix_token = "syt_bWF0cml4_matrixWrongTok_0Canary";
  w.ntfy_token = "tk_ntfyWrong0Canary000000000000";
  w.pushover_user = "uPushoverWrongUserCanary000000";
  w.alertmanager_password = "amWrongPassw0rdCanary00";
  w.gotify_token = "AgotifyWrong00X";
  return w;
}

// The environment of a config from channels_toml(): `as` are the credentials lookout is given
// (the server's own, or wrong_secrets()).
std::map<std::string, std::string> env_for(const ProviderServer& ps, const ProviderSecrets& as) {
  return {{"ADMIN", kAdmin},
          {"PD_WEBHOOK_SECRET", kPagerDutyWebhookSecret},
          {"OPSGENIE_KEY", as.opsgenie_api_key},
          {"DISCORD_URL", replaced(ps.discord_url(), ps.secrets().discord_token, as.discord_token)},
          {"TELEGRAM_TOKEN", as.telegram_token},
          {"MATRIX_TOKEN", as.matrix_token},
          {"NTFY_TOKEN", as.ntfy_token},
          {"PUSHOVER_TOKEN", as.pushover_token},
          {"PUSHOVER_USER", as.pushover_user},
          {"AM_PASSWORD", as.alertmanager_password},
          {"GOTIFY_TOKEN", as.gotify_token}};
}

// One channel of each type, named "to-TYPE" and pointing at `ps`. The PagerDuty routing key
// and the Slack and Teams URLs are written inline (masked however written), the others come
// from the environment env_for() makes.
std::string channels_toml(const ProviderServer& ps, const ProviderSecrets& as) {
  const auto& own = ps.secrets();
  return fmt::format(
      R"(
[[channel]]
name = "to-pagerduty"
type = "pagerduty"
url = "{base}"
routing_key = "{routing_key}"
webhook_secret = "${{env:PD_WEBHOOK_SECRET}}"

[[channel]]
name = "to-opsgenie"
type = "opsgenie"
url = "{base}"
api_key = "${{env:OPSGENIE_KEY}}"
responders = ["team:sre"]

[[channel]]
name = "to-slack"
type = "slack"
url = "{slack}"

[[channel]]
name = "to-teams"
type = "teams"
url = "{teams}"

[[channel]]
name = "to-discord"
type = "discord"
url = "${{env:DISCORD_URL}}"

[[channel]]
name = "to-telegram"
type = "telegram"
url = "{base}"
bot_token = "${{env:TELEGRAM_TOKEN}}"
chat_id = "{chat}"

[[channel]]
name = "to-matrix"
type = "matrix"
url = "{base}"
access_token = "${{env:MATRIX_TOKEN}}"
room_id = "{room}"

[[channel]]
name = "to-ntfy"
type = "ntfy"
url = "{ntfy}"
token = "${{env:NTFY_TOKEN}}"

[[channel]]
name = "to-pushover"
type = "pushover"
url = "{base}"
token = "${{env:PUSHOVER_TOKEN}}"
user = "${{env:PUSHOVER_USER}}"

[[channel]]
name = "to-alertmanager"
type = "alertmanager"
url = "{base}"
username = "{am_user}"
password = "${{env:AM_PASSWORD}}"

[[channel]]
name = "to-gotify"
type = "gotify"
url = "{base}"
token = "${{env:GOTIFY_TOKEN}}"
)",
      fmt::arg("base", ps.base()), fmt::arg("routing_key", as.pagerduty_routing_key),
      fmt::arg("slack", replaced(ps.slack_url(), own.slack_secret, as.slack_secret)),
      fmt::arg("teams", replaced(ps.teams_url(), own.teams_sig, as.teams_sig)),
      fmt::arg("chat", as.telegram_chat), fmt::arg("room", as.matrix_room),
      fmt::arg("ntfy", ps.ntfy_url()), fmt::arg("am_user", as.alertmanager_user));
}

std::string route_toml(const std::vector<P>& to, const std::string& extra_channels = "") {
  std::string names;
  for (P p : to) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", channel(p));
  return fmt::format(R"(
[[route]]
name = "oncall"
notify = [{}{}]
# Each notification alone and at once: these tests follow one event at a time.
group_wait = "0s"
group_interval = "0s"
)",
                     names, extra_channels);
}

std::string monitor_toml(int target_port) {
  return fmt::format(R"([[monitor]]
name = "portal"
type = "http"
group = "Portal"
public = true
url = "http://127.0.0.1:{}/app"
interval = "300ms"
timeout = "250ms"
fail_after = 2
recover_after = 2
)",
                     target_port);
}

const std::string kServer =
    "public_url = \"http://127.0.0.1:@PORT@\"\nadmin_token = \"${env:ADMIN}\"";

json incidents(const Daemon& d, const std::string& query = "") {
  const auto a =
      http_get(d.port(), "/api/v1/incidents" + query, {{"Authorization", "Bearer " + kAdmin}});
  const auto j = json::parse(a.body, nullptr, false);
  return j.is_object() ? j["incidents"] : json::array();
}

// The id of the notification of `event` to `channel_name` of the only incident ("" if none).
std::string notification_id(const Daemon& d, const std::string& channel_name,
                            const std::string& event) {
  const auto all = incidents(d);
  if (all.size() != 1) return "";
  for (const auto& e : all[0]["events"]) {
    if (e["event"] == event && e["channel"] == channel_name && e["id"].is_string()) return e["id"];
  }
  return "";
}

bool all_delivered(const Daemon& d, size_t events) {
  const auto all = incidents(d);
  size_t n = 0;
  for (const auto& inc : all) {
    for (const auto& e : inc["events"]) {
      if (e["channel"].is_null()) continue;
      if (e["outcome"] != "delivered") return false;
      ++n;
    }
  }
  return n >= events;
}

// Every request a provider got was taken: a wrong shape or credential is a failed test.
void expect_all_accepted(const ProviderServer& ps, P p) {
  for (const auto& r : ps.requests(p)) {
    EXPECT_TRUE(r.accepted()) << name(p) << ": " << r.method << " " << r.path << " answered "
                              << r.status << " " << r.answer << "\nrequest: " << r.body;
  }
}

// The line `lookout alert-test` printed for a channel.
std::string report_line(const std::string& out, const std::string& channel_name) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(channel_name + " ", 0) == 0) return line;
  }
  return "";
}

// --- a. `lookout alert-test` through every type ----------------------------------------------

TEST(Channels, AlertTestDeliversThroughEveryType) {
  TempDir dir;
  ProviderServer ps;
  dir.write("c.toml", "[server]\npublic_url = \"https://status.test\"\n" + monitor_toml(1) +
                          channels_toml(ps, ps.secrets()) + route_toml(kAll));
  const auto r = run_lookout({"alert-test", "-c", dir.file("c.toml")}, env_for(ps, ps.secrets()));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  for (P p : kAll) {
    const std::string line = report_line(r.out, channel(p));
    EXPECT_TRUE(has(line, " delivered ")) << name(p) << ": " << (line.empty() ? r.out : line);
    expect_all_accepted(ps, p);
  }
  EXPECT_EQ(ps.count(P::kUnmatched), 0u) << ps.requests(P::kUnmatched)[0].target;
  const auto& s = ps.secrets();

  // PagerDuty: a trigger and a resolve of one key, lookout-test-<event id>.
  const auto pd = ps.accepted(P::kPagerDuty);
  ASSERT_EQ(pd.size(), 2u);
  const auto trigger = pd[0].json();
  const auto resolve = pd[1].json();
  EXPECT_EQ(trigger["routing_key"], s.pagerduty_routing_key);
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_EQ(trigger["dedup_key"].get<std::string>().rfind("lookout-test-evt_", 0), 0u)
      << trigger.dump();
  EXPECT_EQ(resolve["dedup_key"], trigger["dedup_key"]);
  EXPECT_TRUE(has(lower(trigger["payload"]["summary"]), "test")) << trigger.dump();

  const auto og = ps.accepted(P::kOpsgenie);
  ASSERT_GE(og.size(), 1u);
  EXPECT_EQ(og[0].path, "/v2/alerts");
  EXPECT_EQ(og[0].header("Authorization"), "GenieKey " + s.opsgenie_api_key);
  EXPECT_TRUE(has(lower(og[0].json()["message"]), "test")) << og[0].body;
  EXPECT_EQ(og[0].json()["responders"], json::parse(R"([{"type":"team","name":"sre"}])"))
      << og[0].body;

  const auto slack = ps.accepted(P::kSlack);
  ASSERT_EQ(slack.size(), 1u);
  EXPECT_TRUE(has(lower(slack[0].json()["text"]), "test")) << slack[0].body;
  EXPECT_TRUE(slack[0].json()["blocks"].is_array()) << slack[0].body;

  const auto teams = ps.accepted(P::kTeams);
  ASSERT_EQ(teams.size(), 1u);
  EXPECT_EQ(teams[0].json()["attachments"][0]["content"]["version"], "1.4");
  EXPECT_TRUE(has(lower(said(teams[0])), "test")) << teams[0].body;

  const auto discord = ps.accepted(P::kDiscord);
  ASSERT_EQ(discord.size(), 1u);
  EXPECT_TRUE(has(lower(discord[0].json()["embeds"][0].dump()), "test")) << discord[0].body;

  const auto tg = ps.accepted(P::kTelegram);
  ASSERT_EQ(tg.size(), 1u);
  EXPECT_EQ(tg[0].path, "/bot" + s.telegram_token + "/sendMessage");
  EXPECT_EQ(tg[0].json()["parse_mode"], "HTML") << tg[0].body;
  EXPECT_TRUE(has(lower(tg[0].json()["text"]), "test")) << tg[0].body;

  const auto mx = ps.accepted(P::kMatrix);
  ASSERT_EQ(mx.size(), 1u);
  EXPECT_EQ(mx[0].method, "PUT");
  EXPECT_EQ(mx[0].header("Authorization"), "Bearer " + s.matrix_token);
  EXPECT_TRUE(has(mx[0].target, "/rooms/%21lookoutRoom%3Alocalhost/send/m.room.message/evt_"))
      << "the room id percent-encoded, the event id as transaction id: " << mx[0].target;
  EXPECT_EQ(mx[0].json()["msgtype"], "m.text");
  EXPECT_EQ(mx[0].json()["format"], "org.matrix.custom.html");
  EXPECT_TRUE(mx[0].json()["formatted_body"].is_string());
  EXPECT_TRUE(has(lower(mx[0].json()["body"]), "test")) << mx[0].body;

  const auto ntfy = ps.accepted(P::kNtfy);
  ASSERT_EQ(ntfy.size(), 1u);
  EXPECT_EQ(ntfy[0].header("Authorization"), "Bearer " + s.ntfy_token);
  EXPECT_FALSE(ntfy[0].header("Title").empty());
  EXPECT_TRUE(has(lower(ntfy[0].body + ntfy[0].header_text("Title")), "test")) << ntfy[0].body;

  const auto po = ps.accepted(P::kPushover);
  ASSERT_GE(po.size(), 1u);
  EXPECT_EQ(po[0].path, "/1/messages.json");
  EXPECT_TRUE(has(lower(po[0].param("message") + po[0].param("title")), "test")) << said(po[0]);
  EXPECT_TRUE(po[0].param("priority").empty() || po[0].param("priority") == "0")
      << "a test does not ring until acknowledged: " << said(po[0]);

  const auto am = ps.accepted(P::kAlertmanager);
  ASSERT_GE(am.size(), 1u);
  EXPECT_EQ(am[0].header("Authorization"),
            "Basic " + base64(s.alertmanager_user + ":" + s.alertmanager_password));
  EXPECT_TRUE(has(lower(am[0].body), "test")) << am[0].body;

  const auto gotify = ps.accepted(P::kGotify);
  ASSERT_EQ(gotify.size(), 1u);
  EXPECT_EQ(gotify[0].header("X-Gotify-Key"), s.gotify_token);
  EXPECT_TRUE(has(lower(said(gotify[0])), "test")) << gotify[0].body;

  for (const auto& secret : ps.credentials()) {
    EXPECT_FALSE(has(r.out + r.err, secret)) << "alert-test printed a credential: " << secret;
  }
}

// A refused credential is a failure that names the channel, and is not shown either.
TEST(Channels, AlertTestWithWrongCredentialsFailsNamingEachChannel) {
  TempDir dir;
  ProviderServer ps;
  const ProviderSecrets wrong = wrong_secrets();
  dir.write("c.toml", "[server]\npublic_url = \"https://status.test\"\n" + monitor_toml(1) +
                          channels_toml(ps, wrong) + route_toml(kAll));
  const auto r = run_lookout({"alert-test", "-c", dir.file("c.toml")}, env_for(ps, wrong));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  for (P p : kAll) {
    const std::string line = report_line(r.out, channel(p));
    EXPECT_TRUE(has(line, "FAILED")) << name(p) << ": " << (line.empty() ? r.out : line);
    EXPECT_EQ(ps.accepted(p).size(), 0u) << name(p);
  }
  for (const auto& secret :
       {wrong.pagerduty_routing_key, wrong.opsgenie_api_key, wrong.slack_secret, wrong.teams_sig,
        wrong.discord_token, wrong.telegram_token, wrong.matrix_token, wrong.ntfy_token,
        wrong.pushover_user, wrong.alertmanager_password, wrong.gotify_token}) {
    EXPECT_FALSE(has(r.out + r.err, secret)) << "alert-test printed a credential: " << secret;
  }
}

// --- b. One incident through every type ------------------------------------------------------

TEST(Channels, AnIncidentOpensIsAcknowledgedAndResolvesOnEveryType) {
  TempDir dir;
  ProviderServer ps;
  Target target;
  const auto env = env_for(ps, ps.secrets());
  Daemon d(dir,
           monitor_toml(target.server.port()) + channels_toml(ps, ps.secrets()) + route_toml(kAll),
           kServer, env);
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));

  target.healthy = false;
  ASSERT_TRUE(wait_until(
      [&] {
        return std::all_of(kAll.begin(), kAll.end(), [&](P p) { return !ps.accepted(p).empty(); });
      },
      20'000ms))
      << "not every type delivered the opening";
  const auto open = incidents(d, "?state=open");
  ASSERT_EQ(open.size(), 1u);
  const int64_t id = open[0]["id"];
  const std::string key = fmt::format("lookout-{}", id);
  const std::string ack_link = fmt::format("http://127.0.0.1:{}/ack/", d.port());
  const std::string monitor_link = fmt::format("http://127.0.0.1:{}/monitor/portal", d.port());

  {  // PagerDuty: a critical trigger of lookout-<incident id>.
    const auto e = ps.accepted(P::kPagerDuty)[0].json();
    EXPECT_EQ(e["event_action"], "trigger");
    EXPECT_EQ(e["dedup_key"], key);
    EXPECT_EQ(e["payload"]["source"], "portal");
    EXPECT_EQ(e["payload"]["severity"], "critical");
    EXPECT_TRUE(e["payload"]["timestamp"].is_string()) << e.dump();
    EXPECT_TRUE(has(e.dump(), kCause)) << e.dump();
    EXPECT_TRUE(e["links"].is_array() && !e["links"].empty()) << e.dump();
  }
  {  // Opsgenie: an alert with the alias lookout-<incident id>.
    const auto r = ps.accepted(P::kOpsgenie)[0];
    EXPECT_EQ(r.path, "/v2/alerts");
    EXPECT_EQ(r.json()["alias"], key);
    EXPECT_TRUE(has(r.json()["message"], "portal")) << r.body;
  }
  {  // Matrix: the notification's id is the transaction id.
    const std::string txn = notification_id(d, channel(P::kMatrix), "incident.opened");
    ASSERT_FALSE(txn.empty());
    EXPECT_EQ(
        ps.accepted(P::kMatrix)[0].path,
        "/_matrix/client/v3/rooms/" + ps.secrets().matrix_room + "/send/m.room.message/" + txn);
  }
  {  // Pushover: down is an emergency that rings until acknowledged.
    const auto r = ps.accepted(P::kPushover)[0];
    EXPECT_EQ(r.param("priority"), "2") << said(r);
    EXPECT_EQ(r.param("retry"), "60");
    EXPECT_EQ(r.param("expire"), "3600");
  }
  const std::string receipt =
      nlohmann::json::parse(ps.accepted(P::kPushover)[0].answer).value("receipt", "");
  {  // Alertmanager: a firing alert, no endsAt.
    const auto a = ps.accepted(P::kAlertmanager)[0].json();
    ASSERT_TRUE(a.is_array() && a.size() == 1) << a.dump();
    EXPECT_EQ(a[0]["labels"]["alertname"], "LookoutMonitorDown");
    EXPECT_EQ(a[0]["labels"]["monitor"], "portal");
    EXPECT_EQ(a[0]["labels"]["group"], "Portal");
    EXPECT_EQ(a[0]["labels"]["type"], "http");
    EXPECT_EQ(a[0]["annotations"]["cause"], kCause);
    EXPECT_TRUE(has(a[0]["annotations"].value("ack_url", ""), ack_link)) << a.dump();
    EXPECT_EQ(a[0]["generatorURL"], monitor_link);
    EXPECT_FALSE(ends(a[0])) << "endsAt is absent while open: " << a.dump();
  }
  for (P p : kChat) {
    const std::string text = said(ps.accepted(p)[0]);
    EXPECT_TRUE(has(text, "portal")) << name(p) << ": " << text;
    EXPECT_TRUE(has(text, kCause)) << name(p) << ": " << text;
    EXPECT_TRUE(has(text, ack_link)) << name(p) << " carries the ack link: " << text;
  }
  EXPECT_EQ(ps.accepted(P::kNtfy)[0].header("Priority"), "5");
  EXPECT_EQ(ps.accepted(P::kNtfy)[0].header("Click"), monitor_link);
  EXPECT_TRUE(has(ps.accepted(P::kNtfy)[0].header("Actions"), ack_link));

  // Acknowledged through the API.
  httplib::Client cli("127.0.0.1", d.port());
  const auto acked = cli.Post(fmt::format("/api/v1/incidents/{}/ack", id),
                              {{"Authorization", "Bearer " + kAdmin}}, "", "application/json");
  ASSERT_TRUE(acked);
  ASSERT_EQ(acked->status, 200) << acked->body;
  ASSERT_TRUE(wait_until(
      [&] {
        const bool chats = std::all_of(kChat.begin(), kChat.end(),
                                       [&](P p) { return ps.accepted(p).size() >= 2; });
        return chats && ps.accepted(P::kPagerDuty).size() >= 2 &&
               ps.accepted(P::kOpsgenie).size() >= 2 &&
               (receipt.empty() || ps.pushover_cancelled(receipt));
      },
      20'000ms))
      << "not every type took the acknowledgement";
  {
    const auto e = ps.accepted(P::kPagerDuty)[1].json();
    EXPECT_EQ(e["event_action"], "acknowledge");
    EXPECT_EQ(e["dedup_key"], key);
    const auto r = ps.accepted(P::kOpsgenie)[1];
    EXPECT_EQ(r.path, "/v2/alerts/" + key + "/acknowledge");
    EXPECT_EQ(r.param("identifierType"), "alias");
  }
  EXPECT_FALSE(receipt.empty()) << "Pushover answered the emergency with a receipt";
  EXPECT_TRUE(ps.pushover_cancelled(receipt)) << "acknowledged in lookout: no more ringing";
  for (P p : kChat) {
    const std::string text = said(ps.accepted(p)[1]);
    EXPECT_TRUE(has(text, "portal")) << name(p) << ": " << text;
    EXPECT_TRUE(has(text, monitor_link)) << name(p) << ": " << text;
  }
  EXPECT_EQ(ps.accepted(P::kNtfy)[1].header("Priority"), "3");

  target.healthy = true;
  ASSERT_TRUE(wait_until(
      [&] {
        const bool chats = std::all_of(kChat.begin(), kChat.end(),
                                       [&](P p) { return ps.accepted(p).size() >= 3; });
        // The resolved rows exist once any resolution went out; all delivered includes
        // Alertmanager's resolving post.
        return chats && ps.accepted(P::kPagerDuty).size() >= 3 &&
               ps.accepted(P::kOpsgenie).size() >= 3 && all_delivered(d, 1);
      },
      20'000ms))
      << "not every type took the resolution";
  const auto resolved = incidents(d);
  ASSERT_EQ(resolved.size(), 1u);
  ASSERT_TRUE(resolved[0]["resolved_at"].is_string());
  {
    const auto pd = ps.accepted(P::kPagerDuty);
    ASSERT_EQ(pd.size(), 3u) << "trigger, acknowledge, resolve: nothing more";
    EXPECT_EQ(pd[2].json()["event_action"], "resolve");
    EXPECT_EQ(pd[2].json()["dedup_key"], key);
    const auto og = ps.accepted(P::kOpsgenie);
    ASSERT_EQ(og.size(), 3u) << "create, acknowledge, close: nothing more";
    EXPECT_EQ(og[2].path, "/v2/alerts/" + key + "/close");
    EXPECT_EQ(og[2].param("identifierType"), "alias");
  }
  {  // Alertmanager: firing posts without endsAt, then one resolving post with the same labels;
     // each post carries one alert, and the acknowledgement sent nothing (Alertmanager has none).
    const auto am = ps.accepted(P::kAlertmanager);
    for (const auto& r : am) EXPECT_EQ(r.json().size(), 1u) << "one alert a post: " << r.body;
    const auto firing = am[0].json()[0];
    for (size_t i = 0; i + 1 < am.size(); ++i) {
      EXPECT_FALSE(ends(am[i].json()[0])) << am[i].body;
      EXPECT_EQ(am[i].json()[0]["labels"], firing["labels"]);
      EXPECT_EQ(am[i].json()[0]["annotations"], firing["annotations"])
          << "nothing about the acknowledgement reached Alertmanager: " << am[i].body;
    }
    const auto last = am.back().json()[0];
    ASSERT_TRUE(ends(last)) << am.back().body;
    EXPECT_EQ(last["labels"], firing["labels"]) << "the resolving post repeats the labels exactly";
    EXPECT_LE(std::abs(unix_ms(last["endsAt"]) - unix_ms(resolved[0]["resolved_at"])), 1000)
        << last.dump() << " vs " << resolved[0]["resolved_at"];
  }
  for (P p : kChat) {
    ASSERT_EQ(ps.accepted(p).size(), 3u) << name(p) << ": opened, acknowledged, resolved";
    const std::string text = said(ps.accepted(p)[2]);
    EXPECT_TRUE(has(text, "portal")) << name(p) << ": " << text;
    EXPECT_TRUE(has(text, monitor_link)) << name(p) << ": " << text;
  }
  EXPECT_EQ(ps.accepted(P::kNtfy)[2].header("Priority"), "3");
  {  // Matrix: three messages, each under its own notification id.
    const auto room = ps.matrix_room();
    ASSERT_EQ(room.size(), 3u);
    EXPECT_EQ(room[0].txn_id, notification_id(d, channel(P::kMatrix), "incident.opened"));
    EXPECT_EQ(room[1].txn_id, notification_id(d, channel(P::kMatrix), "incident.acknowledged"));
    EXPECT_EQ(room[2].txn_id, notification_id(d, channel(P::kMatrix), "incident.resolved"));
  }
  for (P p : kAll) expect_all_accepted(ps, p);
  EXPECT_EQ(ps.count(P::kUnmatched), 0u);
}

// A Pushover channel "to-pushover" on `ps` that asks for the acknowledgement callback.
std::string pushover_with_callback_toml(const ProviderServer& ps) {
  return fmt::format(R"(
[[channel]]
name = "to-pushover"
type = "pushover"
url = "{}"
token = "${{env:PUSHOVER_TOKEN}}"
user = "${{env:PUSHOVER_USER}}"
callback = true
)",
                     ps.base());
}

// --- c. Acknowledged where the page rang ----------------------------------------------------

TEST(Channels, AnAcknowledgementInPagerDutyOrPushoverAcknowledgesTheIncident) {
  TempDir dir;
  ProviderServer ps;
  Target target, other;
  const auto env = env_for(ps, ps.secrets());
  const std::string channels = fmt::format(R"(
[[channel]]
name = "to-pagerduty"
type = "pagerduty"
url = "{base}"
routing_key = "{key}"
webhook_secret = "${{env:PD_WEBHOOK_SECRET}}"

)",
                                           fmt::arg("base", ps.base()),
                                           fmt::arg("key", ps.secrets().pagerduty_routing_key)) +
                               pushover_with_callback_toml(ps);
  const std::string monitors = monitor_toml(target.server.port()) +
                               replaced(monitor_toml(other.server.port()), "\"portal\"", "\"api\"");
  Daemon d(dir, monitors + channels + route_toml({P::kPagerDuty, P::kPushover}), kServer, env);
  d.start();
  // One incident at a time: a storm would go to Pushover as one digest, which no single
  // acknowledgement answers.
  const auto open_id = [&](const std::string& monitor) -> int64_t {
    for (const auto& i : incidents(d, "?state=open"))
      if (i["monitor"] == monitor) return i["id"];
    return 0;
  };
  const auto acked_by = [&](const std::string& monitor) {
    for (const auto& i : incidents(d, "?state=open"))
      if (i["monitor"] == monitor && i["acknowledged_by"].is_string()) return i["acknowledged_by"];
    return json();
  };
  target.healthy = false;
  ASSERT_TRUE(wait_until([&] { return ps.accepted(P::kPagerDuty).size() == 1; }, 20'000ms));
  std::map<std::string, int64_t> ids{{"portal", open_id("portal")}};
  ASSERT_GT(ids["portal"], 0);
  httplib::Client cli("127.0.0.1", d.port());

  // PagerDuty's v3 webhook: an incident acknowledged there, signed with the webhook secret.
  const std::string body = json{{"event",
                                 {{"id", "01DEN3TWM06BRMXMHM87Q31ZQE"},
                                  {"event_type", "incident.acknowledged"},
                                  {"resource_type", "incident"},
                                  {"occurred_at", "2026-12-05T10:00:00.000Z"},
                                  {"data",
                                   {{"id", "PGR0VU2"},
                                    {"type", "incident"},
                                    {"incident_key", fmt::format("lookout-{}", ids["portal"])},
                                    {"status", "acknowledged"}}}}}}
                               .dump();
  const auto forged = cli.Post("/hooks/pagerduty",
                               {{"X-PagerDuty-Signature", "v1=" + hmac_sha256_hex("guess", body)}},
                               body, "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);
  EXPECT_TRUE(acked_by("portal").is_null()) << "a forged webhook acknowledges nothing";
  const auto signed_hook = cli.Post(
      "/hooks/pagerduty",
      {{"X-PagerDuty-Signature",
        "v1=0000, v1=" + hmac_sha256_hex(kPagerDutyWebhookSecret, body)}},  // rotation: two
      body, "application/json");
  ASSERT_TRUE(signed_hook);
  EXPECT_EQ(signed_hook->status, 200) << signed_hook->body;
  // Recorded like the ack link, whose effect it has: acknowledged_by is "link" or "api".
  ASSERT_TRUE(wait_until([&] { return !acked_by("portal").is_null(); }, 5000ms));
  EXPECT_EQ(acked_by("portal"), "link");

  // Pushover's receipt callback on the emergency of the next incident.
  other.healthy = false;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& r : ps.accepted(P::kPushover))
          if (has(r.param("title"), "api")) return true;
        return false;
      },
      20'000ms));
  std::string callback;
  for (const auto& r : ps.accepted(P::kPushover)) {
    if (has(r.param("title"), "api")) callback = r.param("callback");
  }
  const std::string prefix = fmt::format("http://127.0.0.1:{}/hooks/pushover/", d.port());
  ASSERT_EQ(callback.rfind(prefix, 0), 0u) << callback;
  const std::string path = callback.substr(prefix.size() - std::string("/hooks/pushover/").size());
  const auto bad = cli.Post("/hooks/pushover/1.1.not-a-signed-token", "acknowledged=1",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 404);
  const auto ack = cli.Post(path,
                            "receipt=rcpt1&acknowledged=1&acknowledged_at=1765000000&"
                            "acknowledged_by=uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->status, 200) << ack->body;
  ASSERT_TRUE(wait_until([&] { return !acked_by("api").is_null(); }, 5000ms));
  EXPECT_EQ(acked_by("api"), "link");
  // Acknowledged in Pushover, PagerDuty is told as every channel is.
  const std::string api_key = fmt::format("lookout-{}", open_id("api"));
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& r : ps.accepted(P::kPagerDuty)) {
          const auto e = r.json();
          if (e.value("event_action", "") == "acknowledge" && e.value("dedup_key", "") == api_key)
            return true;
        }
        return false;
      },
      10'000ms));
}

// A storm's emergency rings for several incidents; its callback acknowledges each of them.
TEST(Channels, AcknowledgingAGroupedPushoverEmergencyAcknowledgesEachIncident) {
  TempDir dir;
  ProviderServer ps;
  Target target, other;
  const std::string config = monitor_toml(target.server.port()) +
                             replaced(monitor_toml(other.server.port()), "\"portal\"", "\"api\"") +
                             pushover_with_callback_toml(ps) + R"(
[[route]]
name = "oncall"
notify = ["to-pushover"]
# Both incidents wait for company and go as one message, whichever opens first.
group_mode = "alertmanager"
group_wait = "3s"
group_interval = "3s"
)";
  Daemon d(dir, config, kServer, env_for(ps, ps.secrets()));
  d.start();
  ASSERT_TRUE(wait_until(
      [&] { return d.monitor("portal")["state"] == "up" && d.monitor("api")["state"] == "up"; },
      10'000ms));
  target.healthy = false;
  other.healthy = false;
  ASSERT_TRUE(wait_until([&] { return !ps.accepted(P::kPushover).empty(); }, 20'000ms));
  const auto r = ps.accepted(P::kPushover)[0];
  ASSERT_TRUE(has(r.param("title"), "2 DOWN")) << said(r) << "\nthe two went as one message";
  EXPECT_EQ(r.param("priority"), "2");
  const std::string callback = r.param("callback");
  const std::string prefix = fmt::format("http://127.0.0.1:{}", d.port());
  ASSERT_EQ(callback.rfind(prefix + "/hooks/pushover/", 0), 0u) << said(r);
  httplib::Client cli("127.0.0.1", d.port());
  const auto ack = cli.Post(callback.substr(prefix.size()),
                            "receipt=rcpt1&acknowledged=1&acknowledged_at=1765000000&"
                            "acknowledged_by=uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->status, 200) << ack->body;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto open = incidents(d, "?state=open");
        return open.size() == 2 && std::all_of(open.begin(), open.end(), [](const json& i) {
                 return i["acknowledged_by"] == "link";
               });
      },
      5000ms))
      << incidents(d).dump();
}

// --- d. Retry-After and the providers' own hints ---------------------------------------------

TEST(Channels, SlackRateLimitIsRetriedAfterRetryAfterAndDeliveredOnce) {
  TempDir dir;
  ProviderServer ps;
  Target target;
  ps.fail_next(P::kSlack, 1, {.status = 429, .retry_after_s = 2});
  Daemon d(dir,
           monitor_toml(target.server.port()) + channels_toml(ps, ps.secrets()) +
               route_toml({P::kSlack}),
           kServer, env_for(ps, ps.secrets()));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
  target.healthy = false;
  ASSERT_TRUE(wait_until([&] { return all_delivered(d, 1); }, 20'000ms));
  const auto all = ps.requests(P::kSlack);
  ASSERT_EQ(all.size(), 2u) << "the 429, then the message once";
  EXPECT_EQ(all[0].status, 429);
  EXPECT_TRUE(all[1].accepted());
  EXPECT_GE(gap_ms(all[0], all[1]), 1500) << "Retry-After: 2 was not honoured";
  EXPECT_EQ(ps.accepted(P::kSlack).size(), 1u);
}

// Telegram, Matrix and Discord, each refused once with `failure`: each is retried no sooner
// than `min_gap_ms` after and then delivered once.
void expect_hinted_retries(const ProviderServer::Failure& failure, int64_t min_gap_ms) {
  TempDir dir;
  ProviderServer ps;
  Target target;
  const std::vector<P> hinted{P::kTelegram, P::kMatrix, P::kDiscord};
  for (P p : hinted) ps.fail_next(p, 1, failure);
  Daemon d(
      dir,
      monitor_toml(target.server.port()) + channels_toml(ps, ps.secrets()) + route_toml(hinted),
      kServer, env_for(ps, ps.secrets()));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
  target.healthy = false;
  ASSERT_TRUE(wait_until([&] { return all_delivered(d, hinted.size()); }, 20'000ms));
  for (P p : hinted) {
    const auto all = ps.requests(p);
    ASSERT_EQ(all.size(), 2u) << name(p);
    EXPECT_EQ(all[0].status, 429) << name(p);
    EXPECT_TRUE(all[1].accepted()) << name(p);
    EXPECT_GE(gap_ms(all[0], all[1]), min_gap_ms) << name(p) << ": its retry came too soon";
  }
  EXPECT_EQ(ps.matrix_room().size(), 1u);
}

// Telegram (parameters.retry_after), Matrix (retry_after_ms) and Discord (retry_after) say when
// to come back in the body, without a Retry-After header.
TEST(Channels, ProviderHintsInTheBodyAreHonoured) {
  expect_hinted_retries({.status = 429, .retry_after_s = 2, .header = false}, 1500);
}

// A provider that sends both a Retry-After header and a longer hint in its body gets the
// longer wait: the header does not cut short what the body asked for.
TEST(Channels, TheLongerOfRetryAfterAndTheBodysHintIsHonoured) {
  expect_hinted_retries({.status = 429, .retry_after_s = 1, .hint_s = 4}, 3500);
}

// --- e. kill -9 in the middle of retries -----------------------------------------------------

TEST(Channels, AKillDuringRetriesKeepsTheDedupKeyAndTheTransactionId) {
  TempDir dir;
  ProviderServer ps;
  Target target;
  // PagerDuty is down; Matrix takes each message but the answer is lost on the way back.
  ps.fail_next(P::kPagerDuty, 1000, {.status = 503});
  ps.fail_next(P::kMatrix, 1000, {.status = 504, .after_processing = true});
  const std::string config = monitor_toml(target.server.port()) + channels_toml(ps, ps.secrets()) +
                             route_toml({P::kPagerDuty, P::kMatrix});
  const auto env = env_for(ps, ps.secrets());
  {
    Daemon d(dir, config, kServer, env);
    d.start();
    ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
    target.healthy = false;
    ASSERT_TRUE(wait_until(
        [&] { return ps.count(P::kPagerDuty) >= 2 && ps.count(P::kMatrix) >= 2; }, 20'000ms))
        << "no retries before the kill";
    d.process().signal(SIGKILL);
    ASSERT_EQ(d.process().wait(5000ms), 128 + SIGKILL);
  }
  const size_t pd_before = ps.count(P::kPagerDuty);
  const size_t mx_before = ps.count(P::kMatrix);
  ps.stop_failing(P::kPagerDuty);
  ps.stop_failing(P::kMatrix);

  Daemon again(dir, config, kServer, env);
  again.start();
  ASSERT_TRUE(wait_until(
      [&] {
        return !ps.accepted(P::kPagerDuty).empty() && !ps.accepted(P::kMatrix).empty() &&
               all_delivered(again, 2);
      },
      30'000ms))
      << "the notifications stored before the kill were not delivered after it";
  const auto open = incidents(again, "?state=open");
  ASSERT_EQ(open.size(), 1u) << "the restart continues the incident";
  const std::string key = fmt::format("lookout-{}", open[0]["id"].get<int64_t>());

  const auto pd = ps.requests(P::kPagerDuty);
  EXPECT_GT(pd.size(), pd_before) << "PagerDuty was tried again after the restart";
  for (const auto& r : pd) {
    EXPECT_EQ(r.json()["event_action"], "trigger") << r.body;
    EXPECT_EQ(r.json()["dedup_key"], key) << "every attempt, before and after the kill";
  }
  ASSERT_EQ(ps.accepted(P::kPagerDuty).size(), 1u);
  EXPECT_FALSE(ps.accepted(P::kPagerDuty)[0].duplicate);

  const auto mx = ps.requests(P::kMatrix);
  EXPECT_GT(mx.size(), mx_before) << "Matrix was tried again after the restart";
  const std::string txn = notification_id(again, channel(P::kMatrix), "incident.opened");
  ASSERT_FALSE(txn.empty());
  for (const auto& r : mx) EXPECT_EQ(r.path.substr(r.path.rfind('/') + 1), txn);
  EXPECT_TRUE(ps.accepted(P::kMatrix)[0].duplicate) << "the retry reused the transaction id";
  EXPECT_EQ(ps.matrix_room().size(), 1u) << "the room shows the message once";
}

// --- f. Credentials never show ---------------------------------------------------------------

TEST(Channels, CredentialsNeverShowInLogsPagesOrApi) {
  TempDir dir;
  ProviderServer ps;
  Target target;
  const auto env = env_for(ps, ps.secrets());
  // Beside the live channels: a refused routing key, and channels whose server is down, so
  // that failures, retries and their causes are logged too.
  const std::string refused_key = "RefusedKeyCanaryPd000000000000x2";
  const int dead = free_port();
  const std::string dead_slack_secret = "slackDeadCanaryPath5Rf8Tg2";
  const std::string dead_telegram = "5550001111:AAdeadTelegramCanary00000000000000";
  const std::string extra =
      fmt::format(R"(
[[channel]]
name = "refused-pagerduty"
type = "pagerduty"
url = "{}"
routing_key = "{}"

[[channel]]
name = "dead-slack"
type = "slack"
url = "http://127.0.0.1:{}/services/T0LOOKOUT/B0LOOKOUT/{}"

[[channel]]
name = "dead-telegram"
type = "telegram"
url = "http://127.0.0.1:{}"
bot_token = "{}"
chat_id = "-1001234567890"
)",
                  ps.base(), refused_key, dead, dead_slack_secret, dead, dead_telegram);
  ps.fail_next(P::kTelegram, 1, {.status = 429, .retry_after_s = 1});
  ps.fail_next(P::kGotify, 2, {.status = 503});
  ps.fail_next(P::kOpsgenie, 1, {.status = 500});
  Daemon d(dir,
           monitor_toml(target.server.port()) + channels_toml(ps, ps.secrets()) + extra +
               route_toml(kAll, ", \"refused-pagerduty\", \"dead-slack\", \"dead-telegram\""),
           kServer, env);
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));
  target.healthy = false;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = d.metrics();
        return std::all_of(kAll.begin(), kAll.end(),
                           [&](P p) { return !ps.accepted(p).empty(); }) &&
               metric_value(m, "lookout_notifications_total",
                            "channel=\"dead-telegram\",outcome=\"retry\"") >= 2 &&
               metric_value(m, "lookout_notifications_total",
                            "channel=\"dead-slack\",outcome=\"retry\"") >= 2;
      },
      30'000ms))
      << d.metrics();
  const auto open = incidents(d, "?state=open");
  ASSERT_EQ(open.size(), 1u);
  httplib::Client cli("127.0.0.1", d.port());
  const auto acked = cli.Post(fmt::format("/api/v1/incidents/{}/ack", open[0]["id"].get<int64_t>()),
                              {{"Authorization", "Bearer " + kAdmin}}, "", "application/json");
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->status, 200);
  target.healthy = true;
  ASSERT_TRUE(wait_until([&] { return ps.accepted(P::kPagerDuty).size() >= 3; }, 20'000ms));

  std::vector<std::string> secrets = ps.credentials();
  secrets.insert(secrets.end(),
                 {kPagerDutyWebhookSecret, refused_key, dead_slack_secret, dead_telegram});
  const httplib::Headers admin{{"Authorization", "Bearer " + kAdmin}};
  std::map<std::string, std::string> seen;
  for (const char* path : {"/api/v1/status", "/api/v1/incidents", "/metrics", "/",
                           "/monitor/portal", "/api/v1/monitors/portal"}) {
    seen[std::string("GET ") + path] = http_get(d.port(), path).body;
    seen[std::string("GET ") + path + " (admin)"] = http_get(d.port(), path, admin).body;
  }
  const auto test = run_lookout({"alert-test", "-c", d.config_path()}, env);
  seen["alert-test"] = test.out + test.err;
  const auto check = run_lookout({"check", "-c", d.config_path()}, env);
  seen["check"] = check.out + check.err;
  d.process().signal(SIGTERM);
  ASSERT_TRUE(d.process().wait(10'000ms).has_value());
  seen["daemon stdout"] = d.process().out();
  seen["daemon stderr"] = d.process().err();
  EXPECT_TRUE(has(seen["daemon stderr"] + seen["daemon stdout"], "dead-telegram"))
      << "the failing channels were logged";

  for (const auto& [where, text] : seen) {
    for (const auto& secret : secrets) {
      // The whole credential, and its last 12 characters (a credential cut short or with
      // its first characters masked still gives itself away by its end).
      EXPECT_FALSE(has(text, secret)) << secret << " shows in " << where;
      EXPECT_FALSE(has(text, secret.substr(secret.size() - 12)))
          << "the end of " << secret << " shows in " << where;
    }
  }
}

// --- g. Status-page posts on the routes that ask for them -------------------------------------

// A post and its resolving update through every type and two webhooks: the route with
// on_post hears of both (PagerDuty as change events that page nobody; Opsgenie and
// Alertmanager not at all), the route without it of neither.
TEST(Channels, APostAndItsUpdateReachTheRoutesThatAskForPosts) {
  TempDir dir;
  ProviderServer ps;
  Target target;
  test::HttpRecorder posts_hook({{200, ""}});
  test::HttpRecorder quiet_hook({{200, ""}});
  std::string names;
  for (P p : kAll) names += fmt::format("\"{}\", ", channel(p));
  const std::string config = fmt::format(R"(
[[channel]]
name = "posts-hook"
type = "webhook"
url = "{}/hook"

[[channel]]
name = "quiet-hook"
type = "webhook"
url = "{}/hook"

[[route]]
name = "posts"
notify = [{}"posts-hook"]
on_post = true
group_wait = "0s"
group_interval = "0s"

[[route]]
name = "quiet"
notify = ["quiet-hook"]
group_wait = "0s"
group_interval = "0s"
)",
                                         posts_hook.url(), quiet_hook.url(), names);
  const auto env = env_for(ps, ps.secrets());
  Daemon d(dir, monitor_toml(target.server.port()) + channels_toml(ps, ps.secrets()) + config,
           kServer, env);
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal")["state"] == "up"; }, 10'000ms));

  httplib::Client cli("127.0.0.1", d.port());
  const httplib::Headers admin{{"Authorization", "Bearer " + kAdmin}};
  const auto made = cli.Post("/api/v1/posts", admin,
                             json{{"title", "Database failover"},
                                  {"status", "investigating"},
                                  {"impact", "major"},
                                  {"body", "Replicas lag behind."},
                                  {"monitors", {"portal"}}}
                                 .dump(),
                             "application/json");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 201) << made->body;
  const int64_t id = json::parse(made->body)["id"];
  const std::string page = fmt::format("http://127.0.0.1:{}/posts/{}", d.port(), id);
  const std::vector<P> takers{P::kPagerDuty, P::kSlack, P::kTeams,    P::kDiscord, P::kTelegram,
                              P::kMatrix,    P::kNtfy,  P::kPushover, P::kGotify};
  const auto all_got = [&](size_t n) {
    return posts_hook.seen().size() >= n && std::all_of(takers.begin(), takers.end(), [&](P p) {
             return ps.accepted(p).size() >= n;
           });
  };
  ASSERT_TRUE(wait_until([&] { return all_got(1); }, 20'000ms)) << "not every type took the post";
  {
    const auto hook = posts_hook.seen().at(0);
    const json body = json::parse(hook.body);
    EXPECT_EQ(hook.header("X-Lookout-Event"), "incident.posted");
    EXPECT_EQ(hook.header("Idempotency-Key"), body["id"]);
    EXPECT_EQ(body["id"].get<std::string>().rfind("evt_", 0), 0u) << body.dump();
    EXPECT_EQ(body["event"], "incident.posted");
    EXPECT_TRUE(body["incident"].is_null());
    EXPECT_EQ(body["post"]["id"], id);
    EXPECT_EQ(body["post"]["title"], "Database failover");
    EXPECT_EQ(body["post"]["status"], "investigating");
    EXPECT_EQ(body["post"]["monitors"], json({"portal"}));
    EXPECT_EQ(body["post"]["url"], page);
    EXPECT_EQ(body["post"]["update"]["body"], "Replicas lag behind.");
  }
  for (P p : kChat) {
    const std::string text = said(ps.accepted(p)[0]);
    EXPECT_TRUE(has(text, "POST [major] Database failover: investigating"))
        << name(p) << ": " << text;
    EXPECT_TRUE(has(text, page)) << name(p) << ": " << text;
  }
  EXPECT_EQ(ps.accepted(P::kPushover)[0].param("priority"), "0") << "a post is no emergency";

  const auto updated =
      cli.Post(fmt::format("/api/v1/posts/{}/updates", id), admin,
               json{{"status", "resolved"}, {"body", "Fixed."}}.dump(), "application/json");
  ASSERT_TRUE(updated);
  ASSERT_EQ(updated->status, 201) << updated->body;
  ASSERT_TRUE(wait_until([&] { return all_got(2); }, 20'000ms)) << "not every type took the update";
  {
    const auto hook = posts_hook.seen().at(1);
    const json body = json::parse(hook.body);
    EXPECT_EQ(hook.header("X-Lookout-Event"), "incident.post_updated");
    EXPECT_EQ(hook.header("Idempotency-Key"), body["id"]);
    EXPECT_NE(body["id"], json::parse(posts_hook.seen().at(0).body)["id"]);
    EXPECT_EQ(body["post"]["status"], "resolved");
    EXPECT_TRUE(body["post"]["resolved_at"].is_string());
    EXPECT_EQ(body["post"]["update"]["body"], "Fixed.");
  }
  {  // PagerDuty: two change events, no alert event.
    const auto pd = ps.accepted(P::kPagerDuty);
    ASSERT_EQ(pd.size(), 2u);
    for (const auto& r : pd) {
      EXPECT_EQ(r.path, "/v2/change/enqueue") << r.body;
      EXPECT_FALSE(r.json().contains("event_action")) << r.body;
      EXPECT_EQ(r.json()["links"][0]["href"], page) << r.body;
    }
    EXPECT_EQ(pd[1].json()["payload"]["summary"], "POST RESOLVED [major] Database failover");
  }
  for (P p : kChat) {
    EXPECT_TRUE(has(said(ps.accepted(p)[1]), "POST RESOLVED [major] Database failover"))
        << name(p) << ": " << said(ps.accepted(p)[1]);
  }
  // Every notification of the route was delivered; nothing went elsewhere.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = d.metrics();
        return metric_value(m, "lookout_notifications_total",
                            "channel=\"posts-hook\",outcome=\"delivered\"") == 2;
      },
      5'000ms));
  EXPECT_TRUE(quiet_hook.seen().empty()) << "a route without on_post hears of no post";
  EXPECT_EQ(ps.count(P::kOpsgenie), 0u);
  EXPECT_EQ(ps.count(P::kAlertmanager), 0u);
  for (P p : takers) {
    EXPECT_EQ(ps.accepted(p).size(), 2u) << name(p);
    expect_all_accepted(ps, p);
  }
  EXPECT_EQ(ps.count(P::kUnmatched), 0u);
  const std::string log = d.process().err() + d.process().out();
  EXPECT_TRUE(has(log, "incident.posted of post 1 delivered through posts-hook")) << log;
}

}  // namespace
}  // namespace lookout::testing
