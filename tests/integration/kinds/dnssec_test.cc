// The dnssec kind against a real authoritative server (Knot) that signs its zones itself:
// secure answers are up, a zone whose signatures run out within warn_within is degraded, an
// unsigned zone is down as bogus under an anchor and insecure outside every anchor, a wrong
// anchor is bogus with libunbound's reason. The monitor forwards to Knot with the zone's own
// key (or its DS) as the trust anchor.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// What a shell command printed.
std::string dnssec_command_output(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::string dnssec_zone(const std::string& name) {
  return fmt::format(
      "$ORIGIN {0}.\n$TTL 60\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n"
      "portal A 203.0.113.10\n",
      name);
}

// Knot on a free port signing signed.test, other.test (keys of its own, for a wrong anchor)
// and short.test (signatures valid 2 days), and serving plain.test unsigned.
class SigningKnot {
 public:
  explicit SigningKnot(const TempDir& dir)
      : conf_(dir.file("knot-signing.conf")), port_(free_port()) {
    const std::string root = dir.file("knot-signing");
    std::filesystem::create_directories(root + "/run");
    std::filesystem::create_directories(root + "/db");
    std::filesystem::create_directories(root + "/zones");
    std::string conf = fmt::format(
        "server:\n  rundir: \"{0}/run\"\n  listen: 127.0.0.1@{1}\n"
        "database:\n  storage: \"{0}/db\"\n"
        "policy:\n"
        "  - id: normal\n    algorithm: ecdsap256sha256\n"
        "  - id: short\n    algorithm: ecdsap256sha256\n    rrsig-lifetime: 2d\n"
        "    rrsig-refresh: 1d\n"
        "template:\n  - id: default\n    storage: \"{0}/zones\"\n    file: \"%s.zone\"\n"
        "    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n"
        "    semantic-checks: off\n"
        "log:\n  - target: stderr\n    any: warning\n"
        "zone:\n"
        "  - domain: signed.test\n    dnssec-signing: on\n    dnssec-policy: normal\n"
        "  - domain: other.test\n    dnssec-signing: on\n    dnssec-policy: normal\n"
        "  - domain: short.test\n    dnssec-signing: on\n    dnssec-policy: short\n"
        "  - domain: plain.test\n",
        root, port_);
    for (const char* z : {"signed.test", "other.test", "short.test", "plain.test"}) {
      std::ofstream(fmt::format("{}/zones/{}.zone", root, z)) << dnssec_zone(z);
    }
    std::ofstream(conf_) << conf;
    proc_ = std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/knotd", "-c", conf_},
                                      std::map<std::string, std::string>{}, dir.path());
    // Up once every signed zone answers with its keys.
    const bool up = wait_until(
        [&] {
          return proc_->wait(0ms).has_value() ||
                 (!ksk("signed.test").empty() && !ksk("other.test").empty() &&
                  !ksk("short.test").empty());
        },
        15'000ms);
    if (!up || proc_->wait(0ms)) throw std::runtime_error("knotd did not start: " + proc_->err());
  }
  ~SigningKnot() {
    proc_->signal(SIGTERM);
    if (!proc_->wait(5'000ms)) proc_->signal(SIGKILL);
  }
  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }

  // The zone's key-signing key as "FLAGS PROTO ALG KEY", read from the server.
  std::string ksk(const std::string& zone) const {
    const std::string out = dnssec_command_output(fmt::format(
        "kdig @127.0.0.1 -p {} +timeout=1 +retry=0 +short {} DNSKEY 2>/dev/null", port_, zone));
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("257 ", 0) == 0) return line;
    }
    return "";
  }
  // The zone's DS record (SHA-256) as keymgr derives it from the key store.
  std::string ds(const std::string& zone) const {
    const std::string out =
        dnssec_command_output(fmt::format("keymgr -c {} {} ds 2>/dev/null", conf_, zone));
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find(" DS ") != std::string::npos && line.find(" 13 2 ") != std::string::npos) {
        return line;
      }
    }
    return "";
  }

 private:
  std::string conf_;
  int port_;
  std::unique_ptr<Process> proc_;
};

