// The status page's email subscribers on `lookout run` nodes in cluster mode, real nodes in two
// locations against a real PostgreSQL and a real SMTP server (aiosmtpd): an address subscribed
// through one node's form is confirmed through the link on the other node; each node counts it;
// a public post made on either node and the opening of a public monitor's incident each reach
// it once; after one-click unsubscribing on a node, nothing more reaches it; a database that
// cannot be reached answers 503 and takes nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/run_node.h"
#include "tests/integration/cluster/svc_target.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {
namespace {

const char* const kSubsAdmin = "admin-token-of-the-subscribers-test";

struct SubscriberNode : RunNode {
  SubscriberNode(const PostgresServer& pg, const std::string& name, const std::string& location,
                 const SvcTarget& target, const test::HttpRecorder& hook, int smtp_port)
      : RunNode(pg, name, location, target, hook, kSubsAdmin,
                {"admin_token = \"${env:ADMIN}\"\nrate_limit = \"1000/m\"\n", "",
                 fmt::format("[[channel]]\nname = \"mail\"\ntype = \"email\"\n"
                             "smtp_url = \"smtp://127.0.0.1:{}\"\nstarttls = \"off\"\n"
                             "from = \"status@test.example\"\n"
                             "to = [\"oncall@test.example\"]\n"
                             "[subscriptions]\nchannel = \"mail\"\nrate_limit = \"100/m\"\n"
                             "[defaults]\npublic = true\n",
                             smtp_port)}) {}

  httplib::Result form(const std::string& path, const std::string& body) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Post(path.c_str(), body, "application/x-www-form-urlencoded");
  }
  nlohmann::json counts() const {
    const auto a = http_get(port, "/api/v1/subscribers", admin_headers());
    return a.status == 200 ? nlohmann::json::parse(a.body) : nlohmann::json();
  }
  httplib::Result post(const nlohmann::json& body) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Post("/api/v1/posts", admin_headers(), body.dump(), "application/json");
  }
};

// The mails the SMTP server took for `address` (lower case: the domain is kept so) holding
// `text`.
std::vector<std::string> mails(const SmtpServer& smtp, const std::string& address,
                               const std::string& text) {
  std::vector<std::string> out;
  for (auto& m : smtp.messages()) {
    std::string lower = m;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("x-rcptto: " + address + "\r\n") == std::string::npos &&
        lower.find("x-rcptto: " + address + "\n") == std::string::npos)
      continue;
    if (m.find(text) != std::string::npos) out.push_back(std::move(m));
  }
  return out;
}

// The path of the first link to `prefix` in a mail, whichever node's address it names.
std::string link_in(const std::string& mail, const std::string& prefix) {
  std::smatch m;
  const std::regex re("http://127\\.0\\.0\\.1:[0-9]+(" + prefix + "[0-9A-Za-z._-]+)");
  return std::regex_search(mail, m, re) ? m[1].str() : "";
}

