// The domain kind through the real binary, against a local RDAP server (cpp-httplib answering
// RFC 9083 JSON) and a local WHOIS server (a TCP server in the test): far, near and past
// expiries, a 404 that falls back to WHOIS, WHOIS answers with and without an expiry, rate
// limits from both, a WHOIS server that never answers and one that sends without end; the
// daemon runs a domain monitor soon after start and then every 12h whatever [defaults] says.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <mutex>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

using SysClock = std::chrono::system_clock;
constexpr auto kDomainDay = std::chrono::hours{24};

// The RDAP stand-in formats on its server threads: gmtime_r, not gmtime's shared buffer, or two
// answers written at once mix their fields.
std::string stamp(SysClock::time_point t) {
  const time_t s = SysClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string date_of(SysClock::time_point t) { return stamp(t).substr(0, 10); }

// An RFC 9083 domain answer as a registry writes it.
std::string rdap_answer(const std::string& name,
                        const std::optional<SysClock::time_point>& expires) {
  nlohmann::json events = nlohmann::json::array(
      {{{"eventAction", "registration"}, {"eventDate", "2001-05-02T10:00:00Z"}},
       {{"eventAction", "last changed"}, {"eventDate", "2024-08-14T07:01:34Z"}}});
  if (expires) events.push_back({{"eventAction", "expiration"}, {"eventDate", stamp(*expires)}});
  return nlohmann::json{
      {"objectClassName", "domain"},
      {"ldhName", name},
      {"handle", "D1234-TEST"},
      {"status", {"active"}},
      {"events", events},
      {"entities", {{{"objectClassName", "entity"}, {"handle", "9999"}, {"roles", {"registrar"}}}}},
      {"rdapConformance", {"rdap_level_0"}},
      {"notices", {{{"title", "Terms of Use"}, {"description", {"For tests."}}}}}}
      .dump();
}

// A WHOIS server (RFC 3912) on 127.0.0.1: reads one query line and answers with the text
// given for that name, then closes. kSilent never answers; kFlood sends its text and then
// more without end.
class WhoisServer {
 public:
  static constexpr const char* kSilent = "\x01silent";
  static constexpr const char* kFlood = "\x01flood";

  explicit WhoisServer(std::map<std::string, std::string> answers) : answers_(std::move(answers)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 64) != 0)
      throw std::runtime_error("cannot listen for WHOIS");
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~WhoisServer() {
    stop_ = true;
    thread_.join();
    for (auto& t : connections_) t.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::vector<std::string> queries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c >= 0) connections_.emplace_back([this, c] { answer(c); });
    }
  }
  void answer(int c) {
    std::string query;
    char buf[512];
    while (query.find("\r\n") == std::string::npos && query.size() < 1024 && !stop_) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      query.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      queries_.push_back(query);
    }
    const std::string name = query.substr(0, query.find("\r\n"));
    const auto it = answers_.find(name);
    const std::string text =
        it != answers_.end() ? it->second : "No match for \"" + name + "\".\r\n";
    if (text == kSilent) {
      while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else if (text.rfind(kFlood, 0) == 0) {
      std::string chunk = text.substr(std::string(kFlood).size());
      const std::string junk(16 * 1024, 'x');
      // Until the client hangs up: it must stop reading at its cap.
      while (!stop_ && send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
        chunk = junk;
        sent_ += junk.size();
      }
    } else {
      send(c, text.data(), text.size(), MSG_NOSIGNAL);
    }
    close(c);
  }

  std::map<std::string, std::string> answers_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> sent_{0};
  std::thread thread_;
  std::vector<std::thread> connections_;
  mutable std::mutex mu_;
  std::vector<std::string> queries_;
};

std::string domain_cause(const nlohmann::json& r) {
  return r["cause"].is_string() ? r["cause"].get<std::string>() : "";
}

