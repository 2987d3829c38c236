// Status-page subscribers as pure logic: which addresses are taken, the signed links of their
// mails, the book's double opt-in (resend limit, pending cap, expiry, tombstones), and the
// outbox rows their mails about incidents and posts become.
#include "alerting/subscribers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "alerting/ack_token.h"

namespace lookout {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

const WallTime kSubsT0 = from_unix_ms(1'790'000'000'000);
constexpr char kSubsKey[] = "subscription-key-0123456789abcdef";

int64_t subs_unix_s(WallTime t) { return to_unix_ms(t) / 1000; }

SubscriberMailing subs_mailing() {
  return SubscriberMailing{"mailer", "https://status.test", "Acme status", kSubsKey};
}

// Random ids for outbox rows, as the loop draws them: "r0", "r1", ... in the order asked.
std::function<std::string()> subs_counter(int& asked) {
  return [&asked] { return "r" + std::to_string(asked++); };
}

// Every row of `changes` has an id of its own, an outbox id ("evt_...").
void subs_expect_unique_ids(const AlertChanges& changes) {
  std::set<std::string> ids;
  for (const auto& e : changes.events) {
    for (const auto& r : e.notifications) {
      EXPECT_EQ(r.id.rfind("evt_", 0), 0u) << r.id;
      EXPECT_TRUE(ids.insert(r.id).second) << "twice: " << r.id;
    }
  }
}

bool subs_public(const std::string& monitor) { return monitor == "api" || monitor == "web"; }

// A book with a confirmed (1), a pending (2), a confirmed (3) and an unsubscribed (4) address.
SubscriberBook subs_book() {
  SubscriberBook book;
  for (const char* email : {"ann@a.test", "bob@b.test", "cy@c.test", "dee@d.test"})
    book.subscribe(email, kSubsT0);
  bool known = false;
  book.confirm(1, kSubsT0 + minutes(1), known);
  book.confirm(3, kSubsT0 + minutes(1), known);
  book.confirm(4, kSubsT0 + minutes(1), known);
  std::string address;
  book.unsubscribe(4, address);
  return book;
}

std::vector<int64_t> subs_confirmed_ids(const SubscriberBook& book) {
  std::vector<int64_t> out;
  book.each_confirmed([&out](const SubscriberRecord& s) { out.push_back(s.id); });
  return out;
}

// The subscriber id an unsubscribe link names, or -1.
int64_t subs_unsubscribe_id(const std::string& url) {
  const std::string prefix = "https://status.test/unsubscribe/";
  if (url.rfind(prefix, 0) != 0) return -1;
  return verify_unsubscribe_token(kSubsKey, url.substr(prefix.size())).value_or(-1);
}

TEST(SubscriberEmail, KeepsOneDeliverableAddressWithTheDomainInLowerCase) {
  EXPECT_EQ(normalized_email("ann@example.com"), "ann@example.com");
  EXPECT_EQ(normalized_email(" \t Bob.Smith+Tag@Mail.Example.COM \r\n"),
            "Bob.Smith+Tag@mail.example.com");
  EXPECT_EQ(normalized_email("o'brien_x-y=1!#$%&*/?^`{|}~@a-b.example"),
            "o'brien_x-y=1!#$%&*/?^`{|}~@a-b.example");
  EXPECT_EQ(normalized_email("x@1.2.3.example"), "x@1.2.3.example");
}

TEST(SubscriberEmail, RefusesWhatIsNotOneAddressOrCouldChangeAHeader) {
  for (const std::string text : {
           "",
           "   ",
           "ann",
           "@example.com",
           "ann@",
           "ann@example",  // no dot
           "ann@@example.com",
           "ann@b@example.com",
           "ann smith@example.com",
           "\"ann\"@example.com",
           "<ann@example.com>",
           "Ann <ann@example.com>",
           "ann@example.com>",
           "ann@example.com, eve@example.com",
           "ann@example.com\r\nBcc: eve@example.com",
           "ann\r\n@example.com",
           "ann\n@example.com",
           "ann@exa\nmple.com",
           ".ann@example.com",
           "ann.@example.com",
           "an..n@example.com",
           "a(n)n@example.com",
           "a,nn@example.com",
           "a;nn@example.com",
           "a:nn@example.com",
           "a\\nn@example.com",
           "a[n]n@example.com",
           "ann\x7f@example.com",
           "\xc3\xa4nn@example.com",
           "ann@ex\xc3\xa4mple.com",
           "ann@-example.com",
           "ann@example-.com",
           "ann@example.-com",
           "ann@.example.com",
           "ann@example..com",
           "ann@example.com.",
           "ann@exa_mple.com",
           "ann@exa mple.com",
           "ann@[192.0.2.1]",
       }) {
    EXPECT_EQ(normalized_email(text), std::nullopt) << testing::PrintToString(text);
  }
}

TEST(SubscriberEmail, LengthLimitsOfTheLocalPartTheLabelsAndTheWhole) {
  const std::string l63(63, 'd');
  EXPECT_TRUE(normalized_email(std::string(64, 'a') + "@x.test"));
  EXPECT_FALSE(normalized_email(std::string(65, 'a') + "@x.test"));
  EXPECT_TRUE(normalized_email("a@" + l63 + ".test"));
  EXPECT_FALSE(normalized_email("a@" + l63 + "d.test"));
  // 64 + 1 + (63 + 1 + 63 + 1 + 61) = 254 bytes: the most an address may have.
  const std::string local(64, 'a');
  const std::string longest = local + "@" + l63 + "." + l63 + "." + std::string(61, 'e');
  ASSERT_EQ(longest.size(), 254u);
  EXPECT_EQ(normalized_email(longest), longest);
  EXPECT_FALSE(normalized_email(longest + "e"));
  // Surrounding white space does not count.
  EXPECT_EQ(normalized_email("  " + longest + "  "), longest);
}

TEST(SubscriberLinks, AConfirmationLinkNamesItsSubscriberUntilItExpires) {
  const int64_t expires = subs_unix_s(kSubsT0) + kConfirmLifetimeS;
  const std::string token = confirm_token(kSubsKey, 42, expires);
  EXPECT_EQ(verify_confirm_token(kSubsKey, token, subs_unix_s(kSubsT0)), 42);
  EXPECT_EQ(verify_confirm_token(kSubsKey, token, expires - 1), 42);
  EXPECT_EQ(verify_confirm_token(kSubsKey, token, expires), std::nullopt);
  EXPECT_EQ(verify_confirm_token("another-key", token, subs_unix_s(kSubsT0)), std::nullopt);
  // Another id under the same signature, or a later expiry: refused.
  std::string forged = token;
  forged.replace(0, 2, "43");
  EXPECT_EQ(verify_confirm_token(kSubsKey, forged, subs_unix_s(kSubsT0)), std::nullopt);
  forged = token;
  forged.replace(forged.find('.') + 1, 1, "9");
  EXPECT_EQ(verify_confirm_token(kSubsKey, forged, subs_unix_s(kSubsT0)), std::nullopt);
  EXPECT_EQ(verify_confirm_token(kSubsKey, "", 0), std::nullopt);
  EXPECT_EQ(verify_confirm_token(kSubsKey, "42", 0), std::nullopt);
}

TEST(SubscriberLinks, AnUnsubscribeLinkWorksForGood) {
  const std::string token = unsubscribe_token(kSubsKey, 7);
  EXPECT_EQ(token, unsubscribe_token(kSubsKey, 7)) << "the same link in every mail";
  EXPECT_NE(token, unsubscribe_token(kSubsKey, 8));
  EXPECT_EQ(verify_unsubscribe_token(kSubsKey, token), 7);
  EXPECT_EQ(verify_unsubscribe_token("another-key", token), std::nullopt);
  std::string forged = token;
  forged[0] = '8';
  EXPECT_EQ(verify_unsubscribe_token(kSubsKey, forged), std::nullopt);
}

TEST(SubscriberLinks, NoKindOfLinkStandsInForAnother) {
  const int64_t now = subs_unix_s(kSubsT0);
  const std::string confirm = confirm_token(kSubsKey, 5, now + kConfirmLifetimeS);
  const std::string unsubscribe = unsubscribe_token(kSubsKey, 5);
  EXPECT_EQ(verify_unsubscribe_token(kSubsKey, confirm), std::nullopt);
  EXPECT_EQ(verify_confirm_token(kSubsKey, unsubscribe, now), std::nullopt);
  // Nor is either an ack link of incident 5 under the same key, or the other way round.
  EXPECT_EQ(verify_ack_token(kSubsKey, confirm, now), std::nullopt);
  EXPECT_EQ(verify_ack_token(kSubsKey, unsubscribe, now), std::nullopt);
  const std::string ack = make_ack_token(kSubsKey, 5, now + kAckTokenLifetimeS);
  EXPECT_EQ(verify_confirm_token(kSubsKey, ack, now), std::nullopt);
  EXPECT_EQ(verify_unsubscribe_token(kSubsKey, ack), std::nullopt);
}

TEST(SubscriberLinks, NoKeyVerifiesNothing) {
  // Before a cluster's node has read its key: links signed under "" must not be taken.
  const int64_t now = subs_unix_s(kSubsT0);
  EXPECT_EQ(verify_confirm_token("", confirm_token("", 5, now + 60), now), std::nullopt);
  EXPECT_EQ(verify_unsubscribe_token("", unsubscribe_token("", 5)), std::nullopt);
}

TEST(SubscriberBook, ARowNumberedElsewhereIsPutInItsPlaceAndCounted) {
  SubscriberBook book;
  book.put(SubscriberRecord{40, "carol@example.com", kSubsT0, std::nullopt, kSubsT0});
  EXPECT_EQ(book.pending_count(), 1u);
  ASSERT_NE(book.find("Carol@example.com"), nullptr);
  EXPECT_EQ(book.find("Carol@example.com")->id, 40);
  // Confirmed since: the same row, counted once.
  book.put(SubscriberRecord{40, "carol@example.com", kSubsT0, kSubsT0, kSubsT0});
  EXPECT_EQ(book.confirmed_count(), 1u);
  EXPECT_EQ(book.pending_count(), 0u);
  EXPECT_EQ(subscribe_step(book.find("carol@example.com"), 0, kSubsT0), SubscribeStep::kNothing);
  EXPECT_EQ(subscribe_step(nullptr, kMaxPendingSubscribers, kSubsT0), SubscribeStep::kFull);
  EXPECT_EQ(book.subscribe("dave@example.com", kSubsT0).changed->id, 41);
}

TEST(SubscriberBook, AnAddressIsPendingUntilItsLinkIsFollowed) {
  SubscriberBook book;
  const auto s = book.subscribe("ann@a.test", kSubsT0);
  ASSERT_TRUE(s.changed);
  EXPECT_TRUE(s.mail_confirmation);
  EXPECT_EQ(s.changed->id, 1);
  EXPECT_EQ(s.changed->email, "ann@a.test");
  EXPECT_EQ(s.changed->created, kSubsT0);
  EXPECT_EQ(s.changed->mailed_at, kSubsT0);
  EXPECT_FALSE(s.changed->confirmed_at);
  EXPECT_EQ(book.pending_count(), 1u);
  EXPECT_EQ(book.confirmed_count(), 0u);
  EXPECT_TRUE(subs_confirmed_ids(book).empty()) << "no mail about the service before";

  bool known = false;
  const auto c = book.confirm(1, kSubsT0 + hours(2), known);
  ASSERT_TRUE(c);
  EXPECT_TRUE(known);
  EXPECT_EQ(c->id, 1);
  EXPECT_EQ(c->email, "ann@a.test");
  EXPECT_EQ(c->confirmed_at, kSubsT0 + hours(2));
  EXPECT_EQ(c->created, kSubsT0);
  EXPECT_EQ(book.pending_count(), 0u);
  EXPECT_EQ(book.confirmed_count(), 1u);
  EXPECT_EQ(subs_confirmed_ids(book), std::vector<int64_t>{1});

  // Following the link again changes nothing; an id never given is unknown.
  known = false;
  EXPECT_FALSE(book.confirm(1, kSubsT0 + hours(3), known));
  EXPECT_TRUE(known);
  EXPECT_EQ(book.confirmed_count(), 1u);
  EXPECT_FALSE(book.confirm(2, kSubsT0 + hours(3), known));
  EXPECT_FALSE(known);
  EXPECT_FALSE(book.confirm(0, kSubsT0 + hours(3), known));
  EXPECT_FALSE(known);
}

TEST(SubscriberBook, APendingAddressGetsAtMostOneConfirmationMailAnHour) {
  SubscriberBook book;
  ASSERT_TRUE(book.subscribe("ann@a.test", kSubsT0).mail_confirmation);
  auto again = book.subscribe("ann@a.test", kSubsT0 + kConfirmMailEvery - milliseconds(1));
  EXPECT_FALSE(again.changed);
  EXPECT_FALSE(again.mail_confirmation);
  // The same address in other case is the same subscriber.
  again = book.subscribe("ANN@a.test", kSubsT0 + minutes(30));
  EXPECT_FALSE(again.changed);
  EXPECT_FALSE(again.mail_confirmation);
  EXPECT_EQ(book.pending_count(), 1u);

  again = book.subscribe("ann@a.test", kSubsT0 + kConfirmMailEvery);
  ASSERT_TRUE(again.changed);
  EXPECT_TRUE(again.mail_confirmation);
  EXPECT_EQ(again.changed->id, 1) << "the same subscriber, mailed again";
  EXPECT_EQ(again.changed->created, kSubsT0);
  EXPECT_EQ(again.changed->mailed_at, kSubsT0 + kConfirmMailEvery);
  // The hour counts from the latest mail.
  EXPECT_FALSE(
      book.subscribe("ann@a.test", kSubsT0 + kConfirmMailEvery + minutes(59)).mail_confirmation);
  EXPECT_TRUE(book.subscribe("ann@a.test", kSubsT0 + 2 * kConfirmMailEvery).mail_confirmation);
  EXPECT_EQ(book.pending_count(), 1u);
}

TEST(SubscriberBook, AConfirmedAddressIsNeverMailedToConfirmAgain) {
  SubscriberBook book;
  book.subscribe("ann@a.test", kSubsT0);
  bool known = false;
  ASSERT_TRUE(book.confirm(1, kSubsT0 + minutes(5), known));
  for (const auto at : {kSubsT0 + minutes(6), kSubsT0 + days(3), kSubsT0 + days(400)}) {
    const auto s = book.subscribe("ann@a.test", at);
    EXPECT_FALSE(s.changed);
    EXPECT_FALSE(s.mail_confirmation);
  }
  EXPECT_EQ(book.confirmed_count(), 1u);
  EXPECT_EQ(book.pending_count(), 0u);
}

TEST(SubscriberBook, NewAddressesAreNotTakenBeyondThePendingCap) {
  SubscriberBook book;
  for (size_t i = 0; i < kMaxPendingSubscribers; ++i)
    ASSERT_TRUE(book.subscribe("p" + std::to_string(i) + "@x.test", kSubsT0).mail_confirmation);
  EXPECT_EQ(book.pending_count(), kMaxPendingSubscribers);
  const auto refused = book.subscribe("new@x.test", kSubsT0 + minutes(1));
  EXPECT_FALSE(refused.changed);
  EXPECT_FALSE(refused.mail_confirmation);
  EXPECT_TRUE(refused.full) << "the operator is told";
  EXPECT_EQ(book.pending_count(), kMaxPendingSubscribers);
  // An address already waiting is still mailed again after the hour.
  const auto resent = book.subscribe("p5@x.test", kSubsT0 + hours(1));
  ASSERT_TRUE(resent.changed);
  EXPECT_TRUE(resent.mail_confirmation);
  EXPECT_FALSE(resent.full);
  EXPECT_EQ(resent.changed->id, 6);
  EXPECT_FALSE(book.subscribe("p6@x.test", kSubsT0 + minutes(2)).full) << "known, just not again";
  // Once one confirms there is room again, and the new one gets the next id.
  bool known = false;
  ASSERT_TRUE(book.confirm(1, kSubsT0 + hours(1), known));
  const auto taken = book.subscribe("new@x.test", kSubsT0 + hours(1));
  ASSERT_TRUE(taken.changed);
  EXPECT_TRUE(taken.mail_confirmation);
  EXPECT_FALSE(taken.full);
  EXPECT_EQ(taken.changed->id, static_cast<int64_t>(kMaxPendingSubscribers) + 1);
  EXPECT_EQ(book.pending_count(), kMaxPendingSubscribers);
  EXPECT_TRUE(book.subscribe("newer@x.test", kSubsT0 + hours(1)).full);
}

TEST(SubscriberBook, UnsubscribingErasesTheAddressAndItsIdIsNeverGivenAgain) {
  SubscriberBook book;
  book.subscribe("ann@a.test", kSubsT0);
  book.subscribe("bob@b.test", kSubsT0);
  bool known = false;
  book.confirm(1, kSubsT0 + minutes(1), known);
  ASSERT_EQ(book.confirmed_count(), 1u);

  std::string address;
  const auto erased = book.unsubscribe(1, address);
  ASSERT_TRUE(erased);
  EXPECT_EQ(address, "ann@a.test");
  EXPECT_EQ(erased->id, 1);
  EXPECT_TRUE(erased->erased());
  EXPECT_EQ(erased->email, "");
  EXPECT_FALSE(erased->confirmed_at);
  EXPECT_FALSE(erased->mailed_at);
  EXPECT_EQ(erased->created, kSubsT0);
  EXPECT_EQ(book.confirmed_count(), 0u);
  EXPECT_EQ(book.pending_count(), 1u);
  EXPECT_TRUE(subs_confirmed_ids(book).empty());

  // Nothing more to erase; its confirmation link names nobody now.
  address = "untouched";
  EXPECT_FALSE(book.unsubscribe(1, address));
  EXPECT_FALSE(book.unsubscribe(99, address));
  EXPECT_EQ(address, "untouched");
  EXPECT_FALSE(book.confirm(1, kSubsT0 + minutes(2), known));
  EXPECT_FALSE(known);

  // A pending address may unsubscribe too (the link is in no mail yet, but it is signed).
  ASSERT_TRUE(book.unsubscribe(2, address));
  EXPECT_EQ(address, "bob@b.test");
  EXPECT_EQ(book.pending_count(), 0u);

  // Subscribing again starts over, under a new id.
  const auto again = book.subscribe("ann@a.test", kSubsT0 + minutes(3));
  ASSERT_TRUE(again.changed);
  EXPECT_TRUE(again.mail_confirmation);
  EXPECT_EQ(again.changed->id, 3);
  EXPECT_FALSE(again.changed->confirmed_at);
  EXPECT_EQ(book.pending_count(), 1u);
}

TEST(SubscriberBook, LoadKeepsTombstonesAndNumbersOnAfterThem) {
  auto rec = [](int64_t id, std::string email, std::optional<WallTime> confirmed,
                std::optional<WallTime> mailed) {
    SubscriberRecord r;
    r.id = id;
    r.email = std::move(email);
    r.created = kSubsT0;
    r.confirmed_at = confirmed;
    r.mailed_at = mailed;
    return r;
  };
  SubscriberBook book;
  book.subscribe("old@o.test", kSubsT0);  // what was there before is replaced
  book.load({rec(1, "", std::nullopt, std::nullopt), rec(2, "Ann@a.test", kSubsT0, kSubsT0),
             rec(9, "", std::nullopt, std::nullopt),
             rec(4, "bob@b.test", std::nullopt, kSubsT0 + minutes(30))});
  EXPECT_EQ(book.confirmed_count(), 1u);
  EXPECT_EQ(book.pending_count(), 1u);
  EXPECT_EQ(subs_confirmed_ids(book), std::vector<int64_t>{2});

  bool known = true;
  EXPECT_FALSE(book.confirm(1, kSubsT0, known));
  EXPECT_FALSE(known) << "a tombstone";
  EXPECT_FALSE(book.confirm(9, kSubsT0, known));
  EXPECT_FALSE(known);
  // The loaded addresses are known, whatever their case; the last mail's time holds.
  EXPECT_FALSE(book.subscribe("ann@a.test", kSubsT0 + hours(5)).changed);
  EXPECT_FALSE(book.subscribe("bob@b.test", kSubsT0 + minutes(89)).changed);
  EXPECT_TRUE(book.subscribe("bob@b.test", kSubsT0 + minutes(90)).mail_confirmation);
  EXPECT_TRUE(book.subscribe("old@o.test", kSubsT0 + hours(5)).changed) << "no longer known";

  // After the highest id, tombstones included.
  const auto s = book.subscribe("cy@c.test", kSubsT0 + hours(5));
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(s.changed->id, 11) << "old@o.test took 10";
}

TEST(SubscriberBook, APendingAddressIsErasedWhenItsNewestLinkExpires) {
  SubscriberBook book;
  book.subscribe("ann@a.test", kSubsT0);            // 1, mailed again a day later
  book.subscribe("bob@b.test", kSubsT0 + days(2));  // 2
  book.subscribe("cy@c.test", kSubsT0);             // 3, confirmed: never expires
  ASSERT_TRUE(book.subscribe("ann@a.test", kSubsT0 + days(1)).mail_confirmation);
  bool known = false;
  ASSERT_TRUE(book.confirm(3, kSubsT0 + hours(1), known));
  const auto lifetime = std::chrono::seconds(kConfirmLifetimeS);

  EXPECT_TRUE(book.expire(kSubsT0 + lifetime).empty()) << "ann's newest link still works";
  EXPECT_TRUE(book.expire(kSubsT0 + days(1) + lifetime - milliseconds(1)).empty());
  auto gone = book.expire(kSubsT0 + days(1) + lifetime);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].id, 1);
  EXPECT_TRUE(gone[0].erased());
  EXPECT_FALSE(gone[0].mailed_at);
  EXPECT_EQ(book.pending_count(), 1u);
  EXPECT_TRUE(book.expire(kSubsT0 + days(1) + lifetime).empty()) << "erased once";

  gone = book.expire(kSubsT0 + days(400));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].id, 2);
  EXPECT_EQ(book.pending_count(), 0u);
  EXPECT_EQ(book.confirmed_count(), 1u);
  EXPECT_EQ(subs_confirmed_ids(book), std::vector<int64_t>{3});
  EXPECT_FALSE(book.confirm(1, kSubsT0 + days(400), known));
  EXPECT_FALSE(known);

  // An expired address may subscribe again, under a new id.
  const auto again = book.subscribe("ann@a.test", kSubsT0 + days(400));
  ASSERT_TRUE(again.changed);
  EXPECT_EQ(again.changed->id, 4);
}

