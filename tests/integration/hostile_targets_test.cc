// The real daemon against real targets on loopback, healthy and hostile side by side: each
// monitor ends in the right state with the right cause, and the healthy ones keep their
// schedule, also a thousand of them beside fifty hostile targets.
#include <gtest/gtest.h>

#include <sstream>

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
    return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"http\"\nurl = \"{}\"\n{}\n", name, url,
                       extra);
  };
  std::string monitors =
      "[defaults]\ninterval = \"1s\"\ntimeout = \"800ms\"\nfail_after = 1\nrecover_after = "
      "1\npublic = true\n\n";
  monitors += mon("healthy", "http://127.0.0.1:" + p + "/ok", "expect.body_contains = \"Sign in\"");
  monitors += mon("json", "http://127.0.0.1:" + p + "/json",
                  "expect.json = { \"/status\" = \"ok\", \"/version\" = 3.0 }");
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
  monitors += mon("tls-ok", fmt::format("https://127.0.0.1:{}/ok", tls.port()),
                  "ca_file = \"" + certs.ca_cert + "\"");
  monitors += mon("tls-untrusted", fmt::format("https://127.0.0.1:{}/ok", self_signed.port()));
  monitors += mon("tls-insecure", fmt::format("https://127.0.0.1:{}/ok", self_signed.port()),
                  "insecure = true");

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
                 (std::string(e.cause).empty()
                      ? m["cause"].is_null()
                      : m["cause"].is_string() &&
                            m["cause"].get<std::string>().find(e.cause) != std::string::npos);
        },
        15'000ms);
    EXPECT_TRUE(ok) << e.monitor << " is " << m.dump() << "; expected " << e.state
                    << " with cause containing \"" << e.cause << "\"";
  }
  // A run without a response has no latency; one with a response has it.
  EXPECT_TRUE(d.monitor("refused")["latency_ms"].is_null());
  EXPECT_TRUE(d.monitor("healthy")["latency_ms"].is_number());
  // TLS phases are measured on the TLS target.
  EXPECT_GT(metric_value(d.metrics(), "lookout_probe_duration_seconds",
                         "monitor=\"tls-ok\",phase=\"tls\""),
            0);
  // The insecure monitor says so in the log.
  EXPECT_NE(d.process().err().find("tls-insecure (insecure: TLS not verified)"), std::string::npos);

  // While the hostile targets stall, drip and overflow, the healthy monitor runs every second.
  const double runs_before =
      metric_value(d.metrics(), "lookout_probe_runs_total", "monitor=\"healthy\"");
  const auto started = std::chrono::steady_clock::now();
  std::string after;
  EXPECT_TRUE(wait_until(
      [&] {
        after = d.metrics();
        return metric_value(after, "lookout_probe_runs_total", "monitor=\"healthy\"") -
                   runs_before >=
               3;
      },
      4500ms))
      << "the healthy monitor fell behind its 1s interval";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1900ms)
      << "three runs at 1 s take at least two seconds";
  EXPECT_EQ(metric_value(after, "lookout_probe_failures_total", "monitor=\"healthy\""), 0);
  // No run of any monitor started more than half a second late.
  EXPECT_EQ(metric_value(after, "lookout_scheduler_lag_seconds_bucket", "le=\"0.5\""),
            metric_value(after, "lookout_scheduler_lag_seconds_count"));
  // The huge body was not downloaded: the target sent far less than 50 MiB per run.
  EXPECT_GE(plain.hits.load(), 1);
}

// p99 of the scheduler lag between two scrapes, from the histogram's buckets: the smallest
// bound holding 99 % of the runs in between.
double lag_p99(const std::string& before, const std::string& after) {
  const double total = metric_value(after, "lookout_scheduler_lag_seconds_count") -
                       metric_value(before, "lookout_scheduler_lag_seconds_count");
  for (double bound :
       {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0}) {
    const std::string le = fmt::format("le=\"{}\"", bound);
    const double n = metric_value(after, "lookout_scheduler_lag_seconds_bucket", le) -
                     metric_value(before, "lookout_scheduler_lag_seconds_bucket", le);
    if (total > 0 && n >= 0.99 * total) return bound;
  }
  return 1e9;
}