TEST(DomainProbe, JudgesExpiriesFromRdapAndFallsBackToWhois) {
  TempDir dir;
  const auto now = SysClock::now();
  const auto far = now + 400 * kDomainDay + std::chrono::hours{12};
  const auto warn = now + 20 * kDomainDay + std::chrono::hours{12};
  const auto fail = now + 3 * kDomainDay + std::chrono::hours{12};
  const auto expired = now - 2 * kDomainDay - std::chrono::hours{12};
  const auto via_whois = now + 100 * kDomainDay + std::chrono::hours{12};

  TargetServer rdap;
  std::mutex mu;
  std::vector<std::string> accepts;
  rdap.routes().Get(R"(/domain/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mu);
      accepts.push_back(req.get_header_value("Accept"));
    }
    const std::string name = req.matches[1];
    std::optional<SysClock::time_point> expiry;
    if (name == "far.test") expiry = far;
    if (name == "warn.test") expiry = warn;
    if (name == "fail.test") expiry = fail;
    if (name == "expired.test") expiry = expired;
    if (name == "limited.test") {
      res.status = 429;
      res.set_header("Retry-After", "7200");
      res.set_content(R"({"errorCode": 429, "title": "Too Many Requests"})",
                      "application/rdap+json");
      return;
    }
    if (name == "nodate.test") {
      res.set_content(rdap_answer(name, std::nullopt), "application/rdap+json");
      return;
    }
    if (!expiry) {
      res.status = 404;
      res.set_content(R"({"errorCode": 404, "title": "Not Found"})", "application/rdap+json");
      return;
    }
    res.set_content(rdap_answer(name, expiry), "application/rdap+json");
  });
  rdap.start();

  WhoisServer whois({
      {"gone.test", fmt::format("   Domain Name: GONE.TEST\r\n   Registry Expiry Date: {}\r\n"
                                "   Registrar: Test Registrar\r\n>>> Last update of whois "
                                "database: {} <<<\r\n",
                                stamp(via_whois), stamp(now))},
      {"blank.test", "Domain Name: BLANK.TEST\r\nStatus: ok\r\n"},
      {"acme.zz", fmt::format("domain: ACME.ZZ\npaid-till: {}\n", stamp(via_whois).substr(0, 10))},
      {"busy.zz", "WHOIS LIMIT EXCEEDED - SEE WWW.REGISTRY.ZZ/WHOIS FOR DETAILS\r\n"},
      {"flood.zz", std::string(WhoisServer::kFlood) +
                       "Expiry date: " + stamp(via_whois).substr(0, 10) + "\r\n"},
  });
  WhoisServer silent(std::map<std::string, std::string>{{"stall.zz", WhoisServer::kSilent}});

  std::string toml;
  auto mon = [&](const std::string& name, const std::string& domain, const std::string& extra) {
    toml += fmt::format(
        "[[monitor]]\nname = \"{}\"\ntype = \"domain\"\ndomain = \"{}\"\n"
        "rdap_url = \"http://127.0.0.1:{}/\"\ntimeout = \"3s\"\n{}\n",
        name, domain, rdap.port(), extra);
  };
  const std::string with_whois = fmt::format("whois = \"127.0.0.1:{}\"", whois.port());
  mon("far", "far.test", "");
  mon("warn", "warn.test", "");
  mon("fail", "fail.test", "");
  mon("expired", "expired.test", "");
  mon("gone", "gone.test", with_whois);
  mon("nomatch", "nomatch.test", with_whois);
  mon("blank", "blank.test", with_whois);
  mon("lonely", "lonely.test", "");
  mon("limited", "limited.test", with_whois);
  mon("nodate", "nodate.test", "");
  // TLDs without an RDAP server (none in the bootstrap list, no rdap_url): WHOIS alone.
  auto whois_only = [&](const std::string& name, const std::string& domain, int port,
                        const std::string& timeout) {
    toml += fmt::format(
        "[[monitor]]\nname = \"{}\"\ntype = \"domain\"\ndomain = \"{}\"\nwhois = "
        "\"127.0.0.1:{}\"\ntimeout = \"{}\"\n",
        name, domain, port, timeout);
  };
  whois_only("whois-only", "acme.zz", whois.port(), "3s");
  whois_only("whois-busy", "busy.zz", whois.port(), "3s");
  whois_only("whois-flood", "flood.zz", whois.port(), "3s");
  whois_only("whois-stall", "stall.zz", silent.port(), "1s");
  toml += "[[monitor]]\nname = \"unknown-tld\"\ntype = \"domain\"\ndomain = \"acme.zz\"\n";
  dir.write("c.toml", toml);

  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 1);
  struct Want {
    std::string outcome;
    std::string cause;  // exact; "" for none
  };
  const std::string whois_at = fmt::format("127.0.0.1:{}", whois.port());
  const std::map<std::string, Want> want{
      {"far", {"up", ""}},
      {"warn", {"degraded", "registration expires in 20 days (" + date_of(warn) + ")"}},
      {"fail", {"down", "registration expires in 3 days (" + date_of(fail) + ")"}},
      {"expired", {"down", "registration expired 2 days ago (" + date_of(expired) + ")"}},
      {"gone", {"up", ""}},
      {"nomatch", {"down", "no registration data for nomatch.test"}},
      {"blank",
       {"down",
        "RDAP answered 404 at 127.0.0.1; no expiration date in the WHOIS answer from " + whois_at}},
      {"lonely", {"down", "no registration data for lonely.test"}},
      {"nodate",
       {"down",
        "no expiration date in the RDAP answer from 127.0.0.1 (the answer has no expiration "
        "event)"}},
      {"whois-only", {"up", ""}},
      {"whois-flood", {"up", ""}},
      {"whois-stall",
       {"down", fmt::format("timeout after 1s waiting for the answer of WHOIS server 127.0.0.1:{}",
                            silent.port())}},
      {"unknown-tld",
       {"down",
        "no RDAP server for .zz in lookout's bootstrap list and no WHOIS server known; set "
        "rdap_url or whois"}},
  };
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(name);
    ASSERT_EQ(r.count(name), 1u);
    EXPECT_EQ(r.at(name)["outcome"], w.outcome) << r.at(name).dump();
    EXPECT_EQ(domain_cause(r.at(name)), w.cause) << r.at(name).dump();
  }

  // What the run saw is in its detail: the source, the expiry and the whole days left.
  const auto& far_detail = r.at("far")["detail"];
  EXPECT_EQ(far_detail["source"], "rdap");
  EXPECT_EQ(far_detail["expires"], stamp(far));
  EXPECT_EQ(far_detail["days_left"], 400);
  EXPECT_EQ(far_detail["rdap"]["status"], 200);
  EXPECT_EQ(r.at("gone")["detail"]["source"], "whois");
  EXPECT_EQ(r.at("gone")["detail"]["rdap"]["status"], 404);
  EXPECT_EQ(r.at("gone")["detail"]["expires"], stamp(via_whois));
  EXPECT_EQ(r.at("gone")["detail"]["days_left"], 100);
  EXPECT_EQ(r.at("whois-only")["detail"]["source"], "whois");
  EXPECT_EQ(r.at("whois-only")["detail"]["rdap"], nullptr);
  // That answer gives the date alone (midnight UTC): 99 or 100 whole days, by the time of day.
  const auto date_only = std::chrono::floor<std::chrono::days>(via_whois);
  EXPECT_EQ(r.at("whois-flood")["detail"]["days_left"],
            std::chrono::floor<std::chrono::days>(date_only - now).count());
  // An answered run has a latency: the registry's response time.
  EXPECT_TRUE(r.at("far")["timings_ms"]["total"].is_number());

  // A rate limit is not the domain's failure: degraded (nothing seen before), naming the
  // registry and when it will be asked again (Retry-After: 2 hours), and WHOIS is not asked.
  const auto& limited = r.at("limited");
  EXPECT_EQ(limited["outcome"], "degraded") << limited.dump();
  EXPECT_EQ(limited["kind"], "rate_limited");
  const std::string next_try = limited["detail"]["rate_limited"]["next_try"];
  EXPECT_EQ(domain_cause(limited), "rate-limited by 127.0.0.1 (429); next try after " + next_try);
  EXPECT_GE(next_try, stamp(now + std::chrono::minutes{118}));
  EXPECT_LE(next_try, stamp(SysClock::now() + std::chrono::minutes{121}));
  const auto& busy = r.at("whois-busy");
  EXPECT_EQ(busy["outcome"], "degraded") << busy.dump();
  EXPECT_EQ(domain_cause(busy).rfind(
                "rate-limited by " + whois_at + " (query limit); next try after ", 0),
            0u)
      << busy.dump();

  // Every RDAP request asked for RDAP's media type; WHOIS got "<domain>\r\n" and nothing else,
  // and never for the rate-limited domain.
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_FALSE(accepts.empty());
    for (const auto& a : accepts) EXPECT_EQ(a, "application/rdap+json");
  }
  const auto queries = whois.queries();
  EXPECT_NE(std::find(queries.begin(), queries.end(), "gone.test\r\n"), queries.end());
  EXPECT_EQ(std::find(queries.begin(), queries.end(), "limited.test\r\n"), queries.end());
}

