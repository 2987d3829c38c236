// Heartbeat monitors with the real binary: pings over HTTP, a late job judged by its deadline,
// failures reported by the job, the token kept secret, and deadlines across kill -9.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr char kToken[] = "job-token-canary-5c1d9e";
constexpr char kAdmin[] = "admin-token-heartbeat-test";

std::string heartbeats(const std::string& period, const std::string& grace) {
  return fmt::format(R"([[monitor]]
name = "backup"
type = "heartbeat"
public = true
token = "{}"
period = "{}"
grace = "{}"
max_runtime = "1h"

[[monitor]]
name = "derived"
type = "heartbeat"
period = "1h"
)",
                     kToken, period, grace);
}

const std::string kServer = fmt::format(
    "public_url = \"https://status.test\"\nadmin_token = \"{}\"\nping_rate_limit = \"20/m\"\n",
    kAdmin);

HttpAnswer ping(int port, const std::string& path, const std::string& body = "") {
  httplib::Client c("127.0.0.1", port);
  const auto r = body.empty() ? c.Get(path) : c.Post(path, body, "text/plain");
  return r ? HttpAnswer{r->status, r->body, r->headers} : HttpAnswer{};
}

std::string state_of(const Daemon& d) { return d.monitor("backup").value("state", ""); }

TEST(Heartbeat, PingsSetTheStateALateJobGoesDownAndTheTokenStaysSecret) {
  TempDir dir;
  Daemon d(dir, heartbeats("2s", "1s"), kServer);
  d.start();
  EXPECT_EQ(state_of(d), "unknown") << "no ping yet, no deadline";
  EXPECT_EQ(ping(d.port(), "/ping/not-a-token-of-anyone-0000").status, 404);
  EXPECT_EQ(ping(d.port(), fmt::format("/ping/{}/bogus", kToken)).status, 404);

  auto a = ping(d.port(), fmt::format("/ping/{}", kToken));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "OK");
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));
  const auto m = d.monitor("backup");
  EXPECT_TRUE(m["last_ping"].is_string()) << m.dump();
  EXPECT_TRUE(m["next_due"].is_string()) << m.dump();

  // Nothing more: due 2 s after the ping, late 1 s after that.
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "down"; }, 8000ms));
  EXPECT_NE(d.monitor("backup")["cause"].get<std::string>().find("no ping since "),
            std::string::npos)
      << d.monitor("backup").dump();

  // The job says it failed: its first line is the cause.
  ping(d.port(), fmt::format("/ping/{}", kToken));
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));
  EXPECT_EQ(ping(d.port(), fmt::format("/ping/{}/fail", kToken), "disk full\nat /var").status, 200);
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "down"; }, 5000ms));
  EXPECT_EQ(d.monitor("backup")["cause"], "disk full");
  // The whole message is the admin's to read; a log message changes no state.
  const httplib::Headers admin{{"Authorization", fmt::format("Bearer {}", kAdmin)}};
  const auto message = [&] {
    return nlohmann::json::parse(http_get(d.port(), "/api/v1/monitors/backup", admin).body)
        .value("last_message", nlohmann::json::object())
        .value("text", "");
  };
  EXPECT_EQ(message(), "disk full\nat /var");
  EXPECT_EQ(nlohmann::json::parse(http_get(d.port(), "/api/v1/monitors/backup").body)
                .count("last_message"),
            0u);
  EXPECT_EQ(ping(d.port(), fmt::format("/ping/{}/log", kToken), "retrying in 5 min").status, 200);
  ASSERT_TRUE(wait_until([&] { return message() == "retrying in 5 min"; }, 5000ms));
  EXPECT_EQ(state_of(d), "down");
  ping(d.port(), fmt::format("/ping/{}/0", kToken));
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));
  ping(d.port(), fmt::format("/ping/{}/3", kToken));
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "down"; }, 5000ms));
  EXPECT_EQ(d.monitor("backup")["cause"], "the job exited with status 3");

  // The admin sees the ping URL; the derived token is the one `lookout ping-url` prints.
  auto one = http_get(d.port(), "/api/v1/monitors/backup", admin);
  EXPECT_EQ(nlohmann::json::parse(one.body)["ping_url"],
            fmt::format("https://status.test/ping/{}", kToken));
  EXPECT_EQ(
      nlohmann::json::parse(http_get(d.port(), "/api/v1/monitors/backup").body).count("ping_url"),
      0u)
      << "only the admin sees the token";
  const auto printed = run_lookout({"ping-url", "derived", "-c", d.config_path()});
  ASSERT_EQ(printed.code, 0) << printed.err;
  const std::string derived_path = printed.out.substr(std::string("https://status.test").size());
  ASSERT_EQ(derived_path.size(), std::string("/ping/\n").size() + 32) << printed.out;
  EXPECT_EQ(ping(d.port(), derived_path.substr(0, derived_path.size() - 1)).status, 200);
  ASSERT_TRUE(wait_until([&] { return d.monitor("derived", kAdmin)["state"] == "up"; }, 5000ms));

  // The token is the credential: never in a log, the page, the status or the metrics.
  const std::string token_part = derived_path.substr(6, 32);
  for (const std::string& text :
       {d.process().err(), d.process().out(), http_get(d.port(), "/").body,
        http_get(d.port(), "/api/v1/status", admin).body, d.metrics()}) {
    EXPECT_EQ(text.find(kToken), std::string::npos);
    EXPECT_EQ(text.find(token_part), std::string::npos);
  }
}

