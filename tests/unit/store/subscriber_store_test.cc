// Subscribers in a real SqliteStore on a SQLite file: what a restart reads back (tombstones
// too), erasing an address cancelling the mails still waiting for it and forgetting it in the
// outbox, and the incident pages leaving subscriber mail out.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sqlite_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace lookout {
namespace {

const WallTime kSubstoreT0 = from_unix_ms(1'790'000'000'000);

SubscriberRecord substore_subscriber(int64_t id, std::string email,
                                     std::optional<WallTime> confirmed = std::nullopt) {
  SubscriberRecord s;
  s.id = id;
  s.email = std::move(email);
  s.created = kSubstoreT0 + std::chrono::minutes(id);
  s.mailed_at = s.created;
  s.confirmed_at = confirmed;
  return s;
}

SubscriberRecord substore_erased(SubscriberRecord s) {
  s.email.clear();
  s.confirmed_at.reset();
  s.mailed_at.reset();
  return s;
}

OutboxRow substore_row(const std::string& id, int64_t incident, const std::string& event,
                       const std::string& recipient) {
  OutboxRow r;
  r.id = id;
  r.incident_id = incident;
  r.event = event;
  r.channel = "mailer";
  r.created = kSubstoreT0 + std::chrono::hours(1);
  r.payload = "{}";
  if (!recipient.empty()) {
    r.recipient = recipient;
    r.audience = Audience::kSubscriber;
  } else {
    r.route = "oncall";
  }
  return r;
}

IncidentRecord substore_incident(int64_t id) {
  IncidentRecord i;
  i.id = id;
  i.monitor = "api";
  i.type = "http";
  i.cause = "down";
  i.started_at = kSubstoreT0 + std::chrono::hours(1);
  return i;
}

// Incident 1's opening, mailed to on-call and to ann and bob; a post mailed to ann.
AlertChanges substore_mails() {
  AlertChanges c;
  c.incidents = {substore_incident(1)};
  c.events.push_back(EventRecord{1,
                                 "incident.opened",
                                 kSubstoreT0 + std::chrono::hours(1),
                                 {substore_row("evt_oncall", 1, "incident.opened", ""),
                                  substore_row("evt_ann1", 1, "incident.opened", "ann@a.test"),
                                  substore_row("evt_bob1", 1, "incident.opened", "bob@b.test")}});
  c.events.push_back(EventRecord{0,
                                 "incident.posted",
                                 kSubstoreT0 + std::chrono::hours(1),
                                 {substore_row("evt_ann2", 0, "incident.posted", "ann@a.test"),
                                  substore_row("evt_ann3", 0, "incident.posted", "ann@a.test")}});
  return c;
}

struct SubstoreOutbox {
  std::string status, recipient, audience;
};

// The outbox as the file has it, by id.
std::map<std::string, SubstoreOutbox> substore_outbox(const std::string& path) {
  std::map<std::string, SubstoreOutbox> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT id, status, coalesce(recipient, ''), audience FROM outbox", -1,
                         &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db);
  }
  auto text = [&st](int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  };
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW)
    out[text(0)] = SubstoreOutbox{text(1), text(2), text(3)};
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::unique_ptr<SqliteStore> substore_open(const test::TempDir& dir, const Clock& clock) {
  std::string error;
  auto store = SqliteStore::open(dir.file("t.db"), clock, error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

TEST(SubscriberStore, ARestartReadsEverySubscriberTombstonesToo) {
  test::TempDir dir;
  FakeClock clock;
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->load_subscribers().empty());
    store->put_subscriber(substore_subscriber(3, "cy@c.test"));
    store->put_subscriber(
        substore_subscriber(1, "Ann@a.test", kSubstoreT0 + std::chrono::hours(2)));
    store->put_subscriber(substore_erased(substore_subscriber(2, "bob@b.test")));
    store->start();
    store->stop();
  }
  auto store = substore_open(dir, clock);
  ASSERT_NE(store, nullptr);
  const auto rows = store->load_subscribers();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].id, 1);
  EXPECT_EQ(rows[0].email, "Ann@a.test");
  EXPECT_EQ(rows[0].created, kSubstoreT0 + std::chrono::minutes(1));
  EXPECT_EQ(rows[0].confirmed_at, kSubstoreT0 + std::chrono::hours(2));
  EXPECT_EQ(rows[0].mailed_at, kSubstoreT0 + std::chrono::minutes(1));
  EXPECT_TRUE(rows[0].confirmed());
  EXPECT_EQ(rows[1].id, 2);
  EXPECT_TRUE(rows[1].erased());
  EXPECT_FALSE(rows[1].confirmed_at);
  EXPECT_FALSE(rows[1].mailed_at);
  EXPECT_EQ(rows[1].created, kSubstoreT0 + std::chrono::minutes(2));
  EXPECT_EQ(rows[2].id, 3);
  EXPECT_EQ(rows[2].email, "cy@c.test");
  EXPECT_FALSE(rows[2].confirmed_at);
  EXPECT_EQ(rows[2].mailed_at, kSubstoreT0 + std::chrono::minutes(3));
}

