// The websocket kind against a real WebSocket server (python3-websockets), over ws:// and
// wss:// with a certificate the test makes: the first text message after `send` is judged
// (also in fragments, also after the server pinged), the configured headers reach the server,
// a refused handshake, a wrong Sec-WebSocket-Accept, a close by the server, a server that
// never speaks and one that sends without end each have their cause; the probe ends with a close
// frame; the running daemon turns a monitor UP.
#include <gtest/gtest.h>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// tests/integration/kinds/websocket_server.py on free ports, until the test ends.
class WebSocketPeer {
 public:
  explicit WebSocketPeer(const TempDir& dir, const std::string& cert = "",
                         const std::string& key = "")
      : port_(free_port()), bad_accept_port_(free_port()) {
    std::vector<std::string> args{
        "/usr/bin/python3",
        std::string(LOOKOUT_TESTS_DIR) + "/integration/kinds/websocket_server.py",
        std::to_string(port_), "--bad-accept", std::to_string(bad_accept_port_)};
    if (!cert.empty()) args.insert(args.end(), {"--tls", cert, key});
    proc_ = std::make_unique<Process>(args, std::map<std::string, std::string>{}, dir.path());
    if (!wait_until([this] { return out().find("ready") != std::string::npos; }, 20'000ms))
      throw std::runtime_error("the WebSocket server did not start: " + proc_->err());
  }
  ~WebSocketPeer() {
    proc_->signal(SIGTERM);
    proc_->wait(5000ms);
  }
  int port() const { return port_; }
  int bad_accept_port() const { return bad_accept_port_; }
  std::string out() const { return proc_->out(); }

 private:
  int port_, bad_accept_port_;
  std::unique_ptr<Process> proc_;
};

std::string ws_monitor(const std::string& name, const std::string& url,
                       const std::string& more = "") {
  return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"websocket\"\nurl = \"{}\"\n{}\n", name,
                     url, more);
}

struct WsWant {
  std::string monitor;
  std::string outcome;
  std::string cause;  // the whole of it; "" for none
};

TEST(WebSocketProbe, JudgesTheFirstMessageOverWsAndWss) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"WebSocket Test Root", {}, -86'400, 3650 * 86'400, true});
  const TestCert leaf = f.make({"ws", {"IP:127.0.0.1", "DNS:localhost"}}, &root);
  WebSocketPeer plain(dir);
  WebSocketPeer tls(dir, leaf.cert, leaf.key);
  const int closed = free_port();
  const std::string ws = fmt::format("ws://127.0.0.1:{}", plain.port());
  const std::string wss = fmt::format("wss://127.0.0.1:{}", tls.port());
  const std::string ca = fmt::format("ca_file = \"{}\"\n", root.cert);
  dir.write(
      "w.toml",
      "[defaults]\ntimeout = \"5s\"\n" + ws_monitor("handshake", ws + "/echo") +
          ws_monitor("ping", ws + "/ping", "send = \"ping\"\nexpect.message_contains = \"pong\"") +
          ws_monitor("ping-regex", ws + "/ping",
                     "send = \"ping\"\nexpect.message_regex = '^pong$'") +
          ws_monitor("wrong-reply", ws + "/ping",
                     "send = \"hello\"\nexpect.message_contains = \"pong\"") +
          ws_monitor("server-first", ws + "/hello", "expect.message_regex = '^hel+o$'") +
          ws_monitor("fragments", ws + "/fragments", "expect.message_regex = '^pong$'") +
          ws_monitor("pinged", ws + "/pinger", "expect.message_contains = \"ponged\"") +
          ws_monitor(
              "headers", ws + "/headers",
              "headers = { Origin = \"https://portal.test\", X-Token = \"${env:WS_TOKEN}\" }\n"
              "expect.message_regex = '^origin=https://portal.test token=s3cret$'") +
          ws_monitor("silent", ws + "/silent",
                     "send = \"ping\"\nexpect.message_contains = \"pong\"\ntimeout = \"1s\"") +
          ws_monitor("reject", ws + "/reject") +
          ws_monitor("policy", ws + "/policy", "expect.message_contains = \"x\"") +
          // Without expect.*, the handshake alone decides, whatever follows it.
          ws_monitor("policy-handshake", ws + "/policy") +
          ws_monitor("flood", ws + "/flood", "expect.message_contains = \"x\"") +
          ws_monitor("bad-accept", fmt::format("ws://127.0.0.1:{}/", plain.bad_accept_port())) +
          ws_monitor("refused", fmt::format("ws://127.0.0.1:{}/", closed)) +
          ws_monitor("wss-echo", wss + "/echo",
                     ca + "send = \"ping\"\nexpect.message_contains = \"ping\"") +
          ws_monitor("wss-untrusted", wss + "/echo"));
  int code = 0;
  const auto results = probe_json(dir.file("w.toml"), code, {{"WS_TOKEN", "s3cret"}});
  EXPECT_EQ(code, 1);
  const std::vector<WsWant> wants{
      {"handshake", "up", ""},
      {"ping", "up", ""},
      {"ping-regex", "up", ""},
      {"wrong-reply", "down", "expected a message containing \"pong\", got \"what?\""},
      {"server-first", "up", ""},
      {"fragments", "up", ""},
      {"pinged", "up", ""},
      {"headers", "up", ""},
      {"silent", "down", "no message containing \"pong\" within 1s"},
      {"reject", "down", "handshake answered 403"},
      {"policy", "down", "connection closed by peer (1008 policy): \"not allowed\""},
      {"policy-handshake", "up", ""},
      {"flood", "down", "read 64KiB after the handshake without a text message"},
      {"bad-accept", "down", "Sec-WebSocket-Accept does not match"},
      {"wss-echo", "up", ""},
  };
  for (const auto& w : wants) {
    SCOPED_TRACE(w.monitor);
    ASSERT_EQ(results.count(w.monitor), 1u);
    const auto& r = results.at(w.monitor);
    EXPECT_EQ(r["outcome"], w.outcome) << r.dump();
    EXPECT_EQ(r["cause"].is_string() ? r["cause"].get<std::string>() : "", w.cause) << r.dump();
  }
  const std::string refused = results.at("refused")["cause"];
  EXPECT_EQ(refused.rfind("cannot connect", 0), 0u) << refused;
  const std::string untrusted = results.at("wss-untrusted")["cause"];
  EXPECT_EQ(untrusted.rfind("TLS failed", 0), 0u) << untrusted;
  // What the runs saw.
  EXPECT_EQ(results.at("pinged")["detail"]["pings"], 1);
  EXPECT_EQ(results.at("reject")["detail"]["handshake"], 403);
  EXPECT_EQ(results.at("ping")["detail"]["sent"], true);
  const auto& t = results.at("wss-echo")["timings_ms"];
  EXPECT_TRUE(t["connect"].is_number()) << t.dump();
  EXPECT_TRUE(t["tls"].is_number()) << t.dump();
  EXPECT_TRUE(t["first_byte"].is_number()) << t.dump();
  EXPECT_TRUE(t["total"].is_number()) << t.dump();
  EXPECT_TRUE(results.at("silent")["timings_ms"]["total"].is_null());
}

