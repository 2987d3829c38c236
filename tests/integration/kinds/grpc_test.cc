// The grpc kind against a real gRPC server (grpcio) with the health service, in cleartext
// (h2c) and over TLS with a certificate the test makes: SERVING is up, NOT_SERVING and an
// unknown service (NOT_FOUND) are down with the names, a server without the health service
// is UNIMPLEMENTED; a peer that speaks no gRPC, a refused port and a silent one have causes of
// their own; the running daemon turns a monitor UP.
#include <gtest/gtest.h>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// tests/integration/kinds/grpc_health_server.py on a free port, until the test ends.
class GrpcHealthServer {
 public:
  GrpcHealthServer(const TempDir& dir, std::vector<std::string> extra) : port_(free_port()) {
    std::vector<std::string> args{
        "/usr/bin/python3",
        std::string(LOOKOUT_TESTS_DIR) + "/integration/kinds/grpc_health_server.py",
        std::to_string(port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Process>(args, std::map<std::string, std::string>{}, dir.path());
    if (!wait_until([this] { return proc_->out().find("ready") != std::string::npos; }, 20'000ms))
      throw std::runtime_error("the gRPC server did not start: " + proc_->err());
  }
  ~GrpcHealthServer() {
    proc_->signal(SIGTERM);
    proc_->wait(5000ms);
  }
  int port() const { return port_; }

 private:
  int port_;
  std::unique_ptr<Process> proc_;
};

std::string grpc_monitor(const std::string& name, const std::string& url,
                         const std::string& more = "") {
  return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"grpc\"\nurl = \"{}\"\n{}\n", name, url,
                     more);
}

struct GrpcWant {
  std::string monitor;
  std::string outcome;
  std::string cause;  // a part of it; "" for none
};

void expect_results(const std::map<std::string, nlohmann::json>& results,
                    const std::vector<GrpcWant>& wants) {
  for (const auto& w : wants) {
    SCOPED_TRACE(w.monitor);
    ASSERT_EQ(results.count(w.monitor), 1u);
    const auto& r = results.at(w.monitor);
    EXPECT_EQ(r["outcome"], w.outcome) << r.dump();
    const std::string cause = r["cause"].is_string() ? r["cause"].get<std::string>() : "";
    if (w.cause.empty()) {
      EXPECT_EQ(cause, "") << r.dump();
    } else {
      EXPECT_NE(cause.find(w.cause), std::string::npos) << r.dump();
    }
  }
}

TEST(GrpcProbe, JudgesTheHealthOfEachServiceOverCleartextAndTls) {
  TempDir dir;
  CertFactory f(dir);
  const TestCert root = f.make({"gRPC Test Root", {}, -86'400, 3650 * 86'400, true});
  const TestCert leaf = f.make({"grpc", {"IP:127.0.0.1", "DNS:localhost"}}, &root);
  const std::vector<std::string> services{"--serving", "orders.v1.Orders", "--not-serving",
                                          "billing.v1.Billing"};
  GrpcHealthServer plain(dir, services);
  std::vector<std::string> tls_args = services;
  tls_args.insert(tls_args.end(), {"--tls", leaf.cert, leaf.key});
  GrpcHealthServer tls(dir, tls_args);
  GrpcHealthServer bare(dir, {"--no-health"});

  const std::string h2c = fmt::format("grpc://127.0.0.1:{}", plain.port());
  const std::string h2 = fmt::format("grpcs://127.0.0.1:{}", tls.port());
  const std::string ca = fmt::format("ca_file = \"{}\"", root.cert);
  dir.write("g.toml",
            "[defaults]\ntimeout = \"5s\"\n" + grpc_monitor("whole", h2c) +
                grpc_monitor("orders", h2c, "service = \"orders.v1.Orders\"") +
                grpc_monitor("billing", h2c, "service = \"billing.v1.Billing\"") +
                grpc_monitor("unknown", h2c, "service = \"nope.v1.Nope\"") +
                grpc_monitor("tls-orders", h2, ca + "\nservice = \"orders.v1.Orders\"") +
                grpc_monitor("tls-billing", h2, ca + "\nservice = \"billing.v1.Billing\"") +
                grpc_monitor("tls-untrusted", h2) +
                grpc_monitor("tls-insecure", h2, "insecure = true") +
                grpc_monitor("no-health", fmt::format("grpc://127.0.0.1:{}", bare.port())));
  int code = 0;
  const auto results = probe_json(dir.file("g.toml"), code);
  EXPECT_EQ(code, 1);
  expect_results(results, {
                              {"whole", "up", ""},
                              {"orders", "up", ""},
                              {"billing", "down", "NOT_SERVING"},
                              {"unknown", "down", "grpc-status 5 NOT_FOUND: unknown service"},
                              {"tls-orders", "up", ""},
                              {"tls-billing", "down", "NOT_SERVING"},
                              {"tls-untrusted", "down", "TLS failed"},
                              {"tls-insecure", "up", ""},
                              {"no-health", "down", "grpc-status 12 UNIMPLEMENTED"},
                          });
  // The cause is the status name alone, and the detail says what came.
  EXPECT_EQ(results.at("billing")["cause"], "NOT_SERVING");
  EXPECT_EQ(results.at("billing")["detail"]["serving_status"], "NOT_SERVING");
  EXPECT_EQ(results.at("orders")["detail"]["grpc_status"], 0);
  EXPECT_EQ(results.at("orders")["detail"]["service"], "orders.v1.Orders");
  EXPECT_EQ(results.at("unknown")["detail"]["grpc_status_name"], "NOT_FOUND");
  // Timings of a TLS run: connect, the handshake and the whole call.
  const auto& t = results.at("tls-orders")["timings_ms"];
  EXPECT_TRUE(t["connect"].is_number()) << t.dump();
  EXPECT_TRUE(t["tls"].is_number()) << t.dump();
  EXPECT_TRUE(t["total"].is_number()) << t.dump();
  EXPECT_TRUE(results.at("whole")["timings_ms"]["total"].is_number());
}

TEST(GrpcProbe, APeerThatSpeaksNoGrpcHasAClearCause) {
  TempDir dir;
  const Certs certs = make_certs(dir);
  TargetServer http1;
  add_standard_routes(http1);
  http1.start();
  TargetServer https1(certs.leaf_cert, certs.leaf_key);
  add_standard_routes(https1);
  https1.start();
  RawServer silent(RawServer::Mode::kSilent);
  const int closed = free_port();
  dir.write("g.toml", grpc_monitor("http1", fmt::format("grpc://127.0.0.1:{}", http1.port())) +
                          grpc_monitor("https1", fmt::format("grpcs://127.0.0.1:{}", https1.port()),
                                       fmt::format("ca_file = \"{}\"", certs.ca_cert)) +
                          grpc_monitor("refused", fmt::format("grpc://127.0.0.1:{}", closed)) +
                          grpc_monitor("silent", fmt::format("grpc://127.0.0.1:{}", silent.port()),
                                       "timeout = \"1s\""));
  int code = 0;
  const auto results = probe_json(dir.file("g.toml"), code);
  EXPECT_EQ(code, 1);
  expect_results(results, {
                              {"http1", "down", "no HTTP/2 reply, so not a gRPC server"},
                              {"https1", "down", "not HTTP/2: not a gRPC server"},
                              {"refused", "down", "cannot connect"},
                              {"silent", "down", "timed out after 1s"},
                          });
  EXPECT_TRUE(results.at("refused")["timings_ms"]["total"].is_null());
}

TEST(GrpcProbe, TheDaemonTurnsAServingMonitorUp) {
  TempDir dir;
  GrpcHealthServer server(dir, {"--serving", "orders.v1.Orders", "--not-serving", "billing"});
  Daemon d(dir, grpc_monitor("orders", fmt::format("grpc://127.0.0.1:{}", server.port()),
                             "service = \"orders.v1.Orders\"\ninterval = \"1s\"\ntimeout = \"1s\"\n"
                             "public = true") +
                    grpc_monitor("billing", fmt::format("grpc://127.0.0.1:{}", server.port()),
                                 "service = \"billing\"\ninterval = \"1s\"\ntimeout = \"1s\"\n"
                                 "public = true\nfail_after = 1"));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("orders")["state"] == "up"; }, 15'000ms))
      << d.monitor("orders").dump();
  ASSERT_TRUE(wait_until([&] { return d.monitor("billing")["state"] == "down"; }, 15'000ms))
      << d.monitor("billing").dump();
  EXPECT_EQ(d.monitor("billing")["cause"], "NOT_SERVING");
  EXPECT_TRUE(d.monitor("orders")["latency_ms"].is_number());
}

}  // namespace
}  // namespace lookout::testing