TEST(SubscriberStore, TheNewestVersionOfASubscriberIsKept) {
  test::TempDir dir;
  FakeClock clock;
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    store->put_subscriber(substore_subscriber(1, "ann@a.test"));
    store->start();
    store->stop();
  }
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    SubscriberRecord resent = substore_subscriber(1, "ann@a.test");
    resent.mailed_at = kSubstoreT0 + std::chrono::hours(3);
    store->put_subscriber(resent);
    SubscriberRecord confirmed = resent;
    confirmed.confirmed_at = kSubstoreT0 + std::chrono::hours(4);
    store->put_subscriber(confirmed);  // the same id again before a commit
    store->start();
    store->stop();
  }
  auto store = substore_open(dir, clock);
  ASSERT_NE(store, nullptr);
  const auto rows = store->load_subscribers();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].mailed_at, kSubstoreT0 + std::chrono::hours(3));
  EXPECT_EQ(rows[0].confirmed_at, kSubstoreT0 + std::chrono::hours(4));
}

TEST(SubscriberStore, ErasingAnAddressCancelsItsWaitingMailAndForgetsItInTheOutbox) {
  test::TempDir dir;
  FakeClock clock;
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    store->put_subscriber(substore_subscriber(1, "ann@a.test", kSubstoreT0));
    store->put_subscriber(substore_subscriber(2, "bob@b.test", kSubstoreT0));
    store->add_alerts(substore_mails());
    store->update_delivery(DeliveryUpdate{"evt_ann1", "sent", 1, 0, "", 5'000});
    store->update_delivery(DeliveryUpdate{"evt_ann3", "gave_up", 9, 0, "550 no such user", {}});
    store->start();
    store->stop();
  }
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->load_pending_outbox().size(), 3u) << "on-call, bob's, ann's post";
    store->put_subscriber(substore_erased(substore_subscriber(1, "ann@a.test", kSubstoreT0)));
    store->start();
    store->stop();
  }
  auto rows = substore_outbox(dir.file("t.db"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows["evt_ann1"].status, "sent") << "what was sent stays sent";
  EXPECT_EQ(rows["evt_ann1"].recipient, "");
  EXPECT_EQ(rows["evt_ann2"].status, "cancelled");
  EXPECT_EQ(rows["evt_ann2"].recipient, "");
  EXPECT_EQ(rows["evt_ann2"].audience, "subscriber");
  EXPECT_EQ(rows["evt_ann3"].status, "gave_up");
  EXPECT_EQ(rows["evt_ann3"].recipient, "");
  // Nobody else's mail changes.
  EXPECT_EQ(rows["evt_bob1"].status, "pending");
  EXPECT_EQ(rows["evt_bob1"].recipient, "bob@b.test");
  EXPECT_EQ(rows["evt_oncall"].status, "pending");
  EXPECT_EQ(rows["evt_oncall"].audience, "oncall");

  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    std::vector<std::string> pending;
    for (const auto& p : store->load_pending_outbox()) pending.push_back(p.row.id);
    EXPECT_EQ(pending, (std::vector<std::string>{"evt_oncall", "evt_bob1"}));
    const auto subscribers = store->load_subscribers();
    ASSERT_EQ(subscribers.size(), 2u);
    EXPECT_TRUE(subscribers[0].erased());
    EXPECT_EQ(subscribers[1].email, "bob@b.test");
    // A send that was in flight when the address went reports late: it stays cancelled.
    store->start();
    store->update_delivery(DeliveryUpdate{"evt_ann2", "sent", 1, 0, "", 6'000});
    store->stop();
  }
  rows = substore_outbox(dir.file("t.db"));
  EXPECT_EQ(rows["evt_ann2"].status, "cancelled");
  EXPECT_EQ(rows["evt_ann2"].recipient, "");
}

TEST(SubscriberStore, AnAddressErasedInTheBatchThatMailsItGetsNothingAfterARestart) {
  test::TempDir dir;
  FakeClock clock;
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    // Bob is stored; ann subscribes after the last commit. Mail for both is made, then both
    // are erased, all before the writer's next commit.
    store->put_subscriber(substore_subscriber(2, "bob@b.test", kSubstoreT0));
    store->start();
    store->stop();
  }
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    store->put_subscriber(substore_subscriber(1, "ann@a.test", kSubstoreT0));
    store->add_alerts(substore_mails());
    store->put_subscriber(substore_erased(substore_subscriber(1, "ann@a.test", kSubstoreT0)));
    store->put_subscriber(substore_erased(substore_subscriber(2, "bob@b.test", kSubstoreT0)));
    store->start();
    store->stop();
  }
  auto store = substore_open(dir, clock);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> pending;
  for (const auto& p : store->load_pending_outbox()) pending.push_back(p.row.id);
  EXPECT_EQ(pending, (std::vector<std::string>{"evt_oncall"}));
  for (const auto& [id, row] : substore_outbox(dir.file("t.db"))) {
    if (row.audience == "subscriber") {
      EXPECT_EQ(row.recipient, "") << id;
    }
  }
}

