// PgDecisions without a server: what each statement is sent (the monitor's shard, the fence's
// parameters last, events and outbox rows as JSON with text PostgreSQL takes, each shard's lease
// with its epoch, a retry as a delay), and the answers read strictly. What the statements do is
// proven against a real PostgreSQL in tests/integration/cluster/pg_decisions_test.cc.
#include "store/pg_decisions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/lease_plan.h"

namespace lookout {
namespace {

using Cells = std::vector<std::optional<std::string>>;

PgResult answer_of(std::vector<Cells> rows) { return PgResult{"", "", std::move(rows)}; }

IncidentRecord an_incident() {
  IncidentRecord i;
  i.id = 41;
  i.monitor = "portal-home";
  i.group = "web";
  i.type = "down";
  i.cause = "expected status 200, got 503";
  i.started_at = from_unix_ms(1'765'000'000'123);
  i.fired = {"oncall#0", R"(a "b"\c)"};
  return i;
}

TEST(PgDecisions, AnOpeningCarriesTheIncidentItsShardAndTheFenceLast) {
  const IncidentRecord i = an_incident();
  const EventRecord e{41, "incident.opened", i.started_at, {}};
  const PgStatement s = PgDecisions::open_incident({"eval/9", "fra-1", 3}, i, {e});
  ASSERT_EQ(s.params.size(), 20u);
  EXPECT_EQ(s.params[0], "41");
  EXPECT_EQ(s.params[1], "portal-home");
  EXPECT_EQ(s.params[4], "down");
  EXPECT_EQ(s.params[6], "1765000000123");
  EXPECT_EQ(s.params[7], std::nullopt);  // not acknowledged
  EXPECT_EQ(s.params[8], std::nullopt);
  EXPECT_EQ(s.params[11], R"({"oncall#0","a \"b\"\\c"})");
  EXPECT_EQ(s.params[12], std::nullopt);  // no reminder
  EXPECT_EQ(s.params[13], std::to_string(shard_of("portal-home")));
  EXPECT_EQ(s.params[15], "[]");  // no notifications
  EXPECT_EQ(s.params[16], "fra-1");
  EXPECT_EQ((PgParams{s.params.begin() + 17, s.params.end()}), (PgParams{"eval/9", "fra-1", "3"}));
  for (const char* part : {"ON CONFLICT (monitor) WHERE resolved_at IS NULL DO NOTHING",
                           "FROM fence", "$18 AND holder = $19 AND epoch = $20::bigint",
                           "jsonb_to_recordset($15::jsonb)", "jsonb_to_recordset($16::jsonb)"}) {
    EXPECT_NE(s.sql.find(part), std::string::npos) << part;
  }
}

TEST(PgDecisions, EventsAndTheirRowsGoAsJsonOfTextPostgresTakes) {
  IncidentRecord i = an_incident();
  static constexpr char kCause[] = "bad \xff byte and a NUL \0 here";
  i.cause = std::string(kCause, sizeof(kCause) - 1);
  const OutboxRow row{"evt_1",      41, "incident.opened",    "ops", "oncall", "",
                      i.started_at, "", Audience::kSubscriber};
  const EventRecord first{41, "incident.acknowledged", from_unix_ms(5), {}};
  const EventRecord second{41, "incident.opened", from_unix_ms(7), {row, row}};
  const PgStatement s = PgDecisions::update_incident({"eval/9", "fra-1", 3}, i, {first, second});
  ASSERT_EQ(s.params.size(), 18u);
  EXPECT_EQ(s.params[3], "bad \xEF\xBF\xBD byte and a NUL \xEF\xBF\xBD here");
  EXPECT_EQ(s.params[4], std::nullopt);  // not resolved
  const auto events = nlohmann::json::parse(*s.params[11]);
  EXPECT_EQ(events, nlohmann::json::parse(
                        R"([{"n":0,"event":"incident.acknowledged","at_ms":5},
                            {"n":1,"event":"incident.opened","at_ms":7}])"));
  const auto rows = nlohmann::json::parse(*s.params[12]);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["n"], 1);
  EXPECT_EQ(rows[0]["id"], "evt_1");
  EXPECT_EQ(rows[0]["audience"], "subscriber");
  EXPECT_TRUE(rows[0]["payload"].is_null());
  EXPECT_EQ(rows[0]["created_ms"], 1'765'000'000'123);
  EXPECT_EQ(s.params[13], "fra-1");
  EXPECT_EQ(s.params[14], std::to_string(shard_of("portal-home")));
  EXPECT_NE(s.sql.find("resolved_at IS NULL AND EXISTS (SELECT FROM fence)"), std::string::npos);
}

TEST(PgDecisions, AStateCarriesWhoDecided) {
  const StateRow state{"portal-home", "down", 1000, "ud", 2000, Outcome::kDown, std::nullopt, ""};
  const PgStatement s = PgDecisions::put_state({"eval/9", "fra-1", 3}, state);
  EXPECT_EQ(s.params,
            (PgParams{"portal-home", "down", "1000", "ud", "2000", "2", std::nullopt, std::nullopt,
                      std::to_string(shard_of("portal-home")), "fra-1", "eval/9", "fra-1", "3"}));
  EXPECT_EQ(s.sql.find("location_states"), std::string::npos);
}

TEST(PgDecisions, AClaimNamesEachShardsLeaseWithItsEpoch) {
  const PgStatement s = PgDecisions::claim("fra-1", {{3, 4}, {200, 1}}, Duration{30'000}, 10);
  EXPECT_EQ(s.params,
            (PgParams{"fra-1", R"({"eval/3","eval/200"})", "{3,200}", "{4,1}", "30000", "10"}));
  for (const char* part : {"FOR SHARE OF l", "FOR UPDATE OF o SKIP LOCKED", "LIMIT $6",
                           "o.claim_until <= clock_timestamp()"}) {
    EXPECT_NE(s.sql.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(PgDecisions::claim("fra-1", {}, Duration{1}, 1).params[1], "{}");
}

TEST(PgDecisions, AReportGivesARetryAsADelayOnTheNodesClock) {
  const PgStatement retry = PgDecisions::report_delivery(
      "fra-1", 2, {"evt_1", "pending", 3, 10'500, "503", std::nullopt}, 10'000);
  EXPECT_EQ(retry.params,
            (PgParams{"evt_1", "fra-1", "2", "pending", "3", "500", "503", std::nullopt}));
  const PgStatement sent =
      PgDecisions::report_delivery("fra-1", 2, {"evt_1", "sent", 1, 0, "", 9000}, 10'000);
  EXPECT_EQ(sent.params, (PgParams{"evt_1", "fra-1", "2", "sent", "1", "0", std::nullopt, "9000"}));
  EXPECT_NE(sent.sql.find("claimed_by = $2 AND claim_epoch = $3::bigint"), std::string::npos);
}

TEST(PgDecisions, ALocationReportNamesTheProbeLeaseOfItsShardWithItsEpoch) {
  const LocationReportRow r{
      {"portal-home", "nyc", "down", 1000, 2000, std::nullopt, "timeout"}, "dd", 7, 0};
  const PgStatement s = PgDecisions::report_locations("nyc-1", "nyc", {r});
  ASSERT_EQ(s.params.size(), 3u);
  EXPECT_EQ(s.params[0], "nyc-1");
  EXPECT_EQ(s.params[1], "nyc");
  const auto rows = nlohmann::json::parse(*s.params[2]);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["lease"], LeaseSpace::probing("nyc").lease(shard_of("portal-home")));
  EXPECT_EQ(rows[0]["epoch"], 7);
  EXPECT_EQ(rows[0]["recent"], "dd");
  EXPECT_TRUE(rows[0]["latency_us"].is_null());
  for (const char* part : {"FOR SHARE OF l", "held.epoch = r.epoch", "k.last_check <= excluded"}) {
    EXPECT_NE(s.sql.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(PgDecisions::location_reports({4}, Duration{90'000}).params,
            (PgParams{"{4}", "90000"}));
  const auto heard = PgDecisions::report_rows(answer_of(
      {{"portal-home", "nyc", "down", "1000", "2000", std::nullopt, "timeout", "dd", "350"}}));
  ASSERT_TRUE(heard);
  EXPECT_EQ(heard->at(0).state, r.state);
  EXPECT_EQ(heard->at(0).recent, "dd");
  EXPECT_EQ(heard->at(0).age_ms, 350);
  EXPECT_FALSE(PgDecisions::report_rows(answer_of(
      {{"portal-home", "nyc", "down", "1000", "2000", std::nullopt, "timeout", "dd", "soon"}})));
  EXPECT_FALSE(PgDecisions::report_rows(
      answer_of({{"portal-home", "nyc", "down", "1000", "2000", std::nullopt, "timeout", "dd"}})));
}

TEST(PgDecisions, TheReadsNameTheirShards) {
  EXPECT_EQ(PgDecisions::open_incidents({1, 255}).params, (PgParams{"{1,255}"}));
  EXPECT_EQ(PgDecisions::states({}).params, (PgParams{"{}"}));
  EXPECT_EQ(PgDecisions::reserve_incident_ids(5).params, (PgParams{"5"}));
}

TEST(PgDecisions, AnswersAreReadStrictly) {
  // An opening.
  auto o = PgDecisions::opening(answer_of({{"t", "t", "2", "41"}}));
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->opened);
  EXPECT_EQ(o->open_id, std::nullopt);  // its own
  EXPECT_EQ(o->notifications, 2);
  o = PgDecisions::opening(answer_of({{"t", "f", "0", "40"}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->open_id, 40);
  o = PgDecisions::opening(answer_of({{"t", "f", "0", std::nullopt}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->open_id, std::nullopt);
  EXPECT_FALSE(PgDecisions::opening(answer_of({{"t", "yes", "0", "1"}})));
  EXPECT_FALSE(PgDecisions::opening(answer_of({{"t", "f", "x", "1"}})));
  EXPECT_FALSE(PgDecisions::opening(answer_of({{"t", "f", "0"}})));
  EXPECT_FALSE(PgDecisions::opening(answer_of({})));
  EXPECT_FALSE(PgDecisions::opening(PgResult{"PostgreSQL at db1:5432: boom", "XX000", {}}));

  EXPECT_TRUE(PgDecisions::update(answer_of({{"f", "f", "0"}})));
  EXPECT_FALSE(PgDecisions::update(answer_of({{"f", std::nullopt, "0"}})));

  EXPECT_EQ(PgDecisions::reported(answer_of({})), false);
  EXPECT_EQ(PgDecisions::reported(answer_of({{"1"}})), true);
  EXPECT_FALSE(PgDecisions::reported(answer_of({{"1"}, {"1"}})));

  EXPECT_EQ(PgDecisions::reserved_ids(answer_of({{"7"}, {"8"}})), (std::vector<int64_t>{7, 8}));
  EXPECT_FALSE(PgDecisions::reserved_ids(answer_of({{"7x"}})));
  EXPECT_FALSE(PgDecisions::reserved_ids(answer_of({{std::nullopt}})));

  // A claimed row, then the same with an audience this lookout does not know.
  Cells claimed{"evt_1",      "41",     "incident.opened",
                "ops",        "oncall", "",
                std::nullopt, "oncall", "1000",
                "2",          "3000",   "9",
                "4",          "8000"};
  auto rows = PgDecisions::claimed(answer_of({claimed}));
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).pending.row.payload, "");
  EXPECT_EQ(rows->at(0).pending.attempts, 2);
  EXPECT_EQ(rows->at(0).pending.due_ms, 3000);
  EXPECT_EQ(rows->at(0).shard, 9);
  EXPECT_EQ(rows->at(0).claim_epoch, 4);
  EXPECT_EQ(rows->at(0).lease_remaining_ms, 8000);
  claimed[7] = "everyone";
  EXPECT_FALSE(PgDecisions::claimed(answer_of({claimed})));
  claimed[7] = "oncall";
  claimed[13] = std::nullopt;
  EXPECT_FALSE(PgDecisions::claimed(answer_of({claimed})));

  // An open incident: its fired tiers are a JSON array of strings.
  Cells incident{"41",   "portal-home", "web",        "down", "down", "503",
                 "1000", std::nullopt,  std::nullopt, "f",    "f",    R"(["oncall#0"])",
                 "5000"};
  auto incidents = PgDecisions::incidents(answer_of({incident}));
  ASSERT_TRUE(incidents);
  EXPECT_EQ(incidents->at(0).fired, std::vector<std::string>{"oncall#0"});
  EXPECT_EQ(incidents->at(0).next_reminder, from_unix_ms(5000));
  EXPECT_FALSE(incidents->at(0).acknowledged_at);
  incident[11] = "{oncall#0}";
  EXPECT_FALSE(PgDecisions::incidents(answer_of({incident})));
  incident[11] = "[1]";
  EXPECT_FALSE(PgDecisions::incidents(answer_of({incident})));
  incident[11] = "[]";
  incident[4] = "sideways";
  EXPECT_FALSE(PgDecisions::incidents(answer_of({incident})));

  // A state whose outcome is none this lookout knows.
  Cells state{"portal-home", "up", "1000", "uu", std::nullopt, "0", std::nullopt, std::nullopt};
  EXPECT_TRUE(PgDecisions::state_rows(answer_of({state})));
  state[5] = "3";
  EXPECT_FALSE(PgDecisions::state_rows(answer_of({state})));

  EXPECT_FALSE(PgDecisions::location_rows(
      answer_of({{"portal-home", "fra", "up", "x", std::nullopt, std::nullopt, std::nullopt}})));
  EXPECT_FALSE(PgDecisions::outbox_rows(answer_of({{"evt_1"}})));
}

}  // namespace
}  // namespace lookout