TEST(HostileTargets, AThousandHealthyBesideFiftyHostileKeepTheirScheduleAndNeverFail) {
  TempDir dir;
  RawServer healthy(RawServer::Mode::kStatus);
  TargetServer plain;
  add_standard_routes(plain);
  plain.start();
  RawServer closer(RawServer::Mode::kCloseAfterRequest);
  RawServer garbage(RawServer::Mode::kGarbage);
  RawServer silent(RawServer::Mode::kSilent);
  RawServer drip(RawServer::Mode::kDrip);
  RawServer reset(RawServer::Mode::kReset);
  MuteResolver mute;

  std::string monitors =
      "[defaults]\ninterval = \"2s\"\ntimeout = \"1500ms\"\nfail_after = 1\nrecover_after = "
      "1\npublic = true\n\n";
  for (int i = 0; i < 1000; ++i) {
    monitors += fmt::format(
        "[[monitor]]\nname = \"ok{}\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/app/{}\"\n\n",
        i, healthy.port(), i);
  }
  // Fifty hostile targets, of eight kinds: never answers, drips a byte every 200 ms, stalls
  // the TLS handshake, a 50 MiB body, endless redirects, garbage bytes, a DNS server that
  // never answers, a reset.
  const std::string p = std::to_string(plain.port());
  const std::vector<std::string> hostile{
      fmt::format("type = \"http\"\nurl = \"http://127.0.0.1:{}/\"", silent.port()),
      fmt::format("type = \"http\"\nurl = \"http://127.0.0.1:{}/\"", drip.port()),
      fmt::format("type = \"cert\"\nhost = \"127.0.0.1\"\nport = {}", silent.port()),
      "type = \"http\"\nurl = \"http://127.0.0.1:" + p + "/big\"",
      "type = \"http\"\nurl = \"http://127.0.0.1:" + p + "/loop\"",
      fmt::format("type = \"http\"\nurl = \"http://127.0.0.1:{}/\"", garbage.port()),
      fmt::format("type = \"dns\"\nquery = \"portal.acme.test\"\nresolver = "
                  "\"127.0.0.1:{}\"\non_change = \"ignore\"",
                  mute.port()),
      fmt::format("type = \"http\"\nurl = \"http://127.0.0.1:{}/\"", reset.port()),
  };
  for (int i = 0; i < 50; ++i)
    monitors +=
        fmt::format("[[monitor]]\nname = \"hostile{}\"\n{}\n\n", i, hostile[i % hostile.size()]);

  Daemon d(dir, monitors);
  d.start();
  auto states = [&] {
    std::map<std::string, int> n;
    const auto s = d.status();
    if (s.is_object()) {
      for (const auto& m : s["monitors"])
        n[m["name"].get<std::string>().rfind("ok", 0) == 0
              ? "ok-" + m["state"].get<std::string>()
              : "hostile-" + m["state"].get<std::string>()]++;
    }
    return n;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        auto n = states();
        return n["ok-up"] == 1000 && n["hostile-down"] == 50;
      },
      30'000ms))
      << ::testing::PrintToString(states());
  // A measured window of two intervals and more, after every monitor has run.
  const std::string before = d.metrics();
  std::this_thread::sleep_for(6000ms);
  const std::string after = d.metrics();
  const double p99 = lag_p99(before, after);
  RecordProperty("lag_p99_bound_seconds", std::to_string(p99));
  EXPECT_LE(p99, 0.05) << "scheduler lag p99 above 50 ms beside hostile targets";
  double healthy_failures = 0;
  std::istringstream lines(after);
  for (std::string line; std::getline(lines, line);) {
    const std::string key = "lookout_probe_failures_total{monitor=\"ok";
    if (line.rfind(key, 0) == 0) healthy_failures += std::stod(line.substr(line.find("} ") + 2));
  }
  EXPECT_EQ(healthy_failures, 0) << "a healthy monitor failed beside the hostile ones";
  EXPECT_EQ(states()["ok-up"], 1000);
}

}  // namespace
}  // namespace lookout::testing