TEST(SubscriberStore, LoadedSubscriberMailKeepsItsAudienceAndRecipient) {
  test::TempDir dir;
  FakeClock clock;
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    store->add_alerts(substore_mails());
    store->start();
    store->stop();
  }
  auto store = substore_open(dir, clock);
  ASSERT_NE(store, nullptr);
  const auto pending = store->load_pending_outbox();
  ASSERT_EQ(pending.size(), 5u);
  std::map<std::string, OutboxRow> by_id;
  for (const auto& p : pending) by_id[p.row.id] = p.row;
  EXPECT_EQ(by_id["evt_oncall"].audience, Audience::kOnCall);
  EXPECT_EQ(by_id["evt_oncall"].recipient, "");
  EXPECT_EQ(by_id["evt_bob1"].audience, Audience::kSubscriber);
  EXPECT_EQ(by_id["evt_bob1"].recipient, "bob@b.test");
  EXPECT_EQ(by_id["evt_bob1"].incident_id, 1);
  EXPECT_EQ(by_id["evt_ann2"].audience, Audience::kSubscriber);
  EXPECT_EQ(by_id["evt_ann2"].event, "incident.posted");
}

TEST(SubscriberStore, AnIncidentsNotificationsAreTheOnCallOnes) {
  test::TempDir dir;
  FakeClock clock;
  {
    auto store = substore_open(dir, clock);
    ASSERT_NE(store, nullptr);
    store->add_alerts(substore_mails());
    store->update_delivery(DeliveryUpdate{"evt_bob1", "sent", 1, 0, "", 5'000});
    store->start();
    store->stop();
  }
  auto store = substore_open(dir, clock);
  ASSERT_NE(store, nullptr);
  store->start();
  const auto reads = store->reads();
  ASSERT_NE(reads, nullptr);
  const auto listed = reads->incident_notifications(1, 1);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, "evt_oncall");
  EXPECT_EQ(listed[0].event, "incident.opened");
  EXPECT_EQ(listed[0].status, "pending");
  const auto events = reads->incident_events({1});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "incident.opened");
  EXPECT_EQ(events[0].deliveries, "mailer pending") << "not bob's delivered mail, nor ann's";
  store->stop();
}

}  // namespace
}  // namespace lookout
