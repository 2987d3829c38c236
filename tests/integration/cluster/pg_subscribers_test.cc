// The subscribers' statements against a real PostgreSQL: a new address goes in once whatever
// the case of its letters, with its confirmation mail; another mail only after an hour; a
// confirmation says whether the row is live; an erased address leaves its row (its number is
// never given again) and its mails lose it, those not sent yet cancelled; a list reads the live
// rows only when the version moved; pending rows expire a week after their last mail.
#include "store/pg_subscribers.h"

#include <gtest/gtest.h>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

OutboxRow confirmation(const std::string& id, const std::string& to, WallTime at) {
  OutboxRow r{id, 0, "subscription.confirm", "mail", "", to, at, R"({"kind": "confirm"})"};
  r.audience = Audience::kSubscriber;
  return r;
}

std::optional<bool> changed(EventLoop& loop, PgConnection& conn, const PgStatement& s) {
  return PgSubscribers::changed(answer_to(loop, conn, s));
}

TEST(PgSubscribers, AnAddressGoesInOnceIsConfirmedAndErasedWithItsMails) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  require_schema(loop, conn);

  auto read = PgSubscribers::read(answer_to(loop, conn, PgSubscribers::list(-1)), -1);
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->rows.has_value());
  EXPECT_TRUE(read->rows->empty());

  const WallTime t0 = from_unix_ms(1'790'000'000'000);
  const auto id = PgSubscribers::reserved_id(answer_to(loop, conn, PgSubscribers::reserve_id()));
  ASSERT_EQ(id, std::optional<int64_t>(1));
  SubscriberRecord alice{*id, "Alice@Example.com", t0, std::nullopt, t0};
  EXPECT_EQ(
      changed(loop, conn, PgSubscribers::add(alice, confirmation("evt_c1", alice.email, t0), 9)),
      std::optional<bool>(true));
  // The same address in other letters, taken on another node: nothing, not even a mail.
  SubscriberRecord again{2, "alice@example.COM", t0, std::nullopt, t0};
  EXPECT_EQ(
      changed(loop, conn, PgSubscribers::add(again, confirmation("evt_c2", again.email, t0), 9)),
      std::optional<bool>(false));
  EXPECT_EQ(pg.sql("SELECT string_agg(id || ' ' || recipient || ' ' || shard || ' ' || "
                   "audience, ',') FROM outbox"),
            "evt_c1 Alice@Example.com 9 subscriber");

  // Mailed again only an hour after the last mail.
  const Duration hour{3'600'000};
  EXPECT_EQ(changed(loop, conn,
                    PgSubscribers::mail_again(1, t0 + Duration{60'000}, hour,
                                              confirmation("evt_c3", alice.email, t0), 9)),
            std::optional<bool>(false));
  EXPECT_EQ(changed(loop, conn,
                    PgSubscribers::mail_again(1, t0 + hour, hour,
                                              confirmation("evt_c4", alice.email, t0 + hour), 9)),
            std::optional<bool>(true));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM outbox"), "2");

  read =
      PgSubscribers::read(answer_to(loop, conn, PgSubscribers::list(read->version)), read->version);
  ASSERT_TRUE(read.has_value() && read->rows.has_value());
  ASSERT_EQ(read->rows->size(), 1u);
  EXPECT_EQ(read->rows->front().email, "Alice@Example.com");
  EXPECT_EQ(read->rows->front().mailed_at, std::optional<WallTime>(t0 + hour));
  EXPECT_FALSE(read->rows->front().confirmed());
  const int64_t version = read->version;
  EXPECT_FALSE(PgSubscribers::read(answer_to(loop, conn, PgSubscribers::list(version)), version)
                   ->rows.has_value());

  // Confirmed once; a second confirmation still says the row is live; an unknown id is not.
  EXPECT_EQ(changed(loop, conn, PgSubscribers::confirm(1, t0 + hour)), std::optional<bool>(true));
  EXPECT_EQ(changed(loop, conn, PgSubscribers::confirm(1, t0 + hour * 2)),
            std::optional<bool>(true));
  EXPECT_EQ(changed(loop, conn, PgSubscribers::confirm(7, t0)), std::optional<bool>(false));
  EXPECT_EQ(pg.sql("SELECT (extract(epoch FROM confirmed_at) * 1000)::bigint FROM subscribers"),
            std::to_string(to_unix_ms(t0 + hour)));
  // Confirmed: no more confirmation mail.
  EXPECT_EQ(changed(loop, conn,
                    PgSubscribers::mail_again(1, t0 + hour * 5, hour,
                                              confirmation("evt_c5", alice.email, t0), 9)),
            std::optional<bool>(false));

  // Erased: the row stays without its address, its sent mail loses it, the pending one is
  // cancelled; a second erasure changes nothing, and the number is not given again.
  pg.sql("UPDATE outbox SET status = 'sent' WHERE id = 'evt_c1'");
  EXPECT_EQ(changed(loop, conn, PgSubscribers::erase(1)), std::optional<bool>(true));
  EXPECT_EQ(changed(loop, conn, PgSubscribers::erase(1)), std::optional<bool>(false));
  EXPECT_EQ(pg.sql("SELECT string_agg(id || ' ' || status || ' [' || recipient || ']', ',' ORDER "
                   "BY id) FROM outbox"),
            "evt_c1 sent [],evt_c4 cancelled []");
  EXPECT_EQ(pg.sql("SELECT id || ' [' || email || '] ' || (confirmed_at IS NULL) FROM "
                   "subscribers"),
            "1 [] true");
  EXPECT_EQ(PgSubscribers::reserved_id(answer_to(loop, conn, PgSubscribers::reserve_id())),
            std::optional<int64_t>(2));
  read = PgSubscribers::read(answer_to(loop, conn, PgSubscribers::list(version)), version);
  ASSERT_TRUE(read.has_value() && read->rows.has_value());
  EXPECT_TRUE(read->rows->empty());

  // The address may subscribe anew; unconfirmed a week after its last mail, it is erased.
  SubscriberRecord back{4, "alice@example.com", t0, std::nullopt, t0};
  EXPECT_EQ(
      changed(loop, conn, PgSubscribers::add(back, confirmation("evt_c6", back.email, t0), 9)),
      std::optional<bool>(true));
  const Duration week{7LL * 86'400'000};
  EXPECT_EQ(PgSubscribers::expired(
                answer_to(loop, conn, PgSubscribers::expire(t0 + week - Duration{1}, week))),
            std::optional<int64_t>(0));
  EXPECT_EQ(PgSubscribers::expired(
                answer_to(loop, conn, PgSubscribers::expire(t0 + week + Duration{1}, week))),
            std::optional<int64_t>(1));
  EXPECT_EQ(pg.sql("SELECT status FROM outbox WHERE id = 'evt_c6'"), "cancelled");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM subscribers WHERE email <> ''"), "0");

  pg.stop();
  EXPECT_EQ(PgSubscribers::read(answer_to(loop, conn, PgSubscribers::list(-1)), -1), std::nullopt);
  conn.stop();
}

}  // namespace
}  // namespace lookout::testing