TEST(SubscriberBook, ARowKeptWithoutAMailTimeExpiresFromItsCreation) {
  SubscriberRecord r;
  r.id = 3;
  r.email = "ann@a.test";
  r.created = kSubsT0;
  SubscriberBook book;
  book.load({r});
  const auto lifetime = std::chrono::seconds(kConfirmLifetimeS);
  EXPECT_TRUE(book.expire(kSubsT0 + lifetime - milliseconds(1)).empty());
  ASSERT_EQ(book.expire(kSubsT0 + lifetime).size(), 1u);
}

TEST(SubscriberBook, EachConfirmedVisitsOnlyConfirmedAddressesById) {
  const SubscriberBook book = subs_book();
  std::vector<std::string> emails;
  book.each_confirmed([&emails](const SubscriberRecord& s) { emails.push_back(s.email); });
  EXPECT_EQ(emails, (std::vector<std::string>{"ann@a.test", "cy@c.test"}));
  EXPECT_EQ(book.confirmed_count(), 2u);
  EXPECT_EQ(book.pending_count(), 1u);
}

TEST(SubscriberMails, AConfirmationMailCarriesALinkThatWorksAsLongAsThePending) {
  SubscriberRecord s;
  s.id = 12;
  s.email = "Ann@a.test";
  s.created = kSubsT0;
  const OutboxRow row = confirmation_mail(s, subs_mailing(), kSubsT0, "0a1b");
  EXPECT_EQ(row.id, "evt_0a1b");
  EXPECT_EQ(row.incident_id, 0);
  EXPECT_EQ(row.event, "subscription.confirm");
  EXPECT_EQ(row.channel, "mailer");
  EXPECT_EQ(row.recipient, "Ann@a.test");
  EXPECT_EQ(row.route, "");
  EXPECT_EQ(row.created, kSubsT0);
  EXPECT_EQ(row.audience, Audience::kSubscriber);

  const auto p = nlohmann::json::parse(row.payload);
  EXPECT_EQ(p.at("kind"), "confirm");
  EXPECT_EQ(p.at("title"), "Acme status");
  EXPECT_EQ(p.at("page_url"), "https://status.test");
  EXPECT_FALSE(p.contains("unsubscribe_url"));
  const std::string url = p.at("confirm_url");
  const std::string prefix = "https://status.test/subscribe/confirm/";
  ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
  const std::string token = url.substr(prefix.size());
  const int64_t now = subs_unix_s(kSubsT0);
  EXPECT_EQ(verify_confirm_token(kSubsKey, token, now), 12);
  EXPECT_EQ(verify_confirm_token(kSubsKey, token, now + kConfirmLifetimeS - 1), 12);
  EXPECT_EQ(verify_confirm_token(kSubsKey, token, now + kConfirmLifetimeS), std::nullopt);
  EXPECT_EQ(verify_unsubscribe_token(kSubsKey, token), std::nullopt);
}

