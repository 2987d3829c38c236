// The tcp kind against real line servers on loopback (Python's asyncio and ssl, started by the
// test): PING answered by +PONG in the clear and over TLS, a reply that does not match, a
// refused port, a peer that never answers, one that sends without end, and certificates that
// the cert kind would refuse, refused here in the same words.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr int64_t kDay = 86'400;

bool tcp_accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// tests/integration/kinds/line_server.py on a free port: "pong", "silent" or "flood", over TLS
// when given a certificate.
class LineServer {
 public:
  LineServer(const TempDir& dir, const std::string& mode, const TestCert* cert = nullptr)
      : port_(free_port()) {
    std::vector<std::string> args{
        "/usr/bin/python3", std::string(LOOKOUT_TESTS_DIR) + "/integration/kinds/line_server.py",
        std::to_string(port_), mode};
    if (cert != nullptr) {
      args.push_back(cert->cert);
      args.push_back(cert->key);
    }
    proc_ = std::make_unique<Process>(args, std::map<std::string, std::string>{}, dir.path());
    if (!wait_until([&] { return tcp_accepts(port_); }, 10'000ms, 20ms))
      throw std::runtime_error("the line server did not start: " + proc_->err());
  }
  int port() const { return port_; }

 private:
  int port_;
  std::unique_ptr<Process> proc_;
};

std::string monitor(const std::string& name, const std::string& host, int port,
                    const std::string& rest) {
  return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"tcp\"\nhost = \"{}\"\nport = {}\n{}\n",
                     name, host, port, rest);
}

std::string cause_of(const nlohmann::json& r) {
  return r["cause"].is_string() ? r["cause"].get<std::string>() : "";
}

TEST(TcpProbe, PingIsAnsweredByPongInTheClearAndOverTls) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"Line Root", {}, -kDay, 3650 * kDay, true});
  const TestCert leaf =
      f.make({"line", {"IP:127.0.0.1", "DNS:localhost"}, -kDay, 90 * kDay}, &root);
  LineServer plain(dir, "pong");
  LineServer tls(dir, "pong", &leaf);
  const std::string ping = "send = 'PING\\r\\n'\nexpect.regex = '^\\+PONG'";
  const std::string with_ca = fmt::format("tls = true\nca_file = \"{}\"\n", root.cert);
  dir.write("c.toml", "[defaults]\ntimeout = \"5s\"\n" +
                          monitor("plain", "127.0.0.1", plain.port(), ping) +
                          monitor("tls", "127.0.0.1", tls.port(), with_ca + ping) +
                          monitor("by-name", "localhost", plain.port(), ping) +
                          monitor("tls-by-name", "localhost", tls.port(), with_ca + ping) +
                          monitor("connect-only", "127.0.0.1", plain.port(), "") +
                          monitor("send-only", "127.0.0.1", plain.port(), "send = 'PING\\r\\n'"));
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 0);
  for (const char* name : {"plain", "tls", "by-name", "tls-by-name", "connect-only", "send-only"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(r.count(name), 1u);
    EXPECT_EQ(r.at(name)["outcome"], "up") << r.at(name).dump();
    EXPECT_TRUE(r.at(name)["cause"].is_null());
    EXPECT_TRUE(r.at(name)["timings_ms"]["connect"].is_number());
    EXPECT_TRUE(r.at(name)["timings_ms"]["total"].is_number());
  }
  const auto& p = r.at("plain");
  EXPECT_EQ(p["detail"]["address"], fmt::format("127.0.0.1:{}", plain.port()));
  EXPECT_EQ(p["detail"]["bytes_sent"], 6);
  EXPECT_EQ(p["detail"]["bytes_read"], 7);  // "+PONG\r\n"
  EXPECT_TRUE(p["timings_ms"]["first_byte"].is_number());
  EXPECT_TRUE(p["timings_ms"]["dns"].is_null());  // an address needs no lookup
  EXPECT_TRUE(p["timings_ms"]["tls"].is_null());

  const auto& t = r.at("tls");
  EXPECT_TRUE(t["timings_ms"]["tls"].is_number());
  EXPECT_EQ(t["detail"]["bytes_read"], 7);
  ASSERT_EQ(t["detail"]["chain"].size(), 2u) << t.dump();
  EXPECT_EQ(t["detail"]["chain"][0]["subject"], "CN = line");
  EXPECT_EQ(t["detail"]["chain"][1]["subject"], "CN = Line Root");
  char date[32];
  const time_t not_after = leaf.not_after;
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&not_after));
  EXPECT_EQ(t["cert_not_after"], date);

  // "localhost" comes from /etc/hosts, through the lookup a name always gets.
  for (const char* name : {"by-name", "tls-by-name"}) {
    EXPECT_TRUE(r.at(name)["timings_ms"]["dns"].is_number()) << name;
    EXPECT_EQ(r.at(name)["detail"]["address"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
  }
  EXPECT_EQ(r.at("send-only")["detail"]["bytes_sent"], 6);
  EXPECT_EQ(r.at("send-only")["detail"]["bytes_read"], 0);  // no expect: no reply waited for
}

TEST(TcpProbe, AReplyThatDoesNotMatchIsDownQuotingIt) {
  TempDir dir;
  LineServer plain(dir, "pong");
  dir.write("c.toml", monitor("hello", "127.0.0.1", plain.port(),
                              "send = 'HELLO\\r\\n'\nexpect.regex = '^\\+PONG'") +
                          monitor("secret", "127.0.0.1", plain.port(),
                                  "send = 'HELLO\\r\\n'\nexpect.regex = '${env:PATTERN}'"));
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code, {{"PATTERN", "^\\+OK"}});
  EXPECT_EQ(code, 1);
  ASSERT_EQ(r.count("hello"), 1u);
  EXPECT_EQ(r.at("hello")["outcome"], "down");
  EXPECT_EQ(r.at("hello")["kind"], "expectation");
  EXPECT_EQ(r.at("hello")["cause"], "expected /^\\+PONG/ in reply, got \"-ERR unknown command\"");
  // A reply came, so the run has a latency.
  EXPECT_TRUE(r.at("hello")["timings_ms"]["total"].is_number());
  ASSERT_EQ(r.count("secret"), 1u);
  EXPECT_EQ(r.at("secret")["cause"],
            "expected *** (a secret) in reply, got \"-ERR unknown command\"");
}

