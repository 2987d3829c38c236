// The tcp kind in the config: its keys and defaults, `send` unescaped, and every mistake as
// FILE:LINE:COL.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "config/config.h"
#include "config/kinds/tcp_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult tcp_config(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/t.toml", test::fake_env(std::move(env)));
}

TEST(TcpConfig, TakesItsKeysWithTheirDefaults) {
  const auto r = tcp_config(R"toml(
[defaults]
warn_within = "30d"

[[monitor]]
name = "redis"
type = "tcp"
host = "Cache.Test"
port = 6379
send = 'PING\r\n'
expect.regex = '^\+PONG'
max_body = "1KiB"

[[monitor]]
name = "smtps"
type = "tcp"
host = "::1"
port = 465
tls = true
ca_file = "/etc/hosts"
fail_within = "3d"

[[monitor]]
name = "bare"
type = "tcp"
host = "10.0.0.5"
port = 5432
)toml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const auto& c = *r.config;
  const auto& redis = c.find("redis")->spec_as<TcpSpec>();
  EXPECT_EQ(redis.host, "cache.test");
  EXPECT_EQ(redis.port, 6379);
  EXPECT_EQ(c.find("redis")->host, "cache.test:6379");
  ASSERT_TRUE(redis.send);
  EXPECT_EQ(redis.send->reveal(), "PING\r\n");
  ASSERT_TRUE(redis.expect_regex);
  EXPECT_EQ(redis.expect_regex->pattern(), "^\\+PONG");
  EXPECT_EQ(redis.max_body, 1024u);
  EXPECT_FALSE(redis.tls);
  EXPECT_FALSE(c.find("redis")->spec->insecure());

  const auto& smtps = c.find("smtps")->spec_as<TcpSpec>();
  EXPECT_TRUE(smtps.tls);
  EXPECT_EQ(smtps.ca_file, "/etc/hosts");
  EXPECT_EQ(smtps.warn_within, Duration{30LL * 86'400'000});  // from [defaults]
  EXPECT_EQ(smtps.fail_within, Duration{3LL * 86'400'000});
  EXPECT_EQ(c.find("smtps")->host, "[::1]:465");

  const auto& bare = c.find("bare")->spec_as<TcpSpec>();
  EXPECT_FALSE(bare.send);
  EXPECT_FALSE(bare.expect_regex);
  EXPECT_EQ(bare.max_body, 64u * 1024);
}

TEST(TcpConfig, InsecureIsAWarningAndMarksTheSpec) {
  const auto r = tcp_config(R"([[monitor]]
name = "t"
type = "tcp"
host = "a.test"
port = 443
tls = true
insecure = true
)");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.config->monitors[0].spec->insecure());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].str(),
            "/etc/lookout/t.toml:7:12: warning: monitor \"t\" has insecure = true: its TLS "
            "certificates are not verified");
}

TEST(TcpConfig, ASecretSendStaysSecretAndIsMaskedAsSent) {
  const auto r = tcp_config(R"([[monitor]]
name = "t"
type = "tcp"
host = "a.test"
port = 6379
send = 'AUTH ${env:PASS}\r\n'
)",
                            {{"PASS", "hunter22"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const auto& spec = r.config->monitors[0].spec_as<TcpSpec>();
  EXPECT_TRUE(spec.send->is_secret());
  EXPECT_EQ(spec.send->reveal(), "AUTH hunter22\r\n");
  EXPECT_EQ(r.config->redactor->apply("sent AUTH hunter22 to it"), "sent AUTH *** to it");
  EXPECT_EQ(r.config->redactor->apply("AUTH hunter22\r\n"), "***");
}

TEST(TcpConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = tcp_config(R"([[monitor]]
name = "a"
type = "tcp"
url = "tcp://x.test:1"

[[monitor]]
name = "b"
type = "tcp"
host = "[::1]"
port = 70000
send = 'PING\q'
expect.regex = "(unclosed"
expect.contains = "x"
max_body = "32MiB"
ca_file = "/etc/hosts"

[[monitor]]
name = "c"
type = "tcp"
host = "x.test:80"
port = 80
tls = true
ca_file = "/no/such/file.pem"
fail_within = "30d"
send = '\x4'
)");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/t.toml:1:1: tcp monitor \"a\" has no host",
          "/etc/lookout/t.toml:1:1: tcp monitor \"a\" has no port",
          "/etc/lookout/t.toml:4:1: unknown key \"url\" in tcp monitor \"a\"",
          ("/etc/lookout/t.toml:9:8: host \"[::1]\" must be a host name or an IP address (IPv6 "
           "without brackets), without scheme or port; the port is its own key"),
          "/etc/lookout/t.toml:10:8: port must be between 1 and 65535, not 70000",
          ("/etc/lookout/t.toml:11:8: send has an unknown escape \\q (at byte 5); use \\r \\n \\t "
           "\\\\ or \\xHH"),
          ("/etc/lookout/t.toml:12:16: expect.regex is not a valid RE2 pattern: missing ): "
           "(unclosed"),
          "/etc/lookout/t.toml:13:8: unknown key \"contains\" in expect",
          "/etc/lookout/t.toml:14:12: max_body must be between 1B and 16MiB for a tcp monitor",
          ("/etc/lookout/t.toml:15:11: ca_file applies only with tls = true; tcp monitor \"b\" "
           "has no TLS"),
          ("/etc/lookout/t.toml:20:8: host \"x.test:80\" must be a host name or an IP address "
           "(IPv6 without brackets), without scheme or port; the port is its own key"),
          "/etc/lookout/t.toml:23:11: ca_file /no/such/file.pem is not a readable file",
          ("/etc/lookout/t.toml:24:15: fail_within 30d is longer than warn_within 21d; the "
           "warning would never come first"),
          "/etc/lookout/t.toml:25:8: send has \\x without two hex digits after it (at byte 1)",
      }));
}