TEST(Heartbeat, PingsBeyondTheRateLimitAreRefused) {
  TempDir dir;
  Daemon d(dir, heartbeats("1h", "1m"), kServer);
  d.start();
  int refused = 0;
  std::string retry_after;
  for (int i = 0; i < 25; ++i) {
    const auto a = ping(d.port(), fmt::format("/ping/{}", kToken));
    if (a.status == 429) {
      ++refused;
      retry_after = a.headers.count("Retry-After") ? a.headers.find("Retry-After")->second : "";
    }
  }
  EXPECT_GE(refused, 4);
  EXPECT_LE(refused, 6);
  EXPECT_FALSE(retry_after.empty());
}

TEST(Heartbeat, AfterKill9AJobDueMeanwhileIsLateAtOnceAndOneThatPingedIsNot) {
  TempDir dir;
  {
    Daemon d(dir, heartbeats("3s", "1s"), kServer);
    d.start();
    ping(d.port(), fmt::format("/ping/{}", kToken));
    ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));
    // Stored within a second (the store's flush), then the process dies without a word.
    std::this_thread::sleep_for(600ms);
    d.process().signal(SIGKILL);
    d.process().wait(5000ms);
    // Restarted at once: the job is not due yet, so it stays up.
    Daemon again(dir, heartbeats("3s", "1s"), kServer);
    again.start();
    EXPECT_EQ(state_of(again), "up") << again.monitor("backup").dump();
    again.process().signal(SIGKILL);
    again.process().wait(5000ms);
  }
  // Down for longer than the period and grace: judged late as soon as it starts.
  std::this_thread::sleep_for(4500ms);
  Daemon late(dir, heartbeats("3s", "1s"), kServer);
  late.start();
  ASSERT_TRUE(wait_until([&] { return state_of(late) == "down"; }, 2000ms))
      << late.monitor("backup").dump();
  EXPECT_NE(late.monitor("backup")["cause"].get<std::string>().find("no ping since"),
            std::string::npos);
}

// lookout's own dead man's switch, pointed at a second lookout's heartbeat monitor: each
// watches the other, and a wedged one is noticed by its peer.
TEST(Heartbeat, TwoLookoutsWatchEachOther) {
  constexpr char kWatchToken[] = "watch-a-token-canary-7f3e21";
  TempDir dir_a, dir_b;
  Daemon b(dir_b,
           fmt::format(R"([[monitor]]
name = "lookout-a"
type = "heartbeat"
public = true
token = "{}"
period = "1s"
grace = "1s"
)",
                       kWatchToken),
           kServer);
  b.start();
  const auto state = [&] { return b.monitor("lookout-a").value("state", ""); };
  Daemon a(dir_a,
           fmt::format("[heartbeat]\nurl = \"http://127.0.0.1:{}/ping/{}\"\nevery = \"1s\"\n",
                       b.port(), kWatchToken),
           kServer);
  a.start();
  ASSERT_TRUE(wait_until([&] { return state() == "up"; }, 5000ms)) << b.monitor("lookout-a").dump();
  const auto last_success = [&] {
    const std::string m = a.metrics();
    const std::string name = "\nlookout_heartbeat_last_success_timestamp_seconds ";
    const auto at = m.find(name);
    return at == std::string::npos ? -1.0 : std::stod(m.substr(at + name.size()));
  };
  ASSERT_TRUE(wait_until([&] { return last_success() > 1.7e9; }, 5000ms)) << a.metrics();

  // Wedged (stopped, as a process that hangs): no request goes out, and the peer says so.
  a.process().signal(SIGSTOP);
  ASSERT_TRUE(wait_until([&] { return state() == "down"; }, 8000ms))
      << b.monitor("lookout-a").dump();
  EXPECT_NE(b.monitor("lookout-a")["cause"].get<std::string>().find("no ping since"),
            std::string::npos);
  a.process().signal(SIGCONT);
  ASSERT_TRUE(wait_until([&] { return state() == "up"; }, 5000ms));

  // The check's URL holds its token: never in a log or the metrics.
  for (const std::string& text : {a.process().err(), a.process().out(), a.metrics()})
    EXPECT_EQ(text.find(kWatchToken), std::string::npos);
}

}  // namespace
}  // namespace lookout::testing