TEST(TcpProbe, ARefusedPortIsDownNamingTheAddress) {
  TempDir dir;
  const int closed = free_port();  // bound, then closed: nothing listens there
  dir.write("c.toml", monitor("refused", "127.0.0.1", closed, "") +
                          monitor("refused-by-name", "localhost", closed, "tls = true"));
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 1);
  for (const char* name : {"refused", "refused-by-name"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(r.count(name), 1u);
    EXPECT_EQ(r.at(name)["outcome"], "down");
    EXPECT_EQ(r.at(name)["kind"], "connect");
    EXPECT_EQ(r.at(name)["cause"], fmt::format("connection refused by 127.0.0.1:{}", closed));
    EXPECT_TRUE(r.at(name)["timings_ms"]["total"].is_null());
  }
}

TEST(TcpProbe, APeerThatNeverAnswersTimesOutNamingThePhase) {
  TempDir dir;
  LineServer silent(dir, "silent");
  dir.write("c.toml", "[defaults]\ntimeout = \"1s\"\n" +
                          monitor("reply", "127.0.0.1", silent.port(),
                                  "send = 'PING\\r\\n'\nexpect.regex = 'PONG'") +
                          monitor("handshake", "127.0.0.1", silent.port(), "tls = true"));
  int code = 0;
  const auto started = std::chrono::steady_clock::now();
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(code, 1);
  ASSERT_EQ(r.count("reply"), 1u);
  EXPECT_EQ(r.at("reply")["kind"], "timeout");
  EXPECT_EQ(r.at("reply")["cause"],
            fmt::format("timeout after 1s waiting for the reply from 127.0.0.1:{}", silent.port()));
  ASSERT_EQ(r.count("handshake"), 1u);
  EXPECT_EQ(r.at("handshake")["kind"], "timeout");
  EXPECT_EQ(
      r.at("handshake")["cause"],
      fmt::format("timeout after 1s during the TLS handshake with 127.0.0.1:{}", silent.port()));
}

TEST(TcpProbe, APeerThatSendsWithoutEndIsBoundedByMaxBody) {
  TempDir dir;
  LineServer flood(dir, "flood");
  dir.write("c.toml", "[defaults]\ntimeout = \"10s\"\n" +
                          monitor("bounded", "127.0.0.1", flood.port(),
                                  "expect.regex = 'PONG'\nmax_body = \"8KiB\"") +
                          monitor("found", "127.0.0.1", flood.port(), "expect.regex = 'yyyy'"));
  int code = 0;
  const auto started = std::chrono::steady_clock::now();
  const auto r = probe_json(dir.file("c.toml"), code);
  // Judged when max_body arrived, not at the timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_EQ(r.count("bounded"), 1u);
  const auto& b = r.at("bounded");
  EXPECT_EQ(b["outcome"], "down");
  EXPECT_EQ(b["kind"], "expectation");
  EXPECT_EQ(b["detail"]["bytes_read"], 8192);
  EXPECT_EQ(cause_of(b), "expected /PONG/ in reply, got \"" + std::string(60, 'y') +
                             "...\" (the first 8KiB of the reply, max_body)");
  ASSERT_EQ(r.count("found"), 1u);
  EXPECT_EQ(r.at("found")["outcome"], "up");
}

