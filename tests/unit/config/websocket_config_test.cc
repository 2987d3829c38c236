// The websocket kind in the config: what it becomes, and every mistake as FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/kinds/websocket_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult websocket_config(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/k.toml", test::fake_env(std::move(env)));
}

TEST(WebSocketConfig, ParsesWithItsDefaults) {
  const auto r = websocket_config(R"toml(
[[monitor]]
name = "live"
type = "websocket"
url = "wss://Portal.Acme.Test/ws?room=1"
headers = { Origin = "https://portal.acme.test", Authorization = "${env:WS_TOKEN}" }
send = "ping"
expect.message_contains = "pong"

[[monitor]]
name = "plain"
type = "websocket"
url = "ws://127.0.0.1:8080"
expect.message_regex = "^pong$"
ca_file = "/etc/hostname"
)toml",
                                  {{"WS_TOKEN", "Bearer abc"}});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  const Config& c = *r.config;
  const auto& live = c.find("live")->spec_as<WebSocketSpec>();
  EXPECT_TRUE(live.tls);
  EXPECT_EQ(live.authority, "portal.acme.test:443");
  EXPECT_EQ(live.host_header, "portal.acme.test");
  EXPECT_EQ(live.target, "/ws?room=1");
  ASSERT_EQ(live.headers.size(), 2u);
  EXPECT_EQ(live.headers[0].first, "Authorization");
  EXPECT_TRUE(live.headers[0].second.is_secret());
  EXPECT_EQ(live.headers[1].second.reveal(), "https://portal.acme.test");
  EXPECT_EQ(live.send->reveal(), "ping");
  EXPECT_EQ(live.expect_contains->reveal(), "pong");
  EXPECT_TRUE(live.expects_message());
  EXPECT_EQ(c.find("live")->host, "portal.acme.test:443");
  const auto& plain = c.find("plain")->spec_as<WebSocketSpec>();
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.authority, "127.0.0.1:8080");
  EXPECT_EQ(plain.host_header, "127.0.0.1:8080");
  EXPECT_EQ(plain.target, "/");
  EXPECT_FALSE(plain.send);
  EXPECT_TRUE(plain.expect_regex);
  EXPECT_EQ(plain.ca_file, "/etc/hostname");

  // A reload sees each key.
  const auto other = websocket_config(R"toml(
[[monitor]]
name = "plain"
type = "websocket"
url = "ws://127.0.0.1:8080"
expect.message_regex = "^pong!$"
ca_file = "/etc/hostname"
)toml");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(c.find("plain")->same_as(*other.config->find("plain")));
}

TEST(WebSocketConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = websocket_config(R"toml([[monitor]]
name = "a"
type = "websocket"
url = "http://portal.test/ws"

[[monitor]]
name = "b"
type = "websocket"
url = "wss://portal.test/ws"
headers = { Upgrade = "h2c" }
expect.message_contains = "pong"
expect.message_regex = "(pong"

[[monitor]]
name = "c"
type = "websocket"
url = "ws://portal.test"
expect.message_contains = "a"
expect.message_regex = "b"
expect.body_contains = "c"
ca_file = "/no/such/ca.pem"
)toml");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/k.toml:4:7: url http://portal.test/ws must start with ws:// or wss://",
          "/etc/lookout/k.toml:10:11: headers.Upgrade is written by the WebSocket handshake itself",
          ("/etc/lookout/k.toml:12:24: expect.message_regex is not a valid RE2 pattern: missing ): "
           "(pong"),
          ("/etc/lookout/k.toml:12:24: expect.message_contains and expect.message_regex judge the "
           "same message: keep one"),
          ("/etc/lookout/k.toml:19:24: expect.message_contains and expect.message_regex judge the "
           "same message: keep one"),
          "/etc/lookout/k.toml:20:8: unknown key \"body_contains\" in expect",
          "/etc/lookout/k.toml:21:11: ca_file /no/such/ca.pem is not a readable file",
      }));
}

}  // namespace
}  // namespace lookout