AlertChanges subs_incident_changes() {
  IncidentRecord api;
  api.id = 1;
  api.monitor = "api";
  api.group = "Core";
  api.type = "http";
  api.state = State::kDown;
  api.cause = "expected status 200, got 503";
  api.started_at = kSubsT0;
  IncidentRecord internal = api;
  internal.id = 2;
  internal.monitor = "internal-db";
  IncidentRecord web = api;
  web.id = 3;
  web.monitor = "web";
  web.state = State::kDegraded;
  web.cause = "slow";
  web.resolved_at = kSubsT0 + minutes(20);
  OutboxRow oncall;
  oncall.id = "evt_oncall";
  oncall.incident_id = 1;
  oncall.event = "incident.opened";
  oncall.channel = "pager";
  oncall.route = "oncall";
  oncall.payload = "{\"ack_url\":\"https://status.test/ack/1.2.x\"}";
  AlertChanges c;
  c.incidents = {api, internal, web};
  c.events = {
      EventRecord{1, "incident.opened", kSubsT0, {oncall}},
      EventRecord{2, "incident.opened", kSubsT0, {}},
      EventRecord{1, "incident.acknowledged", kSubsT0 + minutes(2), {}},
      EventRecord{1, "incident.reminder", kSubsT0 + minutes(3), {}},
      EventRecord{1, "incident.escalated", kSubsT0 + minutes(4), {}},
      EventRecord{3, "incident.resolved", kSubsT0 + minutes(20), {}},
      EventRecord{7, "incident.opened", kSubsT0, {}},  // its incident is not in this change
  };
  return c;
}

