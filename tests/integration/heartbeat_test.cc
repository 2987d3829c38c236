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
    const auto m = nlohmann::json::parse(http_get(d.port(), "/api/v1/monitors/backup", admin).body);
    return m["last_message"].is_string() ? m["last_message"].get<std::string>() : "";
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

const httplib::Headers kAdminHeaders{{"Authorization", fmt::format("Bearer {}", kAdmin)}};

// The monitor as the admin sees it (GET /api/v1/monitors/backup).
nlohmann::json backup_for_admin(const Daemon& d) {
  return nlohmann::json::parse(http_get(d.port(), "/api/v1/monitors/backup", kAdminHeaders).body,
                               nullptr, false);
}

// The runs stored in the last hour.
int64_t runs_of_backup(const Daemon& d) {
  const auto h = nlohmann::json::parse(
      http_get(d.port(), "/api/v1/monitors/backup/history?window=1h&step=1h", kAdminHeaders).body,
      nullptr, false);
  int64_t n = 0;
  if (h.is_object()) {
    for (const auto& p : h["points"]) n += p.value("count", int64_t{0});
  }
  return n;
}

std::string pinged(const std::string& suffix) { return fmt::format("/ping/{}{}", kToken, suffix); }

// The paths of the contract one by one: a log message is no run, ?rid= pairs overlapping runs,
// /N is an exit status, the rate limit is per token and what it refuses changes nothing, and
// no ping (answered or refused) puts the token in the log.
TEST(Heartbeat, EachPingPathDoesWhatTheContractSays) {
  TempDir dir;
  Daemon d(dir, heartbeats("1h", "1m"), kServer);
  d.start();
  ASSERT_EQ(ping(d.port(), pinged("")).status, 200);
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));
  ASSERT_TRUE(wait_until([&] { return runs_of_backup(d) == 1; }, 5000ms));
  const std::string first_ping = d.monitor("backup")["last_ping"];
  const std::string due = d.monitor("backup")["next_due"];

  // A log message: kept as the last message, the last ping moves, and nothing else does.
  std::this_thread::sleep_for(20ms);
  const auto log = ping(d.port(), pinged("/log"), "rotated 3 files");
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.body, "OK");
  ASSERT_TRUE(wait_until(
      [&] {
        return backup_for_admin(d).value("last_message", nlohmann::json()) == "rotated 3 files";
      },
      5000ms))
      << backup_for_admin(d).dump();
  // /api/v1/status is rendered anew about once a second.
  EXPECT_TRUE(wait_until([&] { return d.monitor("backup")["last_ping"] != first_ping; }, 3000ms))
      << "a log message is a ping";
  EXPECT_EQ(d.monitor("backup")["next_due"], due) << "but not a success";
  EXPECT_EQ(state_of(d), "up");
  std::this_thread::sleep_for(1200ms);  // the store's flush
  EXPECT_EQ(runs_of_backup(d), 1) << "a log message is not a run";

  // ?rid= pairs each end with its own start when runs overlap.
  ASSERT_EQ(ping(d.port(), pinged("/start?rid=a")).status, 200);
  std::this_thread::sleep_for(1000ms);
  ASSERT_EQ(ping(d.port(), pinged("/start?rid=b")).status, 200);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(ping(d.port(), pinged("?rid=b")).status, 200);
  ASSERT_TRUE(wait_until([&] { return runs_of_backup(d) == 2; }, 5000ms));
  ASSERT_TRUE(wait_until([&] { return d.monitor("backup")["latency_ms"].is_number(); }, 3000ms));
  const double b_ms = d.monitor("backup")["latency_ms"];
  EXPECT_GE(b_ms, 250);
  EXPECT_LT(b_ms, 1000) << "b's run time, not a's";
  ASSERT_EQ(ping(d.port(), pinged("?rid=a")).status, 200);
  ASSERT_TRUE(wait_until([&] { return runs_of_backup(d) == 3; }, 5000ms));
  EXPECT_TRUE(wait_until(
      [&] {
        const auto ms = d.monitor("backup")["latency_ms"];
        return ms.is_number() && ms.get<double>() >= 1250;
      },
      3000ms))
      << "a's run time: " << d.monitor("backup").dump();

  // /N: the job's exit status, 0..255 and nothing else.
  ASSERT_EQ(ping(d.port(), pinged("/255")).status, 200);
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "down"; }, 5000ms));
  EXPECT_EQ(d.monitor("backup")["cause"], "the job exited with status 255");
  for (const char* bad : {"/256", "/007", "/-1", "/1x"}) {
    EXPECT_EQ(ping(d.port(), pinged(bad)).status, 404) << bad;
  }
  ASSERT_EQ(ping(d.port(), pinged("/0")).status, 200);
  ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));

  // An unknown token answers 404 like any unknown path.
  const auto unknown = ping(d.port(), "/ping/no-such-token-000000000000");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, http_get(d.port(), "/no/such/path").body);

  // The rate limit (20/m) is per token: once this token is refused, a failure it reports
  // changes nothing, and the other monitor's token still gets through.
  int refused = 0;
  HttpAnswer last;
  for (int i = 0; i < 25 && refused == 0; ++i) {
    last = ping(d.port(), pinged(""));
    if (last.status == 429) ++refused;
  }
  ASSERT_EQ(refused, 1);
  EXPECT_FALSE(last.headers.find("Retry-After") == last.headers.end());
  EXPECT_EQ(ping(d.port(), pinged("/fail"), "must not count").status, 429);
  const auto printed = run_lookout({"ping-url", "derived", "-c", d.config_path()});
  ASSERT_EQ(printed.code, 0) << printed.err;
  const std::string derived = printed.out.substr(std::string("https://status.test").size());
  EXPECT_EQ(ping(d.port(), derived.substr(0, derived.size() - 1)).status, 200)
      << "another token, another budget";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(state_of(d), "up") << "a refused ping changes nothing";
  EXPECT_NE(backup_for_admin(d).value("last_message", nlohmann::json()), "must not count");

  // However each was answered, no ping put the token in the log.
  const std::string log_text = d.process().err() + d.process().out();
  EXPECT_EQ(log_text.find(kToken), std::string::npos) << log_text;
}

