// Status-page subscribers against the real daemon and a real SMTP server (aiosmtpd): double
// opt-in, a mail for each public post and public incident with one-click unsubscribing, the
// same answer for every address, a rate limit per client, and no address anywhere but in the
// mails to it.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr char kSubAdmin[] = "subscribers-admin-token-0123456789";
// A private monitor and a private post whose names must reach no subscriber.
constexpr char kPrivateMonitor[] = "canary-private-db";
constexpr char kPrivateTitle[] = "Canary private failover";

// A target that is healthy until told otherwise.
struct Toggle {
  TargetServer server;
  std::atomic<bool> healthy{true};
  Toggle() {
    server.routes().Get("/app", [this](const httplib::Request&, httplib::Response& res) {
      res.status = healthy ? 200 : 500;
      res.set_content(healthy ? "ok" : "broken", "text/plain");
    });
    server.start();
  }
};

std::string sub_monitors(int target, int smtp, const std::string& rate = "10/m") {
  return fmt::format(R"([[monitor]]
name = "checkout"
type = "http"
public = true
url = "http://127.0.0.1:{0}/app"
interval = "300ms"
timeout = "250ms"
fail_after = 2
recover_after = 2

[[monitor]]
name = "{2}"
type = "heartbeat"
period = "1h"
grace = "1h"

[[channel]]
name = "ops-email"
type = "email"
smtp_url = "smtp://127.0.0.1:{1}"
starttls = "off"
from = "status@test.example"
to = ["oncall@test.example"]

[subscriptions]
channel = "ops-email"
rate_limit = "{3}"
)",
                     target, smtp, kPrivateMonitor, rate);
}

std::string sub_server() {
  return fmt::format("admin_token = \"{}\"\npublic_url = \"http://127.0.0.1:@PORT@\"", kSubAdmin);
}

httplib::Result form_post(int port, const std::string& path, const std::string& body) {
  httplib::Client cli("127.0.0.1", port);
  return cli.Post(path.c_str(), body, "application/x-www-form-urlencoded");
}

httplib::Result sub_admin_post(int port, const std::string& path, const nlohmann::json& body) {
  httplib::Client cli("127.0.0.1", port);
  return cli.Post(path.c_str(), {{"Authorization", fmt::format("Bearer {}", kSubAdmin)}},
                  body.dump(), "application/json");
}

nlohmann::json subscriber_counts(int port) {
  const auto a = http_get(port, "/api/v1/subscribers",
                          {{"Authorization", fmt::format("Bearer {}", kSubAdmin)}});
  EXPECT_EQ(a.status, 200) << a.body;
  return nlohmann::json::parse(a.body, nullptr, false);
}

