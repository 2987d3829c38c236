// The real daemon against real targets on loopback, healthy and hostile side by side: each
// monitor ends in the right state with the right cause, and the healthy one keeps its schedule.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

struct Expectation {
  const char* monitor;
  const char* state;
  const char* cause;  // a part of the cause; "" for none
};

TEST(HostileTargets, EachFailsWithItsCauseAndTheHealthyKeepTheirSchedule) {
  TempDir dir;
  const Certs certs = make_certs(dir);
  TargetServer plain;
  add_standard_routes(plain);
  plain.start();
  TargetServer tls(certs.leaf_cert, certs.leaf_key);
  add_standard_routes(tls);
  tls.start();
  TargetServer self_signed(certs.self_cert, certs.self_key);
  add_standard_routes(self_signed);
  self_signed.start();
  RawServer closer(RawServer::Mode::kCloseAfterRequest);
  RawServer garbage(RawServer::Mode::kGarbage);
  RawServer silent(RawServer::Mode::kSilent);
  RawServer drip(RawServer::Mode::kDrip);
  RawServer reset(RawServer::Mode::kReset);
  const int refused = free_port();

  const std::string p = std::to_string(plain.port());
  auto mon = [](const std::string& name, const std::string& url, const std::string& extra = "") {
    return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"http\"\nurl = \"{}\"\n{}\n", name, url, extra);
  };
  std::string monitors = "[defaults]\ninterval = \"1s\"\ntimeout = \"800ms\"\nfail_after = 1\nrecover_after = 1\npublic = true\n\n";
  monitors += mon("healthy", "http://127.0.0.1:" + p + "/ok", "expect.body_contains = \"Sign in\"");
  monitors += mon("json", "http://127.0.0.1:" + p + "/json", "expect.json = { \"/status\" = \"ok\", \"/version\" = 3.0 }");
  monitors += mon("error-500", "http://127.0.0.1:" + p + "/fail");
  monitors += mon("slow", "http://127.0.0.1:" + p + "/slow");
  monitors += mon("huge-body", "http://127.0.0.1:" + p + "/big");
  monitors += mon("redirect-loop", "http://127.0.0.1:" + p + "/loop");
  monitors += mon("closed", fmt::format("http://127.0.0.1:{}/", closer.port()));
  monitors += mon("garbage", fmt::format("http://127.0.0.1:{}/", garbage.port()));
  monitors += mon("silent", fmt::format("http://127.0.0.1:{}/", silent.port()));
  monitors += mon("drip", fmt::format("http://127.0.0.1:{}/", drip.port()));
  monitors += mon("reset", fmt::format("http://127.0.0.1:{}/", reset.port()));
  monitors += mon("refused", fmt::format("http://127.0.0.1:{}/", refused));
  monitors += mon("tls-ok", fmt::format("https://127.0.0.1:{}/ok", tls.port()), "ca_file = \"" + certs.ca_cert + "\"");
  monitors += mon("tls-untrusted", fmt::format("https://127.0.0.1:{}/ok", self_signed.port()));
  monitors += mon("tls-insecure", fmt::format("https://127.0.0.1:{}/ok", self_signed.port()), "insecure = true");

  Daemon d(dir, monitors);
  d.start();

  const std::vector<Expectation> expected{
      {"healthy", "up", ""},
      {"json", "up", ""},
      {"error-500", "down", "expected status 2xx, got 500"},
      {"slow", "down", "timed out after 800ms waiting for the response"},
      {"huge-body", "down", "body is larger than max_body 1MiB; the rest was not downloaded"},
      {"redirect-loop", "down", "more than 10 redirects"},
      {"closed", "down", "the server closed the connection without a reply"},
      {"garbage", "down", "not a valid HTTP response"},
      {"silent", "down", "timed out after 800ms waiting for the response"},
      {"drip", "down", "timed out after 800ms reading the response"},
      {"reset", "down", "connection failed"},
      {"refused", "down", "cannot connect"},
      {"tls-ok", "up", ""},
      {"tls-untrusted", "down", "TLS failed"},
      {"tls-insecure", "up", ""},
  };
  for (const auto& e : expected) {
    nlohmann::json m;
    const bool ok = wait_until(
        [&] {
          m = d.monitor(e.monitor);
          return m.is_object() && m["state"] == e.state && !m["last_check"].is_null() &&
                 (std::string(e.cause).empty() ? m["cause"].is_null()
                                               : m["cause"].is_string() &&
                                                     m["cause"].get<std::string>().find(e.cause) != std::string::npos);
        },
        15'000ms);
    EXPECT_TRUE(ok) << e.monitor << " is " << m.dump() << "; expected " << e.state << " with cause containing \"" << e.cause
                    << "\"";
  }
  // A run without a response has no latency; one with a response has it.
  EXPECT_TRUE(d.monitor("refused")["latency_ms"].is_null());
  EXPECT_TRUE(d.monitor("healthy")["latency_ms"].is_number());
  // TLS phases are measured on the TLS target.
  EXPECT_GT(metric_value(d.metrics(), "lookout_probe_duration_seconds", "monitor=\"tls-ok\",phase=\"tls\""), 0);
  // The insecure monitor says so in the log.
  EXPECT_NE(d.process().err().find("tls-insecure (insecure: TLS not verified)"), std::string::npos);

  // While the hostile targets stall, drip and overflow, the healthy monitor runs every second.
  const double runs_before = metric_value(d.metrics(), "lookout_probe_runs_total", "monitor=\"healthy\"");
  const auto started = std::chrono::steady_clock::now();
  std::string after;
  EXPECT_TRUE(wait_until(
      [&] {
        after = d.metrics();
        return metric_value(after, "lookout_probe_runs_total", "monitor=\"healthy\"") - runs_before >= 3;
      },
      4500ms))
      << "the healthy monitor fell behind its 1s interval";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1900ms) << "three runs at 1 s take at least two seconds";
  EXPECT_EQ(metric_value(after, "lookout_probe_failures_total", "monitor=\"healthy\""), 0);
  // No run of any monitor started more than half a second late.
  EXPECT_EQ(metric_value(after, "lookout_scheduler_lag_seconds_bucket", "le=\"0.5\""),
            metric_value(after, "lookout_scheduler_lag_seconds_count"));
  // The huge body was not downloaded: the target sent far less than 50 MiB per run.
  EXPECT_GE(plain.hits.load(), 1);
}

}  // namespace
}  // namespace lookout::testing
