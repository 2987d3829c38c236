// The web side of email subscriptions: the pages (well-formed, escaped, forms that POST
// without JavaScript, no address shown back), the per-client rate limit of the form, and the
// tokens of the mails' links kept out of the access log.
#include <gtest/gtest.h>

#include "tests/support/xml_tree.h"
#include "web/loggable_path.h"
#include "web/rate_limit.h"
#include "web/subscribe_pages.h"

namespace lookout {
namespace {

using std::chrono::milliseconds;

std::string subweb_local(const std::string& name) {
  const auto space = name.rfind(' ');
  return space == std::string::npos ? name : name.substr(space + 1);
}

void subweb_collect(const test::XmlNode& n, const std::string& local,
                    std::vector<const test::XmlNode*>& out) {
  if (subweb_local(n.name) == local) out.push_back(&n);
  for (const auto& c : n.children) subweb_collect(*c, local, out);
}

std::vector<const test::XmlNode*> subweb_all(const test::XmlNode& root, const std::string& local) {
  std::vector<const test::XmlNode*> out;
  subweb_collect(root, local, out);
  return out;
}

// The text inside, children's too.
std::string subweb_text(const test::XmlNode& n) {
  std::string out = n.text;
  for (const auto& c : n.children) out += subweb_text(*c);
  return out;
}

std::string subweb_attr(const test::XmlNode& n, const std::string& name) {
  const auto it = n.attributes.find(name);
  return it == n.attributes.end() ? "(none)" : it->second;
}

const std::vector<SubscribePage> kSubwebPages{
    SubscribePage::kForm,         SubscribePage::kCheckInbox, SubscribePage::kBadAddress,
    SubscribePage::kConfirm,      SubscribePage::kConfirmed,  SubscribePage::kUnsubscribe,
    SubscribePage::kUnsubscribed, SubscribePage::kLinkInvalid};

constexpr char kSubwebTitle[] = "Acme <b>&</b> \"status\" 'page'";

TEST(SubscribePages, EveryPageIsWellFormedWithTheTitleEscapedAndNoScript) {
  for (const SubscribePage which : kSubwebPages) {
    SCOPED_TRACE(static_cast<int>(which));
    const std::string html =
        render_subscribe_page(which, kSubwebTitle, "/subscribe/confirm/1.2.abc");
    ASSERT_EQ(html.rfind("<!DOCTYPE html>\n<html", 0), 0u) << html;
    const auto doc = test::parse_xml(html.substr(html.find("<html")));
    ASSERT_TRUE(doc.root) << doc.error << "\n" << html;
    EXPECT_EQ(html.find("<b>"), std::string::npos) << "the title is text, not markup";
    const auto titles = subweb_all(*doc.root, "title");
    ASSERT_EQ(titles.size(), 1u);
    const std::string title = subweb_text(*titles[0]);
    EXPECT_EQ(title.substr(title.find(": ") + 2), kSubwebTitle) << title;
    const auto h1 = subweb_all(*doc.root, "h1");
    ASSERT_EQ(h1.size(), 1u);
    EXPECT_EQ(title, subweb_text(*h1[0]) + ": " + kSubwebTitle);
    // The header links home under the page's title.
    bool home = false;
    for (const auto* a : subweb_all(*doc.root, "a"))
      home = home || (subweb_attr(*a, "href") == "/" && subweb_text(*a) == kSubwebTitle);
    EXPECT_TRUE(home) << html;
    EXPECT_TRUE(subweb_all(*doc.root, "script").empty());
    EXPECT_EQ(html.find("javascript:"), std::string::npos);
    for (const auto* tag : {"button", "form", "input", "a", "body"}) {
      for (const auto* n : subweb_all(*doc.root, tag)) {
        for (const auto& [name, value] : n->attributes)
          EXPECT_NE(name.rfind("on", 0), 0u) << tag << " " << name << "=" << value;
      }
    }
  }
}

TEST(SubscribePages, TheFormPostsAnAddressAndShowsNone) {
  for (const SubscribePage which : {SubscribePage::kForm, SubscribePage::kBadAddress}) {
    const std::string html = render_subscribe_page(which, "Acme status");
    const auto doc = test::parse_xml(html.substr(html.find("<html")));
    ASSERT_TRUE(doc.root) << doc.error;
    const auto forms = subweb_all(*doc.root, "form");
    ASSERT_EQ(forms.size(), 1u) << html;
    EXPECT_EQ(subweb_attr(*forms[0], "method"), "post");
    EXPECT_EQ(subweb_attr(*forms[0], "action"), "/subscribe");
    const auto inputs = subweb_all(*forms[0], "input");
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(subweb_attr(*inputs[0], "name"), "email");
    EXPECT_EQ(subweb_attr(*inputs[0], "type"), "email");
    EXPECT_EQ(subweb_attr(*inputs[0], "maxlength"), "254");
    EXPECT_EQ(subweb_attr(*inputs[0], "value"), "(none)") << "nothing typed is shown back";
    const auto buttons = subweb_all(*forms[0], "button");
    ASSERT_EQ(buttons.size(), 1u);
    EXPECT_EQ(subweb_attr(*buttons[0], "type"), "submit");
  }
}

TEST(SubscribePages, TheAnswersSayNothingOfTheAddress) {
  // The answer to a subscription is the same whether or not the address was known, and no
  // page repeats an address (the only one is the example of the form).
  for (const SubscribePage which :
       {SubscribePage::kCheckInbox, SubscribePage::kConfirmed, SubscribePage::kUnsubscribed,
        SubscribePage::kLinkInvalid, SubscribePage::kConfirm, SubscribePage::kUnsubscribe}) {
    const std::string html = render_subscribe_page(which, "Acme status", "/unsubscribe/1.2.x");
    EXPECT_EQ(html.find('@'), std::string::npos) << static_cast<int>(which) << html;
  }
  const std::string bad = render_subscribe_page(SubscribePage::kBadAddress, "Acme status");
  EXPECT_NE(bad.find("name@example.com"), std::string::npos);
  const std::string invalid = render_subscribe_page(SubscribePage::kLinkInvalid, "Acme status");
  const auto doc = test::parse_xml(invalid.substr(invalid.find("<html")));
  ASSERT_TRUE(doc.root) << doc.error;
  bool again = false;
  for (const auto* a : subweb_all(*doc.root, "a"))
    again = again || subweb_attr(*a, "href") == "/subscribe";
  EXPECT_TRUE(again) << "a way to subscribe again";
}

TEST(SubscribePages, ALinksPageIsAButtonThatPostsToItsOwnPath) {
  // Mail scanners fetch links: the GET only shows the button, the POST does it.
  struct Case {
    SubscribePage which;
    std::string label;
  };
  for (const Case& c : {Case{SubscribePage::kConfirm, "Confirm subscription"},
                        Case{SubscribePage::kUnsubscribe, "Unsubscribe"}}) {
    const std::string action = "/unsubscribe/7.253402300799.\"><script>x</script>&";
    const std::string html = render_subscribe_page(c.which, "Acme status", action);
    const auto doc = test::parse_xml(html.substr(html.find("<html")));
    ASSERT_TRUE(doc.root) << doc.error << "\n" << html;
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    const auto forms = subweb_all(*doc.root, "form");
    ASSERT_EQ(forms.size(), 1u);
    EXPECT_EQ(subweb_attr(*forms[0], "method"), "post");
    EXPECT_EQ(subweb_attr(*forms[0], "action"), action) << "escaped, and read back as it was";
    EXPECT_TRUE(subweb_all(*forms[0], "input").empty()) << "nothing to fill in";
    const auto buttons = subweb_all(*forms[0], "button");
    ASSERT_EQ(buttons.size(), 1u);
    EXPECT_EQ(subweb_attr(*buttons[0], "type"), "submit");
    EXPECT_EQ(subweb_text(*buttons[0]), c.label);
  }
  // The pages that are the outcome have nothing to press.
  for (const SubscribePage which : {SubscribePage::kCheckInbox, SubscribePage::kConfirmed,
                                    SubscribePage::kUnsubscribed, SubscribePage::kLinkInvalid}) {
    const std::string html = render_subscribe_page(which, "Acme status", "/unsubscribe/x");
    EXPECT_EQ(html.find("<form"), std::string::npos) << static_cast<int>(which);
    EXPECT_EQ(html.find("/unsubscribe/x"), std::string::npos);
  }
}

TEST(SubscribePages, EachPageSaysWhatHappened) {
  struct Case {
    SubscribePage which;
    std::string heading;
  };
  for (const Case& c : {Case{SubscribePage::kForm, "Get updates by email"},
                        Case{SubscribePage::kCheckInbox, "Check your inbox"},
                        Case{SubscribePage::kBadAddress, "That address does not look right"},
                        Case{SubscribePage::kConfirm, "Confirm your subscription"},
                        Case{SubscribePage::kConfirmed, "You are subscribed"},
                        Case{SubscribePage::kUnsubscribe, "Unsubscribe"},
                        Case{SubscribePage::kUnsubscribed, "You are unsubscribed"},
                        Case{SubscribePage::kLinkInvalid, "This link does not work"}}) {
    const std::string html = render_subscribe_page(c.which, "Acme status", "/x");
    EXPECT_NE(html.find("<h1>" + c.heading + "</h1>"), std::string::npos) << html;
    EXPECT_NE(html.find("<title>" + c.heading + ": Acme status</title>"), std::string::npos);
  }
}

const MonoTime kSubwebT0{std::chrono::seconds{1'000}};

TEST(SubscribeRateLimiter, TheLimitThenTheSecondsToWait) {
  RateLimiter limiter(100, milliseconds(1'000));  // the defaults, not used below
  const Duration minute{60'000};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.check("192.0.2.1", kSubwebT0, 10, minute), 0) << i;
  // Refilled evenly: one request every 6 s.
  EXPECT_EQ(limiter.check("192.0.2.1", kSubwebT0, 10, minute), 6);
  EXPECT_EQ(limiter.check("192.0.2.1", kSubwebT0 + milliseconds(3'000), 10, minute), 3);
  EXPECT_GT(limiter.check("192.0.2.1", kSubwebT0 + milliseconds(5'900), 10, minute), 0);
  EXPECT_EQ(limiter.check("192.0.2.1", kSubwebT0 + milliseconds(6'100), 10, minute), 0);
  EXPECT_GT(limiter.check("192.0.2.1", kSubwebT0 + milliseconds(6'200), 10, minute), 0);
  // Another client has its own bucket.
  EXPECT_EQ(limiter.check("192.0.2.2", kSubwebT0 + milliseconds(6'200), 10, minute), 0);
  // A long pause fills the bucket to the limit, not beyond.
  const MonoTime later = kSubwebT0 + std::chrono::hours(5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.check("192.0.2.1", later, 10, minute), 0) << i;
  EXPECT_GT(limiter.check("192.0.2.1", later, 10, minute), 0);
}

TEST(SubscribeRateLimiter, WaitingTheSecondsItSaysIsEnough) {
  struct Case {
    int limit;
    int64_t window_ms;
  };
  for (const Case& c : {Case{1, 1'000}, Case{3, 1'000}, Case{10, 60'000}, Case{7, 60'000},
                        Case{2, 3'600'000}, Case{100, 3'600'000}}) {
    SCOPED_TRACE(testing::Message() << c.limit << " per " << c.window_ms << " ms");
    RateLimiter limiter(1, milliseconds(1'000));
    const Duration window{c.window_ms};
    for (int i = 0; i < c.limit; ++i) ASSERT_EQ(limiter.check("c", kSubwebT0, c.limit, window), 0);
    const int64_t wait = limiter.check("c", kSubwebT0, c.limit, window);
    // One request comes back every window / limit, said in whole seconds rounded up (a second
    // more at most, from rounding).
    const int64_t refill_s = (c.window_ms + c.limit * 1'000 - 1) / (c.limit * 1'000);
    EXPECT_GE(wait, refill_s);
    EXPECT_LE(wait, refill_s + 1);
    EXPECT_EQ(limiter.check("c", kSubwebT0 + std::chrono::seconds(wait), c.limit, window), 0);
  }
}

TEST(SubscribeRateLimiter, TheLimitOfEachCallApplies) {
  // The config may change while the server runs: a lower limit holds at once.
  RateLimiter limiter(10, milliseconds(60'000));
  const Duration minute{60'000};
  EXPECT_EQ(limiter.check("c", kSubwebT0, 10, minute), 0);
  EXPECT_EQ(limiter.check("c", kSubwebT0, 2, minute), 0);
  EXPECT_EQ(limiter.check("c", kSubwebT0, 2, minute), 0);  // 9 left, capped at 2, then 1
  EXPECT_GT(limiter.check("c", kSubwebT0, 2, minute), 0);
  // The constructor's limit is the two-argument form's.
  RateLimiter fixed(2, milliseconds(60'000));
  EXPECT_EQ(fixed.check("c", kSubwebT0), 0);
  EXPECT_EQ(fixed.check("c", kSubwebT0), 0);
  EXPECT_EQ(fixed.check("c", kSubwebT0), 30);
}

TEST(SubscribeLoggablePath, TheTokensOfTheMailsLinksAreMasked) {
  struct Case {
    std::string path, logged;
  };
  const std::vector<Case> cases{
      {"/subscribe", "/subscribe"},
      {"/subscribe/", "/subscribe/"},
      {"/subscribe/confirm", "/subscribe/confirm"},
      {"/subscribe/confirm/", "/subscribe/confirm/"},
      {"/subscribe/confirm/12.1796090400.c2lnbmF0dXJl", "/subscribe/confirm/***"},
      {"/subscribe/confirm/12.1796090400.c2lnbmF0dXJl/", "/subscribe/confirm/***/"},
      {"/subscribe/confirm/12.1796090400.c2ln/more", "/subscribe/confirm/***/more"},
      {"//subscribe/confirm/12.1.x", "//subscribe/confirm/***"},
      {"/unsubscribe/3.253402300799.c2lnbmF0dXJl", "/unsubscribe/***"},
      {"/unsubscribe/3.253402300799.c2lnbmF0dXJl/", "/unsubscribe/***/"},
      {"/unsubscribe", "/unsubscribe"},
      {"/unsubscribe/", "/unsubscribe/"},
      {"/unsubscribe/a\nb", "/unsubscribe/***"},
      {"/subscribe/a\nb", "/subscribe/a?b"},
  };
  for (const auto& c : cases) EXPECT_EQ(loggable_path(c.path), c.logged) << c.path;
  // The token appears nowhere in what is logged.
  const std::string token = "3.253402300799.c2lnbmF0dXJlLXNlY3JldA";
  EXPECT_EQ(loggable_path("/unsubscribe/" + token).find(token), std::string::npos);
  EXPECT_EQ(loggable_path("/subscribe/confirm/" + token).find(token), std::string::npos);
}

}  // namespace
}  // namespace lookout
