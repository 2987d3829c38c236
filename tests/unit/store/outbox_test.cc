// The outbox as a restart reads it, through a real SqliteStore on a SQLite file: what is still
// to send, and what was delivered for incidents still open (the alerts a channel keeps alive).
#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace lookout {
namespace {

OutboxRow row(const std::string& id, int64_t incident, const std::string& event, int64_t ms) {
  OutboxRow r;
  r.id = id;
  r.incident_id = incident;
  r.event = event;
  r.channel = "am";
  r.route = "oncall";
  r.created = from_unix_ms(ms);
  r.payload = "{}";
  return r;
}

IncidentRecord incident(int64_t id, std::optional<int64_t> resolved_ms) {
  IncidentRecord i;
  i.id = id;
  i.monitor = "m" + std::to_string(id);
  i.type = "http";
  i.cause = "down";
  i.started_at = from_unix_ms(1'000);
  if (resolved_ms) i.resolved_at = from_unix_ms(*resolved_ms);
  return i;
}

std::vector<std::string> ids(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

TEST(Outbox, ARestartReadsWhatWasDeliveredForIncidentsStillOpen) {
  test::TempDir dir;
  SystemClock clock;
  std::string error;
  {
    auto store = SqliteStore::open(dir.file("t.db"), clock, error);
    ASSERT_NE(store, nullptr) << error;
    store->start();
    AlertChanges changes;
    changes.incidents = {incident(1, std::nullopt), incident(2, 5'000)};
    changes.events.push_back(EventRecord{
        1, "incident.opened", from_unix_ms(1'000), {row("evt_a", 1, "incident.opened", 1'000)}});
    changes.events.push_back(EventRecord{1,
                                         "incident.reminder",
                                         from_unix_ms(3'000),
                                         {row("evt_b", 1, "incident.reminder", 3'000)}});
    changes.events.push_back(EventRecord{
        2, "incident.opened", from_unix_ms(1'000), {row("evt_c", 2, "incident.opened", 1'000)}});
    changes.events.push_back(EventRecord{1,
                                         "incident.acknowledged",
                                         from_unix_ms(4'000),
                                         {row("evt_d", 1, "incident.acknowledged", 4'000)}});
    store->add_alerts(std::move(changes));
    for (const char* sent : {"evt_a", "evt_b", "evt_c"})
      store->update_delivery(DeliveryUpdate{sent, "sent", 1, 0, "", 2'000});
    store->stop();
  }
  auto store = SqliteStore::open(dir.file("t.db"), clock, error);
  ASSERT_NE(store, nullptr) << error;
  // evt_c's incident is resolved; evt_d is not delivered yet, so it is still to send.
  const auto open = store->load_open_deliveries();
  EXPECT_EQ(ids(open), (std::vector<std::string>{"evt_a", "evt_b"}));
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[1].event, "incident.reminder");
  EXPECT_EQ(open[1].channel, "am");
  EXPECT_EQ(open[1].route, "oncall");
  EXPECT_EQ(to_unix_ms(open[1].created), 3'000);
  const auto pending = store->load_pending_outbox();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].row.id, "evt_d");
}

TEST(Outbox, APostsEventIsKeptAndSentButListedWithNoIncident) {
  test::TempDir dir;
  SystemClock clock;
  std::string error;
  {
    auto store = SqliteStore::open(dir.file("t.db"), clock, error);
    ASSERT_NE(store, nullptr) << error;
    store->start();
    AlertChanges changes;
    changes.incidents = {incident(1, std::nullopt)};
    changes.events.push_back(EventRecord{
        1, "incident.opened", from_unix_ms(1'000), {row("evt_a", 1, "incident.opened", 1'000)}});
    OutboxRow post = row("evt_p", 0, "incident.posted", 2'000);
    post.payload = R"({"id":7,"title":"Database failover"})";
    changes.events.push_back(EventRecord{0, "incident.posted", from_unix_ms(2'000), {post}});
    store->add_alerts(std::move(changes));
    store->update_delivery(DeliveryUpdate{"evt_a", "sent", 1, 0, "", 2'000});
    store->stop();
  }
  auto store = SqliteStore::open(dir.file("t.db"), clock, error);
  ASSERT_NE(store, nullptr) << error;
  // Not yet delivered: sent after a restart, with its post.
  const auto pending = store->load_pending_outbox();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].row.id, "evt_p");
  EXPECT_EQ(pending[0].row.incident_id, 0);
  EXPECT_EQ(pending[0].row.event, "incident.posted");
  EXPECT_EQ(pending[0].row.route, "oncall");
  EXPECT_EQ(pending[0].row.payload, R"({"id":7,"title":"Database failover"})");
  EXPECT_EQ(ids(store->load_open_deliveries()), std::vector<std::string>{"evt_a"});
  // The incidents API lists incident 1's events only.
  store->start();
  const auto reads = store->reads();
  ASSERT_NE(reads, nullptr);
  const auto listed = reads->incident_notifications(1, 1);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, "evt_a");
  store->stop();
}

}  // namespace
}  // namespace lookout