TEST(TcpConfig, SameAsSeesEveryKey) {
  const std::string base =
      "[[monitor]]\nname = \"m\"\ntype = \"tcp\"\nhost = \"a.test\"\nport = 1\n";
  auto parse_one = [](const std::string& toml) {
    auto r = tcp_config(toml);
    EXPECT_TRUE(r.ok()) << toml << ::testing::PrintToString(messages(r));
    return r;
  };
  const auto a = parse_one(base);
  const auto same = parse_one(base);
  EXPECT_TRUE(a.config->monitors[0].same_as(same.config->monitors[0]));
  const std::string head = "[[monitor]]\nname = \"m\"\ntype = \"tcp\"\n";
  const std::vector<std::string> variants{
      head + "host = \"b.test\"\nport = 1\n",
      head + "host = \"a.test\"\nport = 2\n",
      base + "send = 'PING'\n",
      base + "expect.regex = 'x'\n",
      base + "max_body = \"1KiB\"\n",
      base + "tls = true\n",
      base + "tls = true\ninsecure = true\n",
      base + "tls = true\nwarn_within = \"40d\"\n",
      base + "tls = true\nfail_within = \"1d\"\n",
      base + "tls = true\nca_file = \"/etc/hosts\"\n",
  };
  for (const auto& v : variants) {
    const auto b = parse_one(v);
    EXPECT_FALSE(a.config->monitors[0].same_as(b.config->monitors[0])) << v;
  }
}

TEST(TcpSend, UnescapesTheEscapesItKnows) {
  std::string error;
  EXPECT_EQ(unescape_tcp_send("PING\\r\\n", error), "PING\r\n");
  EXPECT_EQ(unescape_tcp_send("a\\tb\\\\c", error), "a\tb\\c");
  EXPECT_EQ(unescape_tcp_send("\\x00\\x7F\\xff", error), std::string("\x00\x7f\xff", 3));
  EXPECT_EQ(unescape_tcp_send("no escapes at all", error), "no escapes at all");
  EXPECT_EQ(unescape_tcp_send("", error), "");
  // TOML already turned "\r\n" in a basic string into the bytes; they pass through.
  EXPECT_EQ(unescape_tcp_send("PING\r\n", error), "PING\r\n");
}

TEST(TcpSend, RefusesWhatItDoesNotKnowSayingWhere) {
  std::string error;
  EXPECT_FALSE(unescape_tcp_send("ab\\", error));
  EXPECT_EQ(error, "ends in a lone backslash (at byte 3); write \\\\ for one");
  EXPECT_FALSE(unescape_tcp_send("\\x4g", error));
  EXPECT_EQ(error, "has \\x without two hex digits after it (at byte 1)");
  EXPECT_FALSE(unescape_tcp_send("\\x", error));
  EXPECT_FALSE(unescape_tcp_send("a\\0", error));
  EXPECT_EQ(error, "has an unknown escape \\0 (at byte 2); use \\r \\n \\t \\\\ or \\xHH");
  EXPECT_FALSE(unescape_tcp_send("\\\xc3\xa9", error));
  EXPECT_EQ(error, "has an unknown escape \\xc3 (at byte 1); use \\r \\n \\t \\\\ or \\xHH");
}

}  // namespace
}  // namespace lookout