TEST(SubscriberIncidentMails, EveryConfirmedSubscriberHearsOfPublicOpeningsAndResolutions) {
  AlertChanges c = subs_incident_changes();
  int asked = 0;
  add_incident_mails(c, subs_book(), subs_mailing(), subs_public, subs_counter(asked));
  EXPECT_GT(asked, 0);
  ASSERT_EQ(c.events.size(), 7u) << "no event is added";
  subs_expect_unique_ids(c);

  // The opening of api: the on-call row first, then one row per confirmed subscriber.
  const auto& opened = c.events[0].notifications;
  ASSERT_EQ(opened.size(), 3u);
  EXPECT_EQ(opened[0].id, "evt_oncall");
  const std::vector<std::string> recipients{"ann@a.test", "cy@c.test"};
  const std::vector<int64_t> ids{1, 3};
  for (size_t i = 0; i < 2; ++i) {
    const OutboxRow& r = opened[i + 1];
    SCOPED_TRACE(r.recipient);
    EXPECT_EQ(r.recipient, recipients[i]);
    EXPECT_EQ(r.audience, Audience::kSubscriber);
    EXPECT_EQ(r.channel, "mailer");
    EXPECT_EQ(r.route, "");
    EXPECT_EQ(r.incident_id, 1);
    EXPECT_EQ(r.event, "incident.opened");
    EXPECT_EQ(r.created, kSubsT0);
    const auto p = nlohmann::json::parse(r.payload);
    EXPECT_EQ(subs_unsubscribe_id(p.at("unsubscribe_url")), ids[i]);
    EXPECT_EQ(p.at("kind"), "incident");
    EXPECT_EQ(p.at("title"), "Acme status");
    EXPECT_EQ(p.at("page_url"), "https://status.test");
    const auto& inc = p.at("incident");
    EXPECT_EQ(inc.at("monitor"), "api");
    EXPECT_EQ(inc.at("group"), "Core");
    EXPECT_EQ(inc.at("state"), "down");
    EXPECT_EQ(inc.at("cause"), "expected status 200, got 503");
    EXPECT_EQ(inc.at("started_at"), rfc3339(kSubsT0));
    EXPECT_TRUE(inc.at("resolved_at").is_null());
    EXPECT_EQ(inc.at("url"), "https://status.test/monitor/api");
    // Nothing meant for on-call: no ack link.
    EXPECT_FALSE(inc.contains("ack_url"));
    EXPECT_EQ(r.payload.find("/ack/"), std::string::npos) << r.payload;
  }

  // The resolution of the degraded web monitor reads up.
  const auto& resolved = c.events[5].notifications;
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved[0].recipient, "ann@a.test");
  EXPECT_EQ(resolved[1].recipient, "cy@c.test");
  EXPECT_EQ(resolved[1].event, "incident.resolved");
  EXPECT_EQ(resolved[1].incident_id, 3);
  EXPECT_EQ(resolved[1].created, kSubsT0 + minutes(20));
  const auto p = nlohmann::json::parse(resolved[0].payload);
  EXPECT_EQ(p.at("incident").at("state"), "up");
  EXPECT_EQ(p.at("incident").at("monitor"), "web");
  EXPECT_EQ(p.at("incident").at("resolved_at"), rfc3339(kSubsT0 + minutes(20)));

  // A private monitor's incident, acknowledgements, reminders, escalations: not for them.
  for (size_t i : {1, 2, 3, 4, 6}) EXPECT_TRUE(c.events[i].notifications.empty()) << i;
}