TEST(WebSocketProbe, EndsWithACloseFrame) {
  TempDir dir;
  WebSocketPeer peer(dir);
  dir.write("w.toml", ws_monitor("report", fmt::format("ws://127.0.0.1:{}/report", peer.port()),
                                 "expect.message_contains = \"hi\""));
  int code = 0;
  const auto results = probe_json(dir.file("w.toml"), code);
  ASSERT_EQ(results.count("report"), 1u);
  EXPECT_EQ(results.at("report")["outcome"], "up") << results.at("report").dump();
  // The server saw a normal close from the client, not a dropped connection (1006).
  EXPECT_TRUE(wait_until([&] { return peer.out().find("closed ") != std::string::npos; }, 5000ms));
  EXPECT_NE(peer.out().find("closed 1000"), std::string::npos) << peer.out();
}

TEST(WebSocketProbe, TheDaemonTurnsAMonitorUp) {
  TempDir dir;
  WebSocketPeer peer(dir);
  Daemon d(dir,
           ws_monitor("live", fmt::format("ws://127.0.0.1:{}/ping", peer.port()),
                      "send = \"ping\"\nexpect.message_contains = \"pong\"\ninterval = "
                      "\"1s\"\ntimeout = \"1s\"\npublic = true") +
               ws_monitor("gone", fmt::format("ws://127.0.0.1:{}/reject", peer.port()),
                          "interval = \"1s\"\ntimeout = \"1s\"\npublic = true\nfail_after = 1"));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("live")["state"] == "up"; }, 15'000ms))
      << d.monitor("live").dump();
  ASSERT_TRUE(wait_until([&] { return d.monitor("gone")["state"] == "down"; }, 15'000ms))
      << d.monitor("gone").dump();
  EXPECT_EQ(d.monitor("gone")["cause"], "handshake answered 403");
}

}  // namespace
}  // namespace lookout::testing