// What a heartbeat knows survives kill -9: a job that started before it is judged by its
// max_runtime at once, the last ping is the real one, and the last message (made valid UTF-8
// as it arrived) is still there.
TEST(Heartbeat, AfterKill9ARunningJobPastMaxRuntimeIsLateAtOnceAndItsMessageRemains) {
  TempDir dir;
  const std::string config = fmt::format(R"([[monitor]]
name = "backup"
type = "heartbeat"
public = true
token = "{}"
period = "1h"
grace = "1m"
max_runtime = "2s"
)",
                                         kToken);
  std::string last_ping;
  {
    Daemon d(dir, config, kServer);
    d.start();
    ASSERT_EQ(ping(d.port(), pinged(""), "first run \xff\xfe ok\n").status, 200);
    ASSERT_TRUE(wait_until([&] { return state_of(d) == "up"; }, 5000ms));
    const auto m = backup_for_admin(d);
    ASSERT_TRUE(m.is_object()) << "the API answers JSON whatever bytes the job sent";
    EXPECT_EQ(m["last_message"], "first run \xEF\xBF\xBD\xEF\xBF\xBD ok\n") << m.dump();
    ASSERT_TRUE(wait_until([&] { return d.monitor("backup")["last_ping"].is_string(); }, 5000ms));
    const std::string success = d.monitor("backup")["last_ping"];
    ASSERT_EQ(ping(d.port(), pinged("/start")).status, 200);
    // /api/v1/status is rendered anew about once a second.
    ASSERT_TRUE(wait_until([&] { return d.monitor("backup")["last_ping"] != success; }, 5000ms));
    last_ping = d.monitor("backup")["last_ping"];
    std::this_thread::sleep_for(1200ms);  // stored within a second, then the process dies
    d.process().signal(SIGKILL);
    d.process().wait(5000ms);
  }
  std::this_thread::sleep_for(1500ms);  // the run is past its max_runtime of 2 s meanwhile
  Daemon again(dir, config, kServer);
  again.start();
  ASSERT_TRUE(wait_until([&] { return state_of(again) == "down"; }, 2000ms))
      << again.monitor("backup").dump();
  EXPECT_NE(again.monitor("backup")["cause"].get<std::string>().find(
                "did not finish within max_runtime 2s"),
            std::string::npos)
      << again.monitor("backup").dump();
  EXPECT_EQ(again.monitor("backup")["last_ping"], last_ping)
      << "the real last ping, not the time it was judged late";
  EXPECT_EQ(backup_for_admin(again)["last_message"], "first run \xEF\xBF\xBD\xEF\xBF\xBD ok\n");
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