TEST(ClusterSubscribers, SubscribedOnOneNodeConfirmedOnAnotherMailedOnceAboutEachChange) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  TempDir mail_dir;
  SmtpServer smtp(mail_dir);
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  SubscriberNode fra(pg, "fra-1", "fra", fra_target, hook, smtp.port());
  SubscriberNode nyc(pg, "nyc-1", "nyc", nyc_target, hook, smtp.port());
  ASSERT_TRUE(wait_until(
      [&] {
        return pg.sql("SELECT state FROM monitor_states") == "up" &&
               http_get(fra.port, "/healthz").status == 200 &&
               http_get(nyc.port, "/healthz").status == 200;
      },
      30'000ms))
      << fra.process->err() << nyc.process->err();

  // Subscribed on fra, one confirmation mail; confirmed through its link on nyc.
  auto r = fra.form("/subscribe", "email=Alice@Example.com");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(
      wait_until([&] { return !mails(smtp, "alice@example.com", "/confirm/").empty(); }, 10'000ms))
      << pg.sql(
             "SELECT string_agg(concat_ws(' ', id, status, last_error, attempts), ',') FROM "
             "outbox")
      << smtp.messages().size() << fra.process->err();
  EXPECT_EQ(fra.counts(), (nlohmann::json{{"confirmed", 0}, {"pending", 1}})) << fra.process->err();
  ASSERT_TRUE(wait_until([&] { return nyc.counts()["pending"] == 1; }, 5'000ms));
  // The same address again on nyc, within the hour: no second mail.
  r = nyc.form("/subscribe", "email=alice@example.COM");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const std::string confirm =
      link_in(mails(smtp, "alice@example.com", "/confirm/").front(), "/subscribe/confirm/");
  ASSERT_FALSE(confirm.empty());
  r = nyc.form(confirm, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nyc.counts(), (nlohmann::json{{"confirmed", 1}, {"pending", 0}}));
  ASSERT_TRUE(wait_until([&] { return fra.counts()["confirmed"] == 1; }, 5'000ms));
  // Time for a second confirmation mail to come through the outbox, if one had been made.
  wait_until([] { return false; }, 2'000ms);
  EXPECT_EQ(mails(smtp, "alice@example.com", "/confirm/").size(), 1u);
  // A forged link is refused on any node.
  EXPECT_EQ(fra.form(confirm.substr(0, confirm.size() - 2) + "xx", "")->status, 404);

  // A public post made on nyc: one mail to the subscriber, with its unsubscribe link.
  r = nyc.post({{"title", "Checkout is slow"},
                {"status", "investigating"},
                {"impact", "minor"},
                {"body", "Looking."},
                {"monitors", {"home"}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  ASSERT_TRUE(wait_until(
      [&] { return !mails(smtp, "alice@example.com", "Checkout is slow").empty(); }, 15'000ms))
      << fra.process->err() << nyc.process->err();

  // The monitor fails from both locations: one mail about the incident, whichever node decides.
  fra_target.status = 503;
  nyc_target.status = 503;
  ASSERT_TRUE(wait_until([&] { return pg.sql("SELECT count(*) FROM incidents") == "1"; }, 20'000ms))
      << fra.process->err() << nyc.process->err();
  ASSERT_TRUE(wait_until([&] { return !mails(smtp, "alice@example.com", "home is down").empty(); },
                         15'000ms))
      << fra.process->err() << nyc.process->err();
  wait_until([] { return false; }, 2'000ms);
  EXPECT_EQ(mails(smtp, "alice@example.com", "home is down").size(), 1u);
  EXPECT_EQ(mails(smtp, "alice@example.com", "Checkout is slow").size(), 1u);

  // Unsubscribed with one click on fra (the link of the post's mail): both nodes count no one,
  // and the recovery reaches no one.
  const std::string leave =
      link_in(mails(smtp, "alice@example.com", "Checkout is slow").front(), "/unsubscribe/");
  ASSERT_FALSE(leave.empty());
  r = fra.form(leave, "List-Unsubscribe=One-Click");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(fra.counts(), (nlohmann::json{{"confirmed", 0}, {"pending", 0}}));
  ASSERT_TRUE(wait_until([&] { return nyc.counts()["confirmed"] == 0; }, 5'000ms));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM subscribers WHERE email <> ''"), "0");
  fra_target.status = 200;
  nyc_target.status = 200;
  ASSERT_TRUE(wait_until(
      [&] { return pg.sql("SELECT count(*) FROM incidents WHERE resolved_at IS NULL") == "0"; },
      20'000ms));
  wait_until([] { return false; }, 3'000ms);
  EXPECT_TRUE(mails(smtp, "alice@example.com", "is up again").empty());
  EXPECT_EQ(mails(smtp, "alice@example.com", "").size(), 3u);

  // The database away: the form answers 503 and nothing is taken.
  pg.stop();
  ASSERT_TRUE(wait_until([&] { return http_get(fra.port, "/healthz").status == 503; }, 10'000ms));
  r = fra.form("/subscribe", "email=bob@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  pg.start();
  EXPECT_EQ(pg.sql("SELECT count(*) FROM subscribers WHERE email = 'bob@example.com'"), "0");
}

}  // namespace
}  // namespace lookout::testing
