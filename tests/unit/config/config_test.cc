#include "config/config.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "config/channels/email_spec.h"
#include "config/channels/sms_spec.h"
#include "config/channels/webhook_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::fake_env;
using test::messages;

LoadResult parse(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/test.toml", fake_env(std::move(env)));
}

const char* kMinimal = R"(
[[monitor]]
name = "home"
type = "http"
url = "https://portal.test/login"
)";

TEST(Config, MinimalHttpMonitorGetsContractDefaults) {
  auto r = parse(kMinimal);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  const auto& m = r.config->monitors.at(0);
  EXPECT_EQ(m.name, "home");
  EXPECT_EQ(m.host, "portal.test:443");  // the max_per_host key: host and port
  EXPECT_EQ(m.interval, Duration{60'000});
  EXPECT_EQ(m.timeout, Duration{10'000});
  EXPECT_EQ(m.fail_after, 2);
  EXPECT_EQ(m.recover_after, 2);
  EXPECT_FALSE(m.is_public);
  EXPECT_EQ(m.spec_as<HttpSpec>().http.method, "GET");
  EXPECT_TRUE(m.spec_as<HttpSpec>().http.follow_redirects);
  EXPECT_EQ(m.spec_as<HttpSpec>().http.max_redirects, 10);
  EXPECT_EQ(m.spec_as<HttpSpec>().http.max_body, 1024u * 1024u);
  ASSERT_EQ(m.spec_as<HttpSpec>().expect.status.size(), 1u);
  EXPECT_EQ(m.spec_as<HttpSpec>().expect.status[0].lo, 200);
  EXPECT_EQ(m.spec_as<HttpSpec>().expect.status[0].hi, 299);
  EXPECT_EQ(r.config->scheduler.max_in_flight, 512u);
  EXPECT_EQ(r.config->scheduler.max_per_host, 16u);
}

TEST(Config, ServerTlsNeedsACertificateAndItsKeyBothReadable) {
  auto m =
      testing::PrintToString(messages(parse("[server]\ntls_cert = \"/nonexistent/cert.pem\"\n")));
  EXPECT_NE(m.find("test.toml:2:12: server.tls_cert and server.tls_key go together"),
            std::string::npos)
      << m;
  m = testing::PrintToString(
      messages(parse("[server]\ntls_cert = \"cert.pem\"\ntls_key = \"/nonexistent/key.pem\"\n")));
  EXPECT_NE(m.find("2:12: server.tls_cert /etc/lookout/cert.pem: cannot read it"),
            std::string::npos)
      << m;  // relative to the file
  EXPECT_NE(m.find("3:11: server.tls_key /nonexistent/key.pem: cannot read it"), std::string::npos)
      << m;
  // Any readable file that is no certificate is refused by name.
  m = testing::PrintToString(
      messages(parse("[server]\ntls_cert = \"/etc/passwd\"\ntls_key = \"/etc/passwd\"\n")));
  EXPECT_NE(m.find("server.tls_cert /etc/passwd is not a PEM certificate chain"), std::string::npos)
      << m;
}

TEST(Config, ServerGateLimitsHaveDefaultsAndErrorsAtTheirPlace) {
  auto r = parse(kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->server.max_connections_per_client, 32u);
  EXPECT_EQ(r.config->server.max_connections, 4096u);
  EXPECT_EQ(r.config->server.header_timeout, Duration{5000});
  EXPECT_EQ(r.config->server.body_timeout, Duration{10'000});
  r = parse(std::string("[server]\nmax_connections_per_client = 8\nmax_connections = 100\n"
                        "header_timeout = \"3s\"\nbody_timeout = \"1m\"\n") +
            kMinimal);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->server.max_connections_per_client, 8u);
  EXPECT_EQ(r.config->server.max_connections, 100u);
  EXPECT_EQ(r.config->server.header_timeout, Duration{3000});
  EXPECT_EQ(r.config->server.body_timeout, Duration{60'000});
  r = parse(std::string("[server]\nmax_connections_per_client = 0\nmax_connections = 1\n"
                        "header_timeout = \"100ms\"\nbody_timeout = 5\n") +
            kMinimal);
  ASSERT_FALSE(r.ok());
  const auto m = messages(r);
  ASSERT_EQ(m.size(), 4u) << testing::PrintToString(m);
  EXPECT_EQ(m[0],
            "/etc/lookout/test.toml:2:30: server.max_connections_per_client must be between 1 "
            "and 100000, not 0");
  EXPECT_EQ(m[1],
            "/etc/lookout/test.toml:3:19: server.max_connections must be between 16 and 1000000, "
            "not 1");
  EXPECT_EQ(m[2], "/etc/lookout/test.toml:4:18: server.header_timeout must be between 1s and 10m");
  EXPECT_EQ(m[3].rfind("/etc/lookout/test.toml:5:16: server.body_timeout must be a duration", 0),
            0u)
      << m[3];
}

TEST(Config, UnknownKeySuggestsTheKnownOne) {
  auto r = parse(R"([[monitor]]
name = "home"
type = "http"
url = "https://portal.test/"
intervall = "30s"
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(messages(r),
            std::vector<std::string>{"/etc/lookout/test.toml:5:1: unknown key \"intervall\" in "
                                     "http monitor \"home\"; did you mean \"interval\"?"});
}

TEST(Config, UnknownKeyInExpectAndSections) {
  auto r = parse(R"([server]
lisen = "127.0.0.1:1"
[[monitor]]
name = "home"
type = "http"
url = "https://portal.test/"
expect.bdy_contains = "x"
[alerts]
x = 1
)");
  ASSERT_FALSE(r.ok());
  auto m = messages(r);
  ASSERT_EQ(m.size(), 3u) << testing::PrintToString(m);
  EXPECT_EQ(
      m[0],
      "/etc/lookout/test.toml:2:1: unknown key \"lisen\" in [server]; did you mean \"listen\"?");
  EXPECT_EQ(m[1],
            "/etc/lookout/test.toml:7:8: unknown key \"bdy_contains\" in expect; did you mean "
            "\"body_contains\"?");
  EXPECT_EQ(m[2], "/etc/lookout/test.toml:8:2: unknown section \"alerts\"");
}

TEST(Config, WrongTypeBadDurationAndStatusOutOfRange) {
  auto r = parse(R"([[monitor]]
name = "home"
type = "http"
url = "https://portal.test/"
interval = 30
timeout = "5 s"
expect.status = [200, 600, "2xx", "7xx"]
public = "yes"
)");
  ASSERT_FALSE(r.ok());
  auto m = messages(r);
  ASSERT_EQ(m.size(), 5u) << testing::PrintToString(m);
  EXPECT_EQ(m[0],
            "/etc/lookout/test.toml:5:12: interval must be a duration string such as \"30s\", not "
            "an integer");
  EXPECT_EQ(m[1].rfind("/etc/lookout/test.toml:6:11: timeout: ", 0), 0u) << m[1];
  EXPECT_EQ(m[2], "/etc/lookout/test.toml:7:23: expect.status code 600 is outside 100-599");
  EXPECT_EQ(m[3],
            "/etc/lookout/test.toml:7:35: expect.status \"7xx\" is neither a code nor a class such "
            "as \"2xx\"");
  EXPECT_EQ(m[4], "/etc/lookout/test.toml:8:10: public must be true or false, not a string");
}

TEST(Config, DuplicateNameNamesTheFirst) {
  auto r = parse(R"([[monitor]]
name = "home"
type = "http"
url = "https://a.test/"
[[monitor]]
name = "home"
type = "http"
url = "https://b.test/"
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      messages(r),
      std::vector<std::string>{
          "/etc/lookout/test.toml:6:8: duplicate monitor name \"home\" (first defined at line 2)"});
}

TEST(Config, InvalidRegexUrlWithoutSchemeAndBadName) {
  auto r = parse(R"([[monitor]]
name = "Home Page"
type = "http"
url = "portal.test/login"
expect.body_regex = "v[0-9+"
)");
  ASSERT_FALSE(r.ok());
  auto m = messages(r);
  ASSERT_EQ(m.size(), 3u) << testing::PrintToString(m);
  EXPECT_EQ(
      m[0],
      "/etc/lookout/test.toml:2:8: monitor name \"Home Page\" may hold only a-z, 0-9, _ and -");
  EXPECT_EQ(m[1],
            "/etc/lookout/test.toml:4:7: url portal.test/login has no scheme; write it as "
            "https://host/path");
  EXPECT_EQ(
      m[2].rfind("/etc/lookout/test.toml:5:21: expect.body_regex is not a valid RE2 pattern: ", 0),
      0u)
      << m[2];
}

TEST(Config, TimeoutLongerThanIntervalIsRefused) {
  auto r = parse(R"([[monitor]]
name = "home"
type = "http"
url = "https://portal.test/"
interval = "5s"
timeout = "10s"
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(messages(r),
            std::vector<std::string>{"/etc/lookout/test.toml:6:11: monitor \"home\": timeout 10s "
                                     "is longer than its interval 5s; a run "
                                     "must end before the next is due"});
}

TEST(Config, TomlSyntaxErrorHasPosition) {
  auto r = parse("[[monitor]]\nname = \"home\nurl = 1\n");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[0].file, "/etc/lookout/test.toml");
}

TEST(Config, SecretsResolveAndNeverPrint) {
  const std::string canary = "canary-7f3a9c1e";
  auto r = parse(
      R"([server]
admin_token = "${env:ADMIN}"
[[monitor]]
name = "home"
type = "http"
url = "https://portal.test/${env:PATH_SECRET}/x"
headers = { Authorization = "Bearer ${env:TOKEN}", Accept = "text/html" }
)",
      {{"ADMIN", "admin-token-0123456789"}, {"PATH_SECRET", canary}, {"TOKEN", "tok-" + canary}});
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  const auto& m = r.config->monitors.at(0);
  EXPECT_EQ(m.spec_as<HttpSpec>().http.url.reveal(), "https://portal.test/" + canary + "/x");
  EXPECT_TRUE(m.spec_as<HttpSpec>().http.url.is_secret());
  EXPECT_EQ(fmt::format("{}", m.spec_as<HttpSpec>().http.url), "***");
  std::map<std::string, Secret> headers(m.spec_as<HttpSpec>().http.headers.begin(),
                                        m.spec_as<HttpSpec>().http.headers.end());
  std::ostringstream os;
  os << headers.at("Authorization");
  EXPECT_EQ(os.str(), "***");
  EXPECT_FALSE(headers.at("Accept").is_secret());
  EXPECT_EQ(r.config->redactor->apply("GET https://portal.test/" + canary + "/x failed"),
            "GET *** failed");
  EXPECT_EQ(r.config->redactor->apply("token tok-" + canary), "token ***");
  EXPECT_EQ(r.config->server.admin_token->reveal(), "admin-token-0123456789");
}

TEST(Config, MissingOrEmptySecretIsAnErrorThatHidesNothingItShouldNot) {
  auto r = parse(R"([[monitor]]
name = "home"
type = "http"
url = "https://portal.test/"
headers = { Authorization = "${env:NOPE}", X-Empty = "${env:EMPTY}", )"
                 R"(X-File = "${file:/nonexistent/secret}", X-Bad = "${vault:x}" }
)",
                 {{"EMPTY", ""}});
  ASSERT_FALSE(r.ok());
  auto m = messages(r);
  ASSERT_EQ(m.size(), 4u) << testing::PrintToString(m);
  EXPECT_NE(m[0].find("environment variable NOPE is not set"), std::string::npos) << m[0];
  EXPECT_NE(m[1].find("environment variable EMPTY is empty"), std::string::npos) << m[1];
  EXPECT_NE(m[2].find("cannot read secret file /nonexistent/secret"), std::string::npos) << m[2];
  EXPECT_NE(m[3].find("unknown reference \"${vault:x}\""), std::string::npos) << m[3];
}

TEST(Config, FileSecretStripsOneTrailingNewline) {
  char path[] = "/tmp/lookout-secret-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "s3cret-value\n";
  auto r = parse(fmt::format(R"([[monitor]]
name = "home"
type = "http"
url = "https://portal.test/"
body = "${{file:{}}}"
)",
                             path));
  std::remove(path);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->monitors[0].spec_as<HttpSpec>().http.body->reveal(), "s3cret-value");
}

TEST(Config, DefaultsMergeKeyByKeyInsideExpect) {
  auto r = parse(R"([defaults]
interval = "30s"
timeout = "5s"
public = true
expect.status = [200]
expect.max_latency = "800ms"
[[monitor]]
name = "a"
type = "http"
url = "https://a.test/"
expect.body_contains = "ok"
[[monitor]]
name = "b"
type = "http"
url = "https://b.test/"
interval = "10s"
expect.status = [401, 403]
)");
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  const auto& a = r.config->monitors[0];
  const auto& b = r.config->monitors[1];
  EXPECT_EQ(a.interval, Duration{30'000});
  EXPECT_TRUE(a.is_public);
  EXPECT_EQ(a.spec_as<HttpSpec>().expect.body_contains->reveal(), "ok");
  EXPECT_EQ(a.spec_as<HttpSpec>().expect.status, (std::vector<StatusRule>{{200, 200}}));
  EXPECT_EQ(*a.spec_as<HttpSpec>().expect.max_latency, Duration{800});
  EXPECT_EQ(b.interval, Duration{10'000});
  EXPECT_EQ(b.timeout, Duration{5'000});
  EXPECT_EQ(b.spec_as<HttpSpec>().expect.status, (std::vector<StatusRule>{{401, 401}, {403, 403}}));
  EXPECT_EQ(*b.spec_as<HttpSpec>().expect.max_latency, Duration{800});
}

TEST(Config, ExpectJsonPointersAreChecked) {
  auto r = parse(R"([[monitor]]
name = "a"
type = "http"
url = "https://a.test/"
expect.json = { "/status" = "ok", "/count" = 3, "bad" = 1 }
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(messages(r),
            std::vector<std::string>{"/etc/lookout/test.toml:5:49: expect.json key \"bad\" is not "
                                     "a JSON Pointer such as \"/status\""});
}

TEST(Config, TypesOfLaterIssuesAreNamedPlainly) {
  auto r = parse(R"([[monitor]]
name = "a"
type = "smtp"
)");
  ASSERT_FALSE(r.ok());
  // The kinds in the registry's order; more may follow.
  EXPECT_NE(messages(r)[0].find(
                "unknown monitor type \"smtp\"; use http, journey, cert, dns, latency, heartbeat"),
            std::string::npos)
      << messages(r)[0];
}

TEST(Config, ListenFormsAndRelativeStoragePath) {
  auto r = parse(R"([server]
listen = "[::1]:9090"
[storage]
path = "data/l.db"
keep_raw = "7d"
)");
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->server.listen_host, "::1");
  EXPECT_EQ(r.config->server.listen_port, 9090);
  EXPECT_EQ(r.config->storage.path, "/etc/lookout/data/l.db");
  EXPECT_EQ(r.config->storage.keep_raw, Duration{7LL * 86'400'000});
  auto bad = parse("[server]\nlisten = \"localhost\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.errors[0].line, 2);
  EXPECT_EQ(bad.errors[0].col, 10);
}

TEST(Config, EveryErrorIsCollectedNotJustTheFirst) {
  auto r = parse(R"([[monitor]]
name = "a"
type = "http"
[[monitor]]
name = "b"
type = "http"
url = "ftp://b.test/"
fail_after = 0
)");
  ASSERT_FALSE(r.ok());
  auto m = messages(r);
  ASSERT_EQ(m.size(), 3u) << testing::PrintToString(m);
  EXPECT_EQ(m[0], "/etc/lookout/test.toml:1:1: http monitor \"a\" has no url");
  EXPECT_EQ(m[1], "/etc/lookout/test.toml:7:7: url ftp://b.test/ must use http:// or https://");
  EXPECT_EQ(m[2], "/etc/lookout/test.toml:8:14: fail_after must be between 1 and 100, not 0");
}

TEST(Config, InsecureIsAWarningNotAnError) {
  auto r = parse(R"([[monitor]]
name = "a"
type = "http"
url = "https://a.test/"
insecure = true
)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].str(),
            "/etc/lookout/test.toml:5:12: warning: monitor \"a\" has insecure = true: its TLS "
            "certificates are not verified");
}

// A reload keeps a monitor's state only when nothing it runs with changed: the common keys,
// every key of its kind's spec (compared by the spec's own ==, no list to keep), and the values
// behind secret references.
TEST(Config, SameAsSeesEveryKeyOfTheKindAndSecretValues) {
  struct Case {
    const char* what;
    std::string toml;
    std::map<std::string, std::string> env;
    bool same;
  };
  const std::string http = "[[monitor]]\nname = \"m\"\ntype = \"http\"\nurl = \"${env:URL}\"\n";
  const std::string dns = "[[monitor]]\nname = \"m\"\ntype = \"dns\"\nquery = \"a.test\"\n";
  const std::string journey =
      "[[monitor]]\nname = \"m\"\ntype = \"journey\"\n[[monitor.step]]\nurl = "
      "\"https://a.test/\"\n";
  const std::map<std::string, std::string> env{{"URL", "https://a.test/x"}};
  const Case base_http{"http", http, env, true};
  const std::vector<std::pair<Case, Case>> pairs{
      {base_http, {"the same again", http, env, true}},
      {base_http, {"timeout", http + "timeout = \"3s\"\n", env, false}},
      {base_http, {"expect.status", http + "expect.status = 204\n", env, false}},
      {base_http, {"expect.body_regex", http + "expect.body_regex = \"ok\"\n", env, false}},
      {base_http, {"a secret's value", http, {{"URL", "https://a.test/y"}}, false}},
      {base_http, {"another kind", dns, env, false}},
      {{"dns", dns, {}, true}, {"record", dns + "record = \"MX\"\n", {}, false}},
      {{"journey", journey, {}, true},
       {"a step's expect", journey + "expect.status = 201\n", {}, false}},
      {{"journey", journey, {}, true}, {"the same journey", journey, {}, true}},
  };
  for (const auto& [a, b] : pairs) {
    auto ra = parse(a.toml, a.env);
    auto rb = parse(b.toml, b.env);
    ASSERT_TRUE(ra.ok() && rb.ok()) << a.what << " / " << b.what;
    EXPECT_EQ(ra.config->monitors[0].same_as(rb.config->monitors[0]), b.same)
        << a.what << " vs " << b.what;
  }
}

}  // namespace
}  // namespace lookout

namespace lookout {
namespace {

const char* kAlerting = R"([server]
public_url = "https://status.test"
[[monitor]]
name = "portal-home"
type = "http"
group = "Portal"
url = "https://portal.test/"
flap.window = 8
[[monitor]]
name = "other"
type = "http"
url = "https://other.test/"
routes = ["oncall"]
[[channel]]
name = "ops-email"
type = "email"
smtp_url = "smtp://127.0.0.1:2525"
starttls = "off"
username = "${env:SMTP_USER}"
password = "${env:SMTP_PASS}"
from = "lookout@test"
to = ["oncall@test"]
[[channel]]
name = "ops-webhook"
type = "webhook"
url = "https://hooks.test/lookout"
secret = "${env:HOOK_SECRET}"
[[channel]]
name = "oncall-sms"
type = "sms"
provider = "twilio"
url = "http://127.0.0.1:9/"
account = "AC123"
token = "${env:TWILIO_TOKEN}"
from = "+15550000"
to = ["+15550100"]
[[route]]
name = "oncall"
match = { group = "Portal" }
notify = ["ops-email", "ops-webhook"]
escalate = [ { after = "10m", notify = ["oncall-sms"] } ]
repeat = "1h"
[[maintenance]]
monitors = ["portal-*"]
start = "2026-12-01T02:00:00Z"
duration = "1h"
)";

const std::map<std::string, std::string> kAlertEnv{{"SMTP_USER", "u"},
                                                   {"SMTP_PASS", "p4ssword"},
                                                   {"HOOK_SECRET", "hook-secret-1"},
                                                   {"TWILIO_TOKEN", "tw-token-1"}};

TEST(AlertingConfig, ChannelsRoutesAndMaintenanceParse) {
  auto r = parse(kAlerting, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  const auto& c = *r.config;
  ASSERT_EQ(c.channels.size(), 3u);
  EXPECT_FALSE(c.channels[0].spec_as<EmailSpec>().starttls);
  EXPECT_TRUE(c.channels[0].spec_as<EmailSpec>().password->is_secret());
  EXPECT_EQ(c.channels[0].url.reveal(), "smtp://127.0.0.1:2525");
  EXPECT_EQ(c.channels[1].spec_as<WebhookSpec>().secret->reveal(), "hook-secret-1");
  EXPECT_EQ(c.channels[2].spec_as<SmsSpec>().provider, "twilio");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].escalate.at(0).after, Duration{600'000});
  EXPECT_EQ(*c.routes[0].repeat, Duration{3'600'000});
  EXPECT_TRUE(c.routes[0].on_resolve);
  EXPECT_EQ(c.routes[0].group_wait, Duration{30'000});
  EXPECT_EQ(c.routes[0].group_interval, Duration{300'000});
  EXPECT_EQ(c.monitors[0].flap_window, 8);
  EXPECT_EQ(c.monitors[0].flap_threshold, 4);
  ASSERT_EQ(c.maintenance.size(), 1u);
  EXPECT_EQ(c.maintenance[0].start, WallTime{std::chrono::seconds{1'796'090'400}});
  EXPECT_EQ(c.maintenance[0].duration, Duration{3'600'000});
  EXPECT_EQ(c.maintenance[0].monitors, std::vector<std::string>{"portal-*"});
  // "other" names the route but its group does not match: a warning, not an error.
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(r.errors[0].warning);
  EXPECT_NE(r.errors[0].message.find("monitor \"other\" is matched by no route"),
            std::string::npos);
}

TEST(AlertingConfig, ReferencesAreChecked) {
  std::string text = kAlerting;
  auto sub = [&text](const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
  };
  sub("notify = [\"ops-email\"", "notify = [\"ops-emial\"");
  sub("routes = [\"oncall\"]", "routes = [\"oncal\"]");
  sub("public_url = \"https://status.test\"", "title = \"t\"");
  auto r = parse(text, kAlertEnv);
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(m.find("route \\\"oncall\\\" notifies unknown channel \\\"ops-emial\\\"; did you mean "
                   "\\\"ops-email\\\"?"),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          "monitor \\\"other\\\" names unknown route \\\"oncal\\\"; did you mean \\\"oncall\\\"?"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("server.public_url is required once a channel exists"), std::string::npos) << m;
}

TEST(AlertingConfig, BadChannelValues) {
  auto r = parse(R"([server]
public_url = "https://status.test"
[[channel]]
name = "x"
type = "email"
smtp_url = "http://mail.test"
from = "a@test"
to = []
[[channel]]
name = "y"
type = "pager"
[[maintenance]]
monitors = ["*"]
start = "tomorrow"
duration = "1h"
)");
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(m.find("6:12: smtp_url http://mail.test must be a URL that starts with smtp:// or "
                   "smtps:// and names a host"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("8:6: to is empty"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown channel type \\\"pager\\\""), std::string::npos) << m;
  EXPECT_NE(m.find("start \\\"tomorrow\\\" is not an RFC 3339 time"), std::string::npos) << m;
}

TEST(AlertingConfig, GroupTimesAreDurationsWithinBounds) {
  std::string text = kAlerting;
  text.replace(text.find("repeat = \"1h\""), 13,
               "repeat = \"1h\"\ngroup_wait = \"0s\"\ngroup_interval = \"90s\"");
  auto r = parse(text, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->routes[0].group_wait, Duration{0});
  EXPECT_EQ(r.config->routes[0].group_interval, Duration{90'000});
  text = kAlerting;
  text.replace(text.find("repeat = \"1h\""), 13,
               "repeat = \"1h\"\ngroup_wait = \"2h\"\ngroup_interval = 5");
  r = parse(text, kAlertEnv);
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(m.find(":14: group_wait may be at most 1h"), std::string::npos) << m;
  EXPECT_NE(
      m.find(":18: group_interval must be a duration string such as \\\"30s\\\", not an integer"),
      std::string::npos)
      << m;
}

TEST(Config, ExpectedTextsMayBeSecretsWhileNamesMayNot) {
  const std::map<std::string, std::string> env{
      {"WANT", "build-7f3a"}, {"HOST", "mail.test"}, {"NAME", "home"}};
  auto r = parse(R"([[monitor]]
name = "a"
type = "http"
url = "https://a.test/"
expect.body_contains = "${env:WANT}"
expect.body_regex = "${env:WANT}-[0-9]+"
expect.headers = { X-Build = "${env:WANT}" }
[[monitor]]
name = "c"
type = "cert"
host = "${env:HOST}"
)",
                 env);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  const auto& a = r.config->monitors[0];
  EXPECT_EQ(a.spec_as<HttpSpec>().expect.body_contains->reveal(), "build-7f3a");
  EXPECT_TRUE(a.spec_as<HttpSpec>().expect.body_contains->is_secret());
  EXPECT_TRUE(a.spec_as<HttpSpec>().expect.body_regex_secret);
  EXPECT_TRUE(a.spec_as<HttpSpec>().expect.headers[0].second.is_secret());
  EXPECT_EQ(r.config->monitors[1].spec_as<CertSpec>().cert.host, "mail.test");
  // lookout rewrites a name (lower case, no trailing dot): that form is masked too.
  auto q = parse("[[monitor]]\nname = \"d\"\ntype = \"dns\"\nquery = \"${env:Q}\"\n",
                 {{"Q", "DB.Internal.test."}});
  ASSERT_TRUE(q.ok()) << testing::PrintToString(messages(q));
  EXPECT_EQ(q.config->redactor->apply("NXDOMAIN: db.internal.test does not exist"),
            "NXDOMAIN: *** does not exist");
  // A name is what every page, metric and alert shows: it cannot be hidden.
  r = parse("[[monitor]]\nname = \"${env:NAME}\"\ntype = \"http\"\nurl = \"https://a.test/\"\n",
            env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(messages(r)[0].find("test.toml:2:8: name cannot come from ${env:...} or ${file:...}"),
            std::string::npos)
      << messages(r)[0];
}

// A reference error points at the value that names nothing, not at the table around it.
TEST(AlertingConfig, ReferenceErrorsNameTheLineAndColumnOfTheValue) {
  std::string text = kAlerting;
  auto swap = [&](const std::string& from, const std::string& to) {
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
  };
  swap("notify = [\"ops-email\", \"ops-webhook\"]", "notify = [\"ops-email\", \"nope\"]");
  swap("notify = [\"oncall-sms\"]", "notify = [\"oncall-smss\"]");
  swap("routes = [\"oncall\"]", "routes = [\"nowhere\"]");
  swap("monitors = [\"portal-*\"]", "monitors = [\"portal-*\", \"othr\", \"gone-*\"]");
  auto r = parse(text, kAlertEnv);
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(m.find("test.toml:40:24: route \\\"oncall\\\" notifies unknown channel \\\"nope\\\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:41:41: route \\\"oncall\\\" notifies unknown channel "
                   "\\\"oncall-smss\\\"; did you mean \\\"oncall-sms\\\"?"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:13:11: monitor \\\"other\\\" names unknown route \\\"nowhere\\\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:44:25: maintenance names unknown monitor \\\"othr\\\"; did you mean "
                   "\\\"other\\\"?"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:44:33: warning: maintenance glob \\\"gone-*\\\" matches no monitor"),
            std::string::npos)
      << m;
}

// Where a list is expected, a single value may stand alone.
TEST(AlertingConfig, ASingleValueStandsForAListOfOne) {
  std::string text = kAlerting;
  auto swap = [&](const std::string& from, const std::string& to) {
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
  };
  swap("notify = [\"ops-email\", \"ops-webhook\"]", "notify = \"ops-email\"");
  swap("routes = [\"oncall\"]", "routes = \"oncall\"\nexpect.status = 204");
  swap("group = \"Portal\"", "group = \"Portal\"\nexpect.status = \"3xx\"");
  auto r = parse(text, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->routes[0].notify, (std::vector<std::string>{"ops-email"}));
  EXPECT_EQ(*r.config->monitors[1].routes, (std::vector<std::string>{"oncall"}));
  EXPECT_EQ(r.config->monitors[1].spec_as<HttpSpec>().expect.status,
            (std::vector<StatusRule>{{204, 204}}));
  EXPECT_EQ(r.config->monitors[0].spec_as<HttpSpec>().expect.status,
            (std::vector<StatusRule>{{300, 399}}));
  swap("expect.status = 204", "expect.status = true");
  r = parse(text, kAlertEnv);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(testing::PrintToString(messages(r))
                .find("expect.status entries are integers (200) or classes (\\\"2xx\\\")"),
            std::string::npos)
      << testing::PrintToString(messages(r));
}

// A word from a fixed list: the error names every word.
TEST(Config, AWordOutsideItsListNamesTheWords) {
  auto r = parse(
      "[[monitor]]\nname = \"d\"\ntype = \"dns\"\nquery = \"a.test\"\ncheck = \"spam\"\non_change "
      "= \"maybe\"\n");
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(
      m.find("test.toml:5:9: check \\\"spam\\\" is not \\\"spf\\\", \\\"dmarc\\\" or \\\"dkim\\\""),
      std::string::npos)
      << m;
  EXPECT_NE(
      m.find("test.toml:6:13: on_change \\\"maybe\\\" is not \\\"alert\\\" or \\\"ignore\\\""),
      std::string::npos)
      << m;
}

TEST(AlertingConfig, GroupModeIsLeadingUnlessAlertmanagerIsAsked) {
  auto r = parse(kAlerting, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->routes[0].group_mode, GroupMode::kLeading);
  std::string text = kAlerting;
  text.replace(text.find("repeat = \"1h\""), 13, "repeat = \"1h\"\ngroup_mode = \"alertmanager\"");
  r = parse(text, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->routes[0].group_mode, GroupMode::kAlertmanager);
  text = kAlerting;
  text.replace(text.find("repeat = \"1h\""), 13, "repeat = \"1h\"\ngroup_mode = \"trailing\"");
  r = parse(text, kAlertEnv);
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(
      m.find(":14: group_mode \\\"trailing\\\" is not \\\"leading\\\" or \\\"alertmanager\\\""),
      std::string::npos)
      << m;
}

TEST(AlertingConfig, OnPostIsOffUnlessTheRouteAsks) {
  auto r = parse(kAlerting, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_FALSE(r.config->routes[0].on_post);
  std::string text = kAlerting;
  text.replace(text.find("repeat = \"1h\""), 13, "repeat = \"1h\"\non_post = true");
  r = parse(text, kAlertEnv);
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_TRUE(r.config->routes[0].on_post);
  text = kAlerting;
  text.replace(text.find("repeat = \"1h\""), 13, "repeat = \"1h\"\non_post = \"yes\"");
  r = parse(text, kAlertEnv);
  ASSERT_FALSE(r.ok());
  const auto m = testing::PrintToString(messages(r));
  EXPECT_NE(m.find("test.toml:43:11: "), std::string::npos) << m;
  EXPECT_NE(m.find("on_post"), std::string::npos) << m;
}

// Found by fuzzing: a year the clock cannot hold overflowed, and a short offset read past the text.
TEST(AlertingConfig, MaintenanceTimesOutOfRangeOrMalformedAreErrors) {
  for (const char* start : {"1013-12-01T02:00:00Z", "2400-01-01T00:00:00Z",
                            "2026-12-01T02:00:00+1:2", "2026-12-01T02:00:00+25:00"}) {
    const auto r = parse(fmt::format(
        "[[maintenance]]\nmonitors = [\"*\"]\nstart = \"{}\"\nduration = \"1h\"\n", start));
    ASSERT_FALSE(r.ok()) << start;
    EXPECT_NE(testing::PrintToString(messages(r)).find("is not an RFC 3339 time"),
              std::string::npos)
        << start;
  }
  EXPECT_TRUE(parse("[[maintenance]]\nmonitors = [\"*\"]\nstart = "
                    "\"2026-12-01T02:00:00+05:30\"\nduration = \"1h\"\n")
                  .ok());
}

TEST(Config, HeartbeatUrlIsASecretAndEveryDefaultsToAMinute) {
  auto r = parse(std::string(kMinimal) +
                 "[heartbeat]\nurl = \"https://hc-ping.test/5f0e-canary-uuid\"\n");
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  ASSERT_TRUE(r.config->heartbeat);
  EXPECT_EQ(r.config->heartbeat->url.reveal(), "https://hc-ping.test/5f0e-canary-uuid");
  EXPECT_TRUE(r.config->heartbeat->url.is_secret()) << "its token is in it, even inline";
  EXPECT_EQ(r.config->heartbeat->every, Duration{60'000});
  EXPECT_EQ(r.config->redactor->apply("GET https://hc-ping.test/5f0e-canary-uuid"), "GET ***");
  ASSERT_EQ(r.inline_secrets.size(), 1u);

  r = parse(std::string(kMinimal) + "[heartbeat]\nurl = \"${env:DEADMAN}\"\nevery = \"30s\"\n",
            {{"DEADMAN", "http://127.0.0.1:9/ping/abc"}});
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->heartbeat->every, Duration{30'000});
  EXPECT_FALSE(parse(kMinimal).config->heartbeat) << "no [heartbeat], no requests";
}

TEST(Config, HeartbeatErrorsNameWhere) {
  auto r = parse(std::string(kMinimal) + "[heartbeat]\nevery = \"1m\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(testing::PrintToString(messages(r)).find("test.toml:6:1: [heartbeat] needs url"),
            std::string::npos)
      << testing::PrintToString(messages(r));
  r = parse(std::string(kMinimal) + "[heartbeat]\nurl = \"hc-ping.test/x\"\nevery = \"100ms\"\n");
  ASSERT_FALSE(r.ok());
  const std::string all = testing::PrintToString(messages(r));
  EXPECT_NE(all.find("test.toml:7:7: heartbeat.url *** must be a URL that starts with https:// "
                     "or http://"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("test.toml:8:9: heartbeat.every must be at least 1s"), std::string::npos)
      << all;
  r = parse(std::string(kMinimal) + "[heartbeat]\nurl = \"https://x.test/\"\nevry = \"1m\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(testing::PrintToString(messages(r)).find("evry"), std::string::npos);
}

}  // namespace
}  // namespace lookout