TEST(DomainProbe, TheDaemonRunsItSoonAfterStartThenEvery12Hours) {
  TempDir dir;
  const auto warn = SysClock::now() + 20 * kDomainDay + std::chrono::hours{12};
  TargetServer rdap;  // counts every request it serves
  rdap.routes().Get(R"(/domain/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(rdap_answer(req.matches[1], warn), "application/rdap+json");
  });
  rdap.start();
  // [defaults] interval is for the other kinds: a domain monitor without its own runs every 12h.
  Daemon d(dir,
           fmt::format("[defaults]\ninterval = \"1s\"\ntimeout = \"1s\"\n"
                       "[[monitor]]\nname = \"acme-domain\"\ntype = \"domain\"\npublic = true\n"
                       "domain = \"acme.test\"\nrdap_url = \"http://127.0.0.1:{}\"\n",
                       rdap.port()));
  d.start();
  ASSERT_TRUE(wait_until([&] { return d.monitor("acme-domain")["state"] == "degraded"; }, 15s))
      << d.monitor("acme-domain").dump();
  EXPECT_EQ(d.monitor("acme-domain")["cause"],
            "registration expires in 20 days (" + date_of(warn) + ")");
  // Three of [defaults]' intervals later the registry has still been asked once.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(rdap.hits.load(), 1) << d.process().err();
}

TEST(DomainProbe, CheckRefusesAnIntervalBelowOneHour) {
  TempDir dir;
  dir.write("c.toml",
            "[[monitor]]\nname = \"acme-domain\"\ntype = \"domain\"\ndomain = \"acme.test\"\n"
            "interval = \"10m\"\n");
  const auto r = run_lookout({"check", "-c", dir.file("c.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dir.file("c.toml") +
                       ":5:12: interval 10m of domain monitor \"acme-domain\" is below the "
                       "minimum 1h"),
            std::string::npos)
      << r.err << r.out;
}

}  // namespace
}  // namespace lookout::testing