std::string dnssec_monitor(const std::string& name, const std::string& resolver,
                           const std::string& body) {
  return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"dnssec\"\nresolver = \"{}\"\n{}\n", name,
                     resolver, body);
}

TEST(DnssecProbe, JudgesSecureBogusInsecureAndExpiringChains) {
  TempDir dir;
  SigningKnot knot(dir);
  MuteResolver mute;
  const std::string signed_ksk = knot.ksk("signed.test");
  const std::string other_ksk = knot.ksk("other.test");
  const std::string signed_ds = knot.ds("signed.test");
  ASSERT_FALSE(signed_ds.empty());

  std::string toml = "[defaults]\ntimeout = \"5s\"\n";
  const auto mon = [&](const std::string& name, const std::string& body) {
    toml += dnssec_monitor(name, knot.address(), body);
  };
  mon("secure", fmt::format("query = \"portal.signed.test\"\ntrust_anchor = \"signed.test. {}\"",
                            signed_ksk));
  mon("secure-by-ds",
      fmt::format("query = \"portal.signed.test\"\ntrust_anchor = \"{}\"", signed_ds));
  mon("expiring", fmt::format("query = \"portal.short.test\"\ntrust_anchor = \"short.test. {}\"\n"
                              "warn_within = \"3d\"",
                              knot.ksk("short.test")));
  mon("expiring-unwatched",
      fmt::format("query = \"portal.short.test\"\ntrust_anchor = \"short.test. {}\"\n"
                  "warn_within = \"1d\"",
                  knot.ksk("short.test")));
  mon("unsigned-under-anchor",
      fmt::format("query = \"portal.plain.test\"\ntrust_anchor = \"plain.test. {}\"", other_ksk));
  mon("outside-every-anchor",
      fmt::format("query = \"portal.plain.test\"\ntrust_anchor = \"signed.test. {}\"", signed_ksk));
  mon("wrong-anchor",
      fmt::format("query = \"portal.signed.test\"\ntrust_anchor = \"signed.test. {}\"", other_ksk));
  mon("signed-nxdomain",
      fmt::format("query = \"nope.signed.test\"\ntrust_anchor = \"signed.test. {}\"", signed_ksk));
  mon("signed-nodata", fmt::format("query = \"portal.signed.test\"\nrecord = \"MX\"\n"
                                   "trust_anchor = \"signed.test. {}\"",
                                   signed_ksk));
  toml += dnssec_monitor(
      "mute", fmt::format("127.0.0.1:{}", mute.port()),
      fmt::format("query = \"portal.signed.test\"\ntrust_anchor = \"signed.test. {}\"\n"
                  "timeout = \"1s\"",
                  signed_ksk));
  dir.write("c.toml", toml);

  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 1);
  const std::map<std::string, std::pair<std::string, std::string>> want{
      {"secure", {"up", ""}},
      {"secure-by-ds", {"up", ""}},
      {"expiring", {"degraded", "the signature of portal.short.test A by short.test (key "}},
      {"expiring-unwatched", {"up", ""}},
      {"unsigned-under-anchor",
       {"down", "bogus: no DNSKEY rrset from 127.0.0.1 for trust anchor plain.test."}},
      {"outside-every-anchor",
       {"down", "insecure: no DNSSEC chain of trust for portal.plain.test"}},
      {"wrong-anchor", {"down", "bogus: "}},
      {"signed-nxdomain", {"down", "NXDOMAIN: nope.signed.test does not exist (a signed denial)"}},
      {"signed-nodata", {"down", "no MX records for portal.signed.test"}},
      {"mute", {"down", "no validated answer for A portal.signed.test from 127.0.0.1:"}},
  };
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(name);
    ASSERT_EQ(r.count(name), 1u);
    const auto& j = r.at(name);
    EXPECT_EQ(j["outcome"], w.first) << j.dump();
    if (w.second.empty()) {
      EXPECT_TRUE(j["cause"].is_null()) << j.dump();
    } else {
      EXPECT_NE(j["cause"].get<std::string>().find(w.second), std::string::npos) << j.dump();
    }
  }

  // What the secure run saw: the answer, and the signatures of the answer and of the anchor's
  // DNSKEY RRset, the earliest first.
  const auto& secure = r.at("secure")["detail"];
  EXPECT_EQ(secure["security"], "secure");
  EXPECT_EQ(secure["answers"], nlohmann::json::array({"203.0.113.10"}));
  ASSERT_EQ(secure["signatures"].size(), 2u) << secure.dump();
  std::set<std::string> covered;
  for (const auto& s : secure["signatures"]) covered.insert(s["type"].get<std::string>());
  EXPECT_EQ(covered, (std::set<std::string>{"A", "DNSKEY"}));
  EXPECT_EQ(secure["earliest_expiry"]["signer"], "signed.test");
  EXPECT_GT(r.at("secure")["timings_ms"]["dns"].get<double>(), 0.0);
  // The short zone's signatures run out 2 days after signing (a second ago, or a little more).
  const std::string expiring = r.at("expiring")["cause"];
  EXPECT_TRUE(expiring.find("expires in 1 day 23 hours") != std::string::npos ||
              expiring.find("expires in 2 days (") != std::string::npos)
      << expiring;
  EXPECT_EQ(r.at("unsigned-under-anchor")["detail"]["security"], "bogus");
  EXPECT_EQ(r.at("outside-every-anchor")["detail"]["security"], "insecure");
  EXPECT_TRUE(r.at("wrong-anchor")["detail"]["why_bogus"].is_string());
}