TEST(TcpProbe, CertificateProblemsReadAsTheCertKindSaysThem) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"Line Root", {}, -kDay, 3650 * kDay, true});
  const std::vector<std::string> ip{"IP:127.0.0.1", "DNS:localhost"};
  const std::map<std::string, TestCert> certs{
      {"wrongname", f.make({"wrongname", {"DNS:wrong.test"}, -kDay, 90 * kDay}, &root)},
      {"expired", f.make({"expired", ip, -30 * kDay, -2 * kDay}, &root)},
      {"expiring", f.make({"expiring", ip, -kDay, 15 * kDay}, &root)},
      {"selfsigned", f.make({"selfsigned", ip, -kDay, 90 * kDay})},
  };
  std::vector<std::unique_ptr<LineServer>> servers;
  std::string toml;
  for (const auto& [name, cert] : certs) {
    servers.push_back(std::make_unique<LineServer>(dir, "pong", &cert));
    const int port = servers.back()->port();
    toml += monitor("tcp-" + name, "127.0.0.1", port,
                    fmt::format("tls = true\nca_file = \"{}\"\nsend = 'PING\\r\\n'\n"
                                "expect.regex = '^\\+PONG'",
                                root.cert));
    toml += fmt::format(
        "[[monitor]]\nname = \"cert-{}\"\ntype = \"cert\"\nhost = \"127.0.0.1\"\nport = {}\n"
        "ca_file = \"{}\"\n",
        name, port, root.cert);
  }
  toml += monitor("tcp-insecure", "127.0.0.1", servers.back()->port(),
                  "tls = true\ninsecure = true\nsend = 'PING\\r\\n'\nexpect.regex = '^\\+PONG'");
  dir.write("c.toml", toml);
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  const std::map<std::string, std::pair<std::string, std::string>> want{
      {"wrongname", {"down", "certificate for 127.0.0.1 does not name it: it names wrong.test"}},
      {"expired", {"down", "certificate for 127.0.0.1 expired 2 days ago"}},
      {"expiring", {"degraded", "certificate for 127.0.0.1 expires in 15 days"}},
      {"selfsigned", {"down", "certificate for 127.0.0.1 is self-signed and not trusted"}},
  };
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(name);
    ASSERT_EQ(r.count("tcp-" + name), 1u);
    ASSERT_EQ(r.count("cert-" + name), 1u);
    const auto& tcp = r.at("tcp-" + name);
    const auto& cert = r.at("cert-" + name);
    EXPECT_EQ(tcp["outcome"], w.first) << tcp.dump();
    EXPECT_NE(cause_of(tcp).find(w.second), std::string::npos) << cause_of(tcp);
    // Word for word what the cert kind says of the same server.
    EXPECT_EQ(tcp["outcome"], cert["outcome"]);
    EXPECT_EQ(tcp["cause"], cert["cause"]);
    EXPECT_EQ(tcp["kind"], cert["kind"]);
    EXPECT_EQ(tcp["cert_not_after"], cert["cert_not_after"]);
  }
  // The expiring certificate still answered PONG: degraded, not down.
  EXPECT_EQ(r.at("tcp-expiring")["detail"]["bytes_read"], 7);
  ASSERT_EQ(r.count("tcp-insecure"), 1u);
  EXPECT_EQ(r.at("tcp-insecure")["outcome"], "up") << r.at("tcp-insecure").dump();
}

TEST(TcpProbe, TheDaemonRunsItAndExposesTheCertificateExpiry) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"Line Root", {}, -kDay, 3650 * kDay, true});
  const TestCert leaf = f.make({"line", {"IP:127.0.0.1"}, -kDay, 40 * kDay}, &root);
  LineServer tls(dir, "pong", &leaf);
  Daemon d(dir, monitor("cache", "127.0.0.1", tls.port(),
                        fmt::format("tls = true\nca_file = \"{}\"\nsend = 'PING\\r\\n'\n"
                                    "expect.regex = '^\\+PONG'\ninterval = \"1s\"\ntimeout = "
                                    "\"1s\"\npublic = true",
                                    root.cert)));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("cache")["state"] == "up"; }, 10'000ms))
      << d.monitor("cache").dump();
  EXPECT_TRUE(d.monitor("cache")["latency_ms"].is_number());
  const double expiry = metric_value(http_get(d.port(), "/metrics").body,
                                     "lookout_cert_expiry_timestamp_seconds", "monitor=\"cache\"");
  EXPECT_EQ(static_cast<int64_t>(expiry), leaf.not_after);
}

}  // namespace
}  // namespace lookout::testing