TEST(SubscriberIncidentMails, AnOpenIncidentSaysItsWorstState) {
  AlertChanges c = subs_incident_changes();
  c.incidents[0].state = State::kDegraded;
  int asked = 0;
  add_incident_mails(c, subs_book(), subs_mailing(), subs_public, subs_counter(asked));
  ASSERT_EQ(c.events[0].notifications.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(c.events[0].notifications[1].payload).at("incident").at("state"),
            "degraded");
}

TEST(SubscriberIncidentMails, NobodyConfirmedNoRows) {
  AlertChanges c = subs_incident_changes();
  SubscriberBook book;
  book.subscribe("pending@p.test", kSubsT0);
  int asked = 0;
  add_incident_mails(c, book, subs_mailing(), subs_public, subs_counter(asked));
  EXPECT_EQ(asked, 0);
  EXPECT_EQ(c.events[0].notifications.size(), 1u);
  EXPECT_TRUE(c.events[5].notifications.empty());
}

PostRecord subs_post(std::vector<std::string> monitors) {
  PostRecord p;
  p.id = 7;
  p.title = "Database failover";
  p.impact = PostImpact::kMajor;
  p.monitors = std::move(monitors);
  p.created_at = kSubsT0;
  p.updates = {{PostStatus::kInvestigating, "Replicas lag behind.", kSubsT0}};
  return p;
}