TEST(DnssecProbe, RunsOnTheDaemonAndAReloadTakesANewAnchor) {
  TempDir dir;
  SigningKnot knot(dir);
  const auto monitors = [&](const std::string& anchor) {
    return dnssec_monitor("portal-dnssec", knot.address(),
                          fmt::format("query = \"portal.signed.test\"\ntrust_anchor = "
                                      "\"signed.test. {}\"\ninterval = \"1s\"\ntimeout = "
                                      "\"1s\"\nfail_after = 1\nrecover_after = 1\npublic = true",
                                      anchor)) +
           dnssec_monitor("short-dnssec", knot.address(),
                          fmt::format("query = \"portal.short.test\"\ntrust_anchor = "
                                      "\"short.test. {}\"\ninterval = \"1s\"\ntimeout = "
                                      "\"1s\"\nfail_after = 1\nrecover_after = 1\npublic = true",
                                      knot.ksk("short.test")));
  };
  Daemon d(dir, monitors(knot.ksk("other.test")));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal-dnssec")["state"] == "down"; }, 10'000ms))
      << d.monitor("portal-dnssec").dump();
  EXPECT_NE(d.monitor("portal-dnssec")["cause"].get<std::string>().find("bogus: "),
            std::string::npos);
  ASSERT_TRUE(
      wait_until([&] { return d.monitor("short-dnssec")["state"] == "degraded"; }, 10'000ms))
      << d.monitor("short-dnssec").dump();
  // Run after run on one context: the monitor keeps being checked.
  const auto first = d.monitor("short-dnssec")["last_check"];
  ASSERT_TRUE(
      wait_until([&] { return d.monitor("short-dnssec")["last_check"] != first; }, 5'000ms));
  EXPECT_EQ(d.monitor("short-dnssec")["state"], "degraded");

  d.rewrite_config(monitors(knot.ksk("signed.test")));
  d.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return d.monitor("portal-dnssec")["state"] == "up"; }, 10'000ms))
      << d.monitor("portal-dnssec").dump();
}

}  // namespace
}  // namespace lookout::testing