// The mails the SMTP server took for one address (aiosmtpd's X-RcptTo header), in lower case.
std::vector<std::string> mails_to(const SmtpServer& smtp, const std::string& address) {
  std::vector<std::string> out;
  for (auto& m : smtp.messages()) {
    std::string lower = m;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("x-rcptto: " + address + "\n") != std::string::npos ||
        lower.find("x-rcptto: " + address + "\r\n") != std::string::npos)
      out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> mails_with(const SmtpServer& smtp, const std::string& address,
                                    const std::string& text) {
  std::vector<std::string> out;
  for (auto& m : mails_to(smtp, address))
    if (m.find(text) != std::string::npos) out.push_back(std::move(m));
  return out;
}

// The path of the first link to `prefix` in a mail: "/subscribe/confirm/TOKEN".
std::string link_path(const std::string& mail, const std::string& prefix) {
  std::smatch m;
  const std::regex re("http://127\\.0\\.0\\.1:[0-9]+(" + prefix + "[0-9A-Za-z._-]+)");
  return std::regex_search(mail, m, re) ? m[1].str() : "";
}

std::string header_of(const std::string& mail, const std::string& name) {
  const size_t at = mail.find("\n" + name + ": ");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 3;
  std::string v = mail.substr(start, mail.find('\n', start) - start);
  if (!v.empty() && v.back() == '\r') v.pop_back();
  return v;
}

// Subscribes and confirms through the page and the mail, as a person would.
void subscribe_and_confirm(int port, const SmtpServer& smtp, const std::string& address) {
  const auto asked = form_post(port, "/subscribe", "email=" + address);
  ASSERT_TRUE(asked);
  ASSERT_EQ(asked->status, 200) << asked->body;
  ASSERT_TRUE(wait_until([&] { return !mails_with(smtp, address, "/subscribe/confirm/").empty(); },
                         10'000ms));
  const std::string path =
      link_path(mails_with(smtp, address, "/subscribe/confirm/")[0], "/subscribe/confirm/");
  ASSERT_FALSE(path.empty());
  const auto done = form_post(port, path, "");
  ASSERT_TRUE(done);
  ASSERT_EQ(done->status, 200) << done->body;
}

TEST(Subscribers, DoubleOptInThenAMailPerPublicPostAndIncidentAndOneClickUnsubscribe) {
  TempDir dir;
  SmtpServer smtp(dir);
  Toggle target;
  Daemon d(dir, sub_monitors(target.server.port(), smtp.port()), sub_server());
  d.start();
  const int port = d.port();
  ASSERT_TRUE(wait_until([&] { return d.monitor("checkout")["state"] == "up"; }, 10'000ms));

  // The form needs no script; the page links to it.
  const auto form = http_get(port, "/subscribe");
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("<form"), std::string::npos);
  EXPECT_NE(form.body.find("method=\"post\""), std::string::npos) << form.body;
  EXPECT_EQ(form.body.find("<script"), std::string::npos);
  EXPECT_NE(http_get(port, "/").body.find("href=\"/subscribe\""), std::string::npos);

  // A malformed address is told so; any well-formed one gets the same page, known or not.
  EXPECT_EQ(form_post(port, "/subscribe", "email=not-an-address")->status, 400);
  EXPECT_EQ(form_post(port, "/subscribe", "email=a%0d%0aBcc:%20x@evil.test")->status, 400);
  const auto first = form_post(port, "/subscribe", "email=Alice@Example.COM");
  ASSERT_EQ(first->status, 200);
  EXPECT_EQ(first->body.find("lice@"), std::string::npos) << "the page echoes no address";
  ASSERT_TRUE(wait_until(
      [&] { return !mails_with(smtp, "alice@example.com", "/subscribe/confirm/").empty(); },
      10'000ms));
  const auto again = form_post(port, "/subscribe", "email=alice@example.com");
  const auto stranger = form_post(port, "/subscribe", "email=nobody-yet@example.com");
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(stranger->body, first->body);

  const std::string confirm_mail = mails_with(smtp, "alice@example.com", "/subscribe/confirm/")[0];
  EXPECT_EQ(header_of(confirm_mail, "To"), "Alice@example.com");
  EXPECT_EQ(header_of(confirm_mail, "List-Unsubscribe"), "") << "nothing to leave yet";
  const std::string confirm = link_path(confirm_mail, "/subscribe/confirm/");
  ASSERT_FALSE(confirm.empty()) << confirm_mail;

  // Opening the link (as a mail scanner would) changes nothing: it shows a button that POSTs.
  const auto shown = http_get(port, confirm);
  ASSERT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("method=\"post\""), std::string::npos) << shown.body;
  EXPECT_NE(shown.body.find("action=\"" + confirm + "\""), std::string::npos) << shown.body;
  EXPECT_EQ(subscriber_counts(port), (nlohmann::json{{"confirmed", 0}, {"pending", 2}}));
  // A forged or altered link is refused.
  EXPECT_EQ(form_post(port, confirm.substr(0, confirm.size() - 2) + "xx", "")->status, 404);
  EXPECT_EQ(form_post(port, confirm, "")->status, 200);
  EXPECT_EQ(subscriber_counts(port), (nlohmann::json{{"confirmed", 1}, {"pending", 1}}));
  subscribe_and_confirm(port, smtp, "bob@example.com");
  EXPECT_EQ(subscriber_counts(port), (nlohmann::json{{"confirmed", 2}, {"pending", 1}}));
  EXPECT_EQ(metric_value(d.metrics(), "lookout_subscribers", "state=\"confirmed\""), 2);
  EXPECT_EQ(metric_value(d.metrics(), "lookout_subscribers", "state=\"pending\""), 1);

  // A post about a private monitor only is private: no subscriber hears of it. A public one
  // names only its public monitors.
  ASSERT_EQ(
      sub_admin_post(
          port, "/api/v1/posts",
          {{"title", kPrivateTitle}, {"status", "investigating"}, {"monitors", {kPrivateMonitor}}})
          ->status,
      201);
  const auto made = sub_admin_post(port, "/api/v1/posts",
                                   {{"title", "Checkout is slow"},
                                    {"status", "investigating"},
                                    {"impact", "minor"},
                                    {"body", "Looking into it.\nMore soon."},
                                    {"monitors", {"checkout", kPrivateMonitor}}});
  ASSERT_EQ(made->status, 201) << made->body;
  const int64_t post_id = nlohmann::json::parse(made->body)["id"];
  for (const char* who : {"alice@example.com", "bob@example.com"}) {
    ASSERT_TRUE(
        wait_until([&] { return !mails_with(smtp, who, "Checkout is slow").empty(); }, 10'000ms))
        << who;
  }
  const std::string post_mail = mails_with(smtp, "alice@example.com", "Checkout is slow")[0];
  EXPECT_EQ(header_of(post_mail, "To"), "Alice@example.com") << "only that address";
  EXPECT_EQ(header_of(post_mail, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  const std::string unsubscribe_header = header_of(post_mail, "List-Unsubscribe");
  const std::string unsubscribe = link_path(unsubscribe_header, "/unsubscribe/");
  ASSERT_FALSE(unsubscribe.empty()) << post_mail;
  EXPECT_NE(post_mail.find("Unsubscribe: http://127.0.0.1:"), std::string::npos) << post_mail;
  // The Maildir keeps lines with LF ends.
  EXPECT_NE(post_mail.find("Looking into it.\nMore soon."), std::string::npos) << post_mail;
  EXPECT_NE(post_mail.find(fmt::format("/posts/{}", post_id)), std::string::npos);
  EXPECT_EQ(post_mail.find(kPrivateMonitor), std::string::npos) << post_mail;
  EXPECT_EQ(post_mail.find("Acknowledge"), std::string::npos);

  // A public monitor's incident: its opening and its resolution.
  target.healthy = false;
  ASSERT_TRUE(wait_until(
      [&] { return !mails_with(smtp, "bob@example.com", "checkout is down").empty(); }, 10'000ms));
  target.healthy = true;
  ASSERT_TRUE(wait_until(
      [&] { return !mails_with(smtp, "bob@example.com", "checkout is up again").empty(); },
      10'000ms));
  ASSERT_TRUE(wait_until(
      [&] { return !mails_with(smtp, "alice@example.com", "checkout is up again").empty(); },
      10'000ms));

  // Opening the unsubscribe link changes nothing; the mail client's one-click POST does, and a
  // second one says the same.
  const auto leave_page = http_get(port, unsubscribe);
  ASSERT_EQ(leave_page.status, 200);
  EXPECT_NE(leave_page.body.find("method=\"post\""), std::string::npos);
  EXPECT_EQ(subscriber_counts(port)["confirmed"], 2);
  const auto left = form_post(port, unsubscribe, "List-Unsubscribe=One-Click");
  ASSERT_EQ(left->status, 200);
  EXPECT_EQ(form_post(port, unsubscribe, "List-Unsubscribe=One-Click")->body, left->body);
  EXPECT_EQ(subscriber_counts(port)["confirmed"], 1);

  // The update reaches Bob, and nothing more reaches Alice.
  const size_t alice_had = mails_to(smtp, "alice@example.com").size();
  ASSERT_EQ(sub_admin_post(port, fmt::format("/api/v1/posts/{}/updates", post_id),
                           {{"status", "resolved"}, {"body", "Fixed."}})
                ->status,
            201);
  ASSERT_TRUE(
      wait_until([&] { return !mails_with(smtp, "bob@example.com", "Fixed.").empty(); }, 10'000ms));
  EXPECT_EQ(mails_to(smtp, "alice@example.com").size(), alice_had);

  // One confirmation mail for Alice however often she was typed in, none about the private post,
  // and on-call's own address got nothing meant for subscribers.
  EXPECT_EQ(mails_with(smtp, "alice@example.com", "/subscribe/confirm/").size(), 1U);
  for (const auto& m : smtp.messages()) {
    EXPECT_EQ(m.find(kPrivateTitle), std::string::npos) << m;
    if (m.find("X-RcptTo: oncall@test.example") != std::string::npos) {
      EXPECT_EQ(m.find("/unsubscribe/"), std::string::npos) << m;
    }
  }

  // Addresses are on no page, in no API answer and in no log; the admin sees counts.
  for (const char* path :
       {"/", "/feed.atom", "/history", "/api/v1/status", "/api/v2/summary.json", "/metrics"}) {
    const auto a = http_get(port, path, {{"Authorization", fmt::format("Bearer {}", kSubAdmin)}});
    EXPECT_EQ(a.body.find("example.com"), std::string::npos) << path;
  }
  const auto counts = http_get(port, "/api/v1/subscribers",
                               {{"Authorization", fmt::format("Bearer {}", kSubAdmin)}});
  EXPECT_EQ(counts.body.find("@"), std::string::npos);
  EXPECT_EQ(http_get(port, "/api/v1/subscribers").status, 401);
  d.process().signal(SIGTERM);
  d.process().wait(10'000ms);
  const std::string log = d.process().err() + d.process().out();
  EXPECT_EQ(log.find("example.com"), std::string::npos) << log;
  EXPECT_EQ(log.find(unsubscribe.substr(13)), std::string::npos) << "tokens stay out of the log";
}

TEST(Subscribers, ConfirmedSubscribersAndTheirMailSurviveKillNine) {
  TempDir dir;
  SmtpServer smtp(dir);
  Toggle target;
  Daemon d(dir, sub_monitors(target.server.port(), smtp.port()), sub_server());
  d.start();
  subscribe_and_confirm(d.port(), smtp, "carol@example.com");
  EXPECT_EQ(subscriber_counts(d.port())["confirmed"], 1);

  d.process().signal(SIGKILL);
  d.process().wait(10'000ms);
  d.start();
  EXPECT_EQ(subscriber_counts(d.port()), (nlohmann::json{{"confirmed", 1}, {"pending", 0}}));
  ASSERT_EQ(sub_admin_post(d.port(), "/api/v1/posts",
                           {{"title", "Planned upgrade"}, {"status", "monitoring"}})
                ->status,
            201);
  ASSERT_TRUE(wait_until(
      [&] { return !mails_with(smtp, "carol@example.com", "Planned upgrade").empty(); }, 10'000ms));
}

TEST(Subscribers, EachClientIsRateLimitedAndTheRoutesAreAbsentWithoutSubscriptions) {
  TempDir dir;
  SmtpServer smtp(dir);
  Toggle target;
  Daemon d(dir, sub_monitors(target.server.port(), smtp.port(), "3/m"), sub_server());
  d.start();
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 10; ++i) {
    const auto a = form_post(d.port(), "/subscribe", fmt::format("email=burst{}@example.com", i));
    ASSERT_TRUE(a);
    if (a->status == 200) ++ok;
    if (a->status == 429) {
      ++limited;
      retry_after = a->get_header_value("Retry-After");
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 7);
  EXPECT_GT(std::stoi(retry_after), 0);
  EXPECT_EQ(subscriber_counts(d.port())["pending"], 3);

  TempDir plain_dir;
  Daemon plain(
      plain_dir,
      "[[monitor]]\nname = \"h\"\ntype = \"heartbeat\"\nperiod = \"1h\"\ngrace = \"1h\"\n");
  plain.start();
  EXPECT_EQ(http_get(plain.port(), "/subscribe").status, 404);
  EXPECT_EQ(form_post(plain.port(), "/subscribe", "email=x@example.com")->status, 404);
  EXPECT_EQ(http_get(plain.port(), "/").body.find("/subscribe"), std::string::npos);
}

}  // namespace
}  // namespace lookout::testing
