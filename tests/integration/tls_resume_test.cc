// tls_resume against real TLS servers in the test process, which count for each path how many
// handshakes were full and how many resumed: a monitor with it resumes (TLS 1.3, and TLS 1.2
// through a session ticket when the server keeps no session cache, as nginx by default), makes a
// full handshake again once the session is older than its limit, and a monitor without it
// never resumes, even beside one that does on the same server.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

struct Handshakes {
  std::atomic<int> full{0};
  std::atomic<int> resumed{0};
};

// An HTTPS server answering /PATH with "ok" and counting each request's handshake kind.
std::unique_ptr<TargetServer> counting_server(const Certs& certs, int max_version,
                                              std::map<std::string, Handshakes>& paths) {
  auto svr = std::make_unique<httplib::SSLServer>([&certs, max_version](SSL_CTX& ctx) {
    if (SSL_CTX_use_certificate_chain_file(&ctx, certs.leaf_cert.c_str()) != 1) return false;
    if (SSL_CTX_use_PrivateKey_file(&ctx, certs.leaf_key.c_str(), SSL_FILETYPE_PEM) != 1)
      return false;
    SSL_CTX_set_max_proto_version(&ctx, max_version);
    // No server-side cache: a TLS 1.2 session can come back only in a ticket the client kept.
    SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
    return true;
  });
  for (auto& entry : paths) {
    Handshakes& count = entry.second;
    svr->Get(entry.first, [&count](const httplib::Request& req, httplib::Response& res) {
      if (req.ssl != nullptr && SSL_session_reused(req.ssl) == 1) {
        ++count.resumed;
      } else {
        ++count.full;
      }
      res.set_content("ok", "text/plain");
    });
  }
  auto target = std::make_unique<TargetServer>(std::move(svr));
  target->start();
  return target;
}

// A temporary folder, the test's certificates and a counting server for `paths`.
struct CountingTarget {
  CountingTarget(int max_version, std::initializer_list<std::string> path_list)
      : certs(make_certs(dir)) {
    for (const auto& p : path_list) paths[p];
    server = counting_server(certs, max_version, paths);
  }
  // An https monitor of `path` on the server, trusting the test's CA.
  std::string monitor(const std::string& name, const std::string& path,
                      const std::string& extra) const {
    return fmt::format(
        "[[monitor]]\nname = \"{}\"\ntype = \"http\"\nurl = \"https://127.0.0.1:{}{}\"\nca_file = "
        "\"{}\"\n{}\n",
        name, server->port(), path, certs.ca_cert, extra);
  }
  TempDir dir;
  Certs certs;
  std::map<std::string, Handshakes> paths;
  std::unique_ptr<TargetServer> server;
};

constexpr const char* kDefaults =
    "[defaults]\ninterval = \"1s\"\ntimeout = \"900ms\"\npublic = true\n";

void resumes_only_when_asked(int max_version) {
  CountingTarget t(max_version, {"/resume", "/fresh"});
  auto& paths = t.paths;
  Daemon d(t.dir,
           fmt::format("{}\n{}{}", kDefaults, t.monitor("resume", "/resume", "tls_resume = \"1h\""),
                       t.monitor("fresh", "/fresh", "")));
  d.start();
  ASSERT_TRUE(
      wait_until([&] { return paths["/resume"].resumed >= 3 && paths["/fresh"].full >= 4; }, 30s))
      << "resume: " << paths["/resume"].full << " full, " << paths["/resume"].resumed
      << " resumed; fresh: " << paths["/fresh"].full << " full, " << paths["/fresh"].resumed
      << " resumed";
  EXPECT_EQ(paths["/resume"].full, 1) << "only the first run needs a full handshake";
  EXPECT_EQ(paths["/fresh"].resumed, 0) << "without tls_resume every run sees the certificate";
  EXPECT_EQ(d.monitor("resume")["state"], "up");
  EXPECT_EQ(d.monitor("fresh")["state"], "up");
}

TEST(TlsResume, Tls13ResumesOnlyTheMonitorThatAsks) { resumes_only_when_asked(TLS1_3_VERSION); }

TEST(TlsResume, Tls12ResumesThroughATicketWithoutAServerCache) {
  resumes_only_when_asked(TLS1_2_VERSION);
}

TEST(TlsResume, ASessionOlderThanTheLimitIsNotResumed) {
  CountingTarget t(TLS1_3_VERSION, {"/short"});
  auto& paths = t.paths;
  Daemon d(t.dir,
           fmt::format("{}\n{}", kDefaults, t.monitor("short", "/short", "tls_resume = \"2s\"")));
  d.start();
  // A session lasts two seconds, so about every other run starts afresh.
  ASSERT_TRUE(
      wait_until([&] { return paths["/short"].full >= 3 && paths["/short"].resumed >= 2; }, 30s))
      << paths["/short"].full << " full, " << paths["/short"].resumed << " resumed";
}

// A cert monitor must see the chain on every run: a resumed handshake would show none. Its
// runs take pooled handles that earlier runs, its own and a resuming monitor's, used against the
// same server.
TEST(TlsResume, ACertMonitorNeverResumes) {
  CountingTarget t(TLS1_3_VERSION, {"/resume"});
  auto& paths = t.paths;
  std::string monitors = fmt::format("{}fail_after = 1\n\n{}", kDefaults,
                                     t.monitor("resume", "/resume", "tls_resume = \"1h\""));
  monitors += fmt::format(
      "[[monitor]]\nname = \"cert\"\ntype = \"cert\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = "
      "\"{}\"\n"
      "warn_within = \"10d\"\nfail_within = \"5d\"\n",
      t.server->port(), t.certs.ca_cert);
  Daemon d(t.dir, monitors);
  d.start();
  ASSERT_TRUE(wait_until(
      [&] {
        return d.metrics().find("lookout_probe_runs_total{monitor=\"cert\"} 6\n") !=
               std::string::npos;
      },
      30s));
  EXPECT_GE(paths["/resume"].resumed, 3);
  const std::string metrics = d.metrics();
  EXPECT_NE(metrics.find("lookout_probe_failures_total{monitor=\"cert\"} 0\n"), std::string::npos)
      << d.monitor("cert").dump();
  EXPECT_EQ(d.monitor("cert")["state"], "up") << d.monitor("cert").dump();
}

}  // namespace
}  // namespace lookout::testing