TEST(SubscriberPostMails, APublicPostJoinsTheEventItsRoutesMadeNamingOnlyPublicMonitors) {
  OutboxRow oncall;
  oncall.id = "evt_route";
  oncall.event = "incident.posted";
  AlertChanges out;
  out.events = {EventRecord{4, "incident.posted", kSubsT0, {}},  // not a post's: incident 4
                EventRecord{0, "incident.posted", kSubsT0 + minutes(1), {oncall}}};
  int asked = 0;
  add_post_mails(out, subs_post({"internal-db", "api", "web"}), "incident.posted",
                 kSubsT0 + minutes(2), subs_book(), subs_mailing(), subs_public,
                 subs_counter(asked));
  ASSERT_EQ(out.events.size(), 2u) << "no new event";
  subs_expect_unique_ids(out);
  EXPECT_TRUE(out.events[0].notifications.empty());
  const auto& rows = out.events[1].notifications;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].id, "evt_route");
  EXPECT_EQ(rows[1].recipient, "ann@a.test");
  EXPECT_EQ(rows[2].recipient, "cy@c.test");
  for (size_t i = 1; i < 3; ++i) {
    const OutboxRow& r = rows[i];
    EXPECT_EQ(r.audience, Audience::kSubscriber);
    EXPECT_EQ(r.incident_id, 0);
    EXPECT_EQ(r.event, "incident.posted");
    EXPECT_EQ(r.channel, "mailer");
    EXPECT_EQ(r.created, kSubsT0 + minutes(1)) << "the event's time";
    const auto p = nlohmann::json::parse(r.payload);
    EXPECT_EQ(p.at("kind"), "post");
    EXPECT_EQ(p.at("title"), "Acme status");
    EXPECT_EQ(subs_unsubscribe_id(p.at("unsubscribe_url")), i == 1 ? 1 : 3);
    const auto& post = p.at("post");
    EXPECT_EQ(post.at("id"), 7);
    EXPECT_EQ(post.at("title"), "Database failover");
    EXPECT_EQ(post.at("status"), "investigating");
    EXPECT_EQ(post.at("impact"), "major");
    EXPECT_EQ(post.at("url"), "https://status.test/posts/7");
    EXPECT_EQ(post.at("update").at("body"), "Replicas lag behind.");
    EXPECT_EQ(post.at("monitors"), nlohmann::json({"api", "web"}));
    EXPECT_EQ(r.payload.find("internal-db"), std::string::npos) << r.payload;
  }
}

