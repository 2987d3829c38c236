// PgHeartbeats without a server: what each statement is sent, and its answers read strictly.
// What the statements do is proven against a real PostgreSQL in
// tests/integration/cluster/cluster_heartbeats_test.cc.
#include "store/pg_heartbeats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/lease_plan.h"

namespace lookout {
namespace {

using PingCells = std::vector<std::optional<std::string>>;

PgResult ping_answer(std::vector<PingCells> rows) { return PgResult{"", "", std::move(rows)}; }

TEST(PgHeartbeats, APingIsTakenWithItsShardKindAndTextMadeValid) {
  Ping p;
  p.kind = Ping::Kind::kExitStatus;
  p.exit_status = 3;
  p.rid = "r1";
  p.body = std::string("a\0b\xff", 4);
  const PgStatement s = PgHeartbeats::take("backup", p, "fra-1");
  ASSERT_EQ(s.params.size(), 7u);
  EXPECT_EQ(s.params[0], "backup");
  EXPECT_EQ(s.params[1], std::to_string(shard_of("backup")));
  EXPECT_EQ(s.params[2], "exit");
  EXPECT_EQ(s.params[3], "3");
  EXPECT_EQ(s.params[4], "r1");
  // PostgreSQL takes no NUL in text, nor bytes that are not UTF-8.
  EXPECT_EQ(s.params[5]->find('\0'), std::string::npos);
  EXPECT_EQ(s.params[5]->find('\xff'), std::string::npos);
  EXPECT_EQ(s.params[6], "fra-1");
  EXPECT_EQ(PgHeartbeats::taken(ping_answer({{"41"}})), 41);
  EXPECT_FALSE(PgHeartbeats::taken(ping_answer({})).has_value());
  EXPECT_FALSE(PgHeartbeats::taken(PgResult{"ERROR: x", "", {}}).has_value());
}

TEST(PgHeartbeats, WaitingPingsAreReadInOrderAndStrictly) {
  const PgStatement s = PgHeartbeats::waiting({3, 200}, 50);
  EXPECT_EQ(s.params[0], "{3,200}");
  EXPECT_EQ(s.params[1], "50");
  EXPECT_NE(s.sql.find("ORDER BY id"), std::string::npos);
  const auto rows = PgHeartbeats::pings(ping_answer(
      {{"7", "backup", "start", "0", "r", "", "120"}, {"8", "backup", "log", "0", "", "hi", "5"}}));
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, 7);
  EXPECT_EQ((*rows)[0].ping.kind, Ping::Kind::kStart);
  EXPECT_EQ((*rows)[0].ping.rid, "r");
  EXPECT_EQ((*rows)[0].age_ms, 120);
  EXPECT_EQ((*rows)[1].ping.kind, Ping::Kind::kLog);
  EXPECT_EQ((*rows)[1].ping.body, "hi");
  // A kind this lookout does not know, a missing age, or a short row: not read at all.
  EXPECT_FALSE(PgHeartbeats::pings(ping_answer({{"7", "backup", "ping", "0", "", "", "1"}})));
  EXPECT_FALSE(PgHeartbeats::pings(ping_answer({{"7", "backup", "fail", "0", "", "", {}}})));
  EXPECT_FALSE(PgHeartbeats::pings(ping_answer({{"7", "backup", "fail"}})));
}

TEST(PgHeartbeats, WhatWasKeptIsReadWhole) {
  const auto kept = PgHeartbeats::memories(
      ping_answer({{"backup", "1000", "2000", "t", R"({"r1": 1500})", "2000", "copied"},
                   {"fresh", {}, {}, "f", "{}", {}, {}}}));
  ASSERT_TRUE(kept.has_value());
  ASSERT_EQ(kept->size(), 2u);
  const HeartbeatMemory& m = (*kept)[0].second;
  EXPECT_EQ(m.last_ping, from_unix_ms(1000));
  EXPECT_EQ(m.last_any_ping, from_unix_ms(2000));
  EXPECT_TRUE(m.up);
  ASSERT_EQ(m.starts.size(), 1u);
  EXPECT_EQ(m.starts.at("r1"), from_unix_ms(1500));
  ASSERT_TRUE(m.last_message.has_value());
  EXPECT_EQ(m.last_message->text, "copied");
  EXPECT_EQ((*kept)[1].second, HeartbeatMemory{});
  EXPECT_FALSE(PgHeartbeats::memories(ping_answer({{"b", "x", {}, "t", "{}", {}, {}}})));
  EXPECT_FALSE(PgHeartbeats::memories(ping_answer({{"b", {}, {}, "yes", "{}", {}, {}}})));
  EXPECT_FALSE(PgHeartbeats::memories(ping_answer({{"b", {}, {}, "t", "[]", {}, {}}})));
}

TEST(PgHeartbeats, AKeepIsFencedAndNamesThePingsItJudged) {
  HeartbeatKeep k;
  k.monitor = "backup";
  k.memory.last_ping = from_unix_ms(5000);
  k.memory.up = false;
  k.state = StateRow{"backup", "down", 5000, "", std::nullopt, std::nullopt, std::nullopt, "late"};
  ResultRow run;
  run.monitor = "backup";
  run.t_ms = 5000;
  run.outcome = Outcome::kDown;
  run.kind = ErrorKind::kLate;
  run.cause = "no ping since then";
  k.runs.push_back(run);
  k.judged = {12, 14};
  k.location = "fra";
  k.node = "fra-1";
  const PgStatement s = PgHeartbeats::keep(LeaseFence{"eval/9", "fra-1", 4}, k);
  EXPECT_NE(s.sql.find("FROM fence"), std::string::npos);
  EXPECT_NE(s.sql.find("id = ANY($20::bigint[])"), std::string::npos);
  EXPECT_EQ(s.params[19], "{12,14}");
  EXPECT_EQ(s.params[1], "5000");
  EXPECT_FALSE(s.params[2].has_value()) << "no ping of any kind yet";
  EXPECT_EQ(s.params[3], "false");
  EXPECT_EQ(s.params[8], "down");
  EXPECT_EQ(s.params[16], "fra-1") << "decided by the node writing it";
  EXPECT_EQ(s.params[17], "fra");
  const auto runs = nlohmann::json::parse(*s.params[18]);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["kind"], "late");
  EXPECT_EQ(runs[0]["outcome"], 2);
  EXPECT_TRUE(runs[0]["total_us"].is_null());
  // The oldest run moves the shard's rollup marks back; the fence's parameters come last.
  EXPECT_EQ(s.params[20], "5000");
  EXPECT_NE(s.sql.find("UPDATE rollup_marks"), std::string::npos);
  EXPECT_EQ(s.params.size(), 21u + 3u);
}

}  // namespace
}  // namespace lookout