TEST(SubscriberPostMails, WithoutAnEventOfThatNameTheMailsMakeTheirOwn) {
  AlertChanges out;
  out.events = {EventRecord{0, "incident.posted", kSubsT0, {}}};
  int asked = 0;
  PostRecord post = subs_post({});  // about the whole service: public
  post.updates.push_back({PostStatus::kResolved, "Done.", kSubsT0 + minutes(30)});
  post.resolved_at = kSubsT0 + minutes(30);
  add_post_mails(out, post, "incident.post_updated", kSubsT0 + minutes(30), subs_book(),
                 subs_mailing(), subs_public, subs_counter(asked));
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_TRUE(out.events[0].notifications.empty());
  const EventRecord& e = out.events[1];
  EXPECT_EQ(e.incident_id, 0);
  EXPECT_EQ(e.event, "incident.post_updated");
  EXPECT_EQ(e.at, kSubsT0 + minutes(30));
  ASSERT_EQ(e.notifications.size(), 2u);
  EXPECT_EQ(e.notifications[0].event, "incident.post_updated");
  EXPECT_EQ(e.notifications[0].created, kSubsT0 + minutes(30));
  const auto p = nlohmann::json::parse(e.notifications[0].payload).at("post");
  EXPECT_EQ(p.at("status"), "resolved");
  EXPECT_EQ(p.at("update").at("body"), "Done.");
  EXPECT_EQ(p.at("monitors"), nlohmann::json::array());
}

TEST(SubscriberPostMails, APrivatePostAnEmptyBookOrAPostWithoutUpdatesMailsNobody) {
  int asked = 0;
  AlertChanges out;
  add_post_mails(out, subs_post({"internal-db"}), "incident.posted", kSubsT0, subs_book(),
                 subs_mailing(), subs_public, subs_counter(asked));
  EXPECT_TRUE(out.events.empty());
  SubscriberBook pending_only;
  pending_only.subscribe("p@p.test", kSubsT0);
  add_post_mails(out, subs_post({}), "incident.posted", kSubsT0, pending_only, subs_mailing(),
                 subs_public, subs_counter(asked));
  EXPECT_TRUE(out.events.empty());
  PostRecord bare = subs_post({});
  bare.updates.clear();
  add_post_mails(out, bare, "incident.posted", kSubsT0, subs_book(), subs_mailing(), subs_public,
                 subs_counter(asked));
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(asked, 0);
}

}  // namespace
}  // namespace lookout
