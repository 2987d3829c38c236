// The pure parts of cluster mode's rollups: how a range is cut into levels (shared with SQLite's
// reader), which step a shard's roller takes next, how raw and rollup rows fold into the same
// Aggregate as SQLite's, and what the statements check and lock.
#include "store/pg_rollup.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

namespace lookout {
namespace {

constexpr int64_t kCutDay = 86'400'000;
constexpr int64_t kCutHour = 3'600'000;
constexpr int64_t kCutMinute = 60'000;
const int64_t kCutT0 = 1'765'000'800'000 - 1'765'000'800'000 % kCutDay;  // a UTC midnight

std::vector<std::tuple<int, int64_t, int64_t>> cut_shown(int64_t from, int64_t to,
                                                         const Watermarks& w) {
  std::vector<std::tuple<int, int64_t, int64_t>> out;
  for (const RangePiece& p : cut_range(from, to, w)) {
    out.emplace_back(static_cast<int>(p.level), p.from - kCutT0, p.to - kCutT0);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RangeCut, WholeDaysHoursMinutesBelowTheirMarksAndRawRowsForTheRest) {
  const Watermarks w{kCutT0 + 2 * kCutDay + 90 * kCutMinute, kCutT0 + 2 * kCutDay + kCutHour,
                     kCutT0 + 2 * kCutDay};
  // From a day and a half before midnight to well past every mark.
  const auto pieces = cut_shown(kCutT0 - 36 * kCutHour + 30'000, kCutT0 + 3 * kCutDay, w);
  const std::vector<std::tuple<int, int64_t, int64_t>> want{
      {0, -kCutDay, 2 * kCutDay},                                  // days
      {1, -36 * kCutHour + kCutHour, -kCutDay},                    // hours before them
      {1, 2 * kCutDay, 2 * kCutDay + kCutHour},                    // the hour after
      {2, -36 * kCutHour + kCutMinute, -35 * kCutHour},            // minutes before the hours
      {2, 2 * kCutDay + kCutHour, 2 * kCutDay + 90 * kCutMinute},  // minutes after
      {3, -36 * kCutHour + 30'000, -36 * kCutHour + kCutMinute},   // raw before
      {3, 2 * kCutDay + 90 * kCutMinute, 3 * kCutDay},             // raw after the marks
  };
  EXPECT_EQ(pieces, want);
}

TEST(RangeCut, WithoutMarksEverythingIsRawAndAnEmptyRangeHasNoPieces) {
  EXPECT_EQ(cut_shown(kCutT0, kCutT0 + 5 * kCutDay, {}),
            (std::vector<std::tuple<int, int64_t, int64_t>>{{3, 0, 5 * kCutDay}}));
  EXPECT_TRUE(cut_range(kCutT0, kCutT0, {}).empty());
  // Within one minute there is no whole bucket: raw rows, however far the marks are.
  const Watermarks w{kCutT0 + kCutDay, kCutT0 + kCutDay, kCutT0 + kCutDay};
  EXPECT_EQ(cut_shown(kCutT0 + 1000, kCutT0 + 2000, w),
            (std::vector<std::tuple<int, int64_t, int64_t>>{{3, 1000, 2000}}));
  // From the hour level down: no day rows even below the day mark.
  std::vector<CutLevel> levels;
  for (const RangePiece& p : cut_range(kCutT0, kCutT0 + kCutDay, w, CutLevel::kHour)) {
    levels.push_back(p.level);
  }
  EXPECT_EQ(levels, std::vector<CutLevel>{CutLevel::kHour});
}

PgResult rollup_rows(std::vector<std::vector<std::optional<std::string>>> rows) {
  PgResult r;
  r.rows = std::move(rows);
  return r;
}

TEST(PgRollup, StepsGoMinutesFirstInChunksThenHoursThenDays) {
  const Watermarks start{kCutT0, kCutT0, kCutT0};
  // Complete up to 70 minutes and a half in: minutes in chunks, up to the whole minute.
  auto s = next_roll_step(start, kCutT0 + 70 * kCutMinute + 30'000);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (RollStep{RollLevel::kMinute, kCutT0, kCutT0 + kMinuteChunkMs,
                          kCutT0 + 70 * kCutMinute}));
  Watermarks w = start;
  w.minute = kCutT0 + 70 * kCutMinute;
  // Minutes done: the one whole hour below the minute mark.
  s = next_roll_step(w, kCutT0 + 70 * kCutMinute + 30'000);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (RollStep{RollLevel::kHour, kCutT0, kCutT0 + kCutHour, kCutT0 + kCutHour}));
  w.hour = kCutT0 + kCutHour;
  // No whole day below the hour mark: nothing more.
  EXPECT_FALSE(next_roll_step(w, kCutT0 + 70 * kCutMinute + 30'000).has_value());
  // Days once hours pass midnight; a late result's marks (moved back) take minutes first again.
  w = {kCutT0 + 3 * kCutDay, kCutT0 + 3 * kCutDay, kCutT0};
  s = next_roll_step(w, kCutT0 + 3 * kCutDay);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (RollStep{RollLevel::kDay, kCutT0, kCutT0 + kCutDay, kCutT0 + 3 * kCutDay}));
  w.minute = kCutT0 + kCutDay;
  s = next_roll_step(w, kCutT0 + 3 * kCutDay);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->level, RollLevel::kMinute);
  // An empty chunk stretches to the bucket of the next row, or to the limit without one.
  const RollStep empty{RollLevel::kHour, kCutT0, kCutT0 + kCutHour, kCutT0 + 10 * kCutHour};
  auto stretched = stretch_empty_step(
      empty, rollup_rows({{std::to_string(kCutT0 + 4 * kCutHour + 5 * kCutMinute)}}));
  ASSERT_TRUE(stretched.has_value());
  EXPECT_EQ(stretched->to, kCutT0 + 4 * kCutHour);
  stretched = stretch_empty_step(empty, rollup_rows({{std::nullopt}}));
  ASSERT_TRUE(stretched.has_value());
  EXPECT_EQ(stretched->to, kCutT0 + 10 * kCutHour);
  // A shard whose marks are not all read takes no step.
  EXPECT_FALSE(next_roll_step({kCutT0, std::nullopt, kCutT0}, kCutT0 + kCutDay).has_value());
}

TEST(PgRollup, RawAndRollupRowsFoldAsSqliteFoldsThem) {
  const RollStep minute{RollLevel::kMinute, kCutT0, kCutT0 + 2 * kCutMinute};
  const std::string t0 = std::to_string(kCutT0);
  const std::string t1 = std::to_string(kCutT0 + 59'999);
  const std::string t2 = std::to_string(kCutT0 + kCutMinute);
  uint64_t rows = 0;
  const auto b = fold_roll_source(
      minute,
      rollup_rows({{"api", t0, "0", "20000", "f", std::nullopt},
                   {"api", t1, "2", std::nullopt, "f", std::nullopt},
                   {"api", t2, "1", std::nullopt, "f", "\\x1027000000000000e803000000000000"},
                   {"web", t0, "0", "5000", "t", std::nullopt}}),
      rows);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(rows, 4u);
  ASSERT_EQ(b->size(), 3u);
  // What SQLite's fold makes of the same runs.
  Aggregate api0;
  api0.add(StoredRun{Outcome::kUp, 20'000, false, std::nullopt});
  api0.add(StoredRun{Outcome::kDown, std::nullopt, false, std::nullopt});
  Aggregate api1;
  api1.add(StoredRun{Outcome::kDegraded, std::nullopt, false, pack_samples({10'000, 1000})});
  const Aggregate& got0 = b->at({"api", kCutT0});
  EXPECT_EQ(got0.count, api0.count);
  EXPECT_EQ(got0.failures, 1u);
  EXPECT_TRUE(got0.sketch == api0.sketch);
  const Aggregate& got1 = b->at({"api", kCutT0 + kCutMinute});
  EXPECT_EQ(got1.degraded, 1u);
  EXPECT_EQ(got1.min_us, 1000);
  EXPECT_EQ(got1.max_us, 10'000);
  EXPECT_TRUE(got1.sketch == api1.sketch);
  EXPECT_EQ(b->at({"web", kCutT0}).maintenance, 1u);

  // Minute rows into their hour: merged, the sketch from the encoded one.
  const RollStep hour{RollLevel::kHour, kCutT0, kCutT0 + kCutHour};
  std::string sketch_hex = "\\x";
  for (const char c : api0.sketch.encode()) {
    sketch_hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  }
  const auto h = fold_roll_source(
      hour,
      rollup_rows({{"api", t0, "2", "1", "0", "0", "20000", "20000", "20000", sketch_hex},
                   {"api", t2, "1", "0", "1", "0", std::nullopt, std::nullopt, "0", sketch_hex}}),
      rows);
  ASSERT_TRUE(h.has_value());
  ASSERT_EQ(h->size(), 1u);
  const Aggregate& got = h->at({"api", kCutT0});
  EXPECT_EQ(got.count, 3u);
  EXPECT_EQ(got.sketch.count(), 2u);
  // A row outside the step, or of another shape, is not guessed at.
  EXPECT_FALSE(fold_roll_source(minute,
                                rollup_rows({{"api", std::to_string(kCutT0 + 3 * kCutMinute), "0",
                                              "1", "f", std::nullopt}}),
                                rows)
                   .has_value());
  EXPECT_FALSE(fold_roll_source(hour, rollup_rows({{"api", t0, "0"}}), rows).has_value());
}

TEST(PgRollup, AStepChecksItsLeaseMarkAndRowsUnderTheShardsLock) {
  const RollStep step{RollLevel::kMinute, kCutT0, kCutT0 + kCutMinute};
  RollBuckets buckets;
  buckets[{"it's", kCutT0}].add_run(Outcome::kUp, 1000, false);
  const std::string s =
      write_roll_step(LeaseFence{"eval/7", "fra-1", 3}, 7, step, {"it's", "web"}, 12, buckets);
  EXPECT_EQ(s.find(fmt::format("SELECT pg_advisory_xact_lock({}, 7);\n", kPgRollupLock)), 0u) << s;
  EXPECT_NE(s.find("name = E'eval/7' AND holder = E'fra-1' AND epoch = 3"), std::string::npos);
  EXPECT_NE(s.find("level = 'minute') = '2025-12-06T00:00:00.000Z'::timestamptz"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("ANY(E'{\"it''s\",\"web\"}'::text[])"), std::string::npos) << s;
  EXPECT_NE(s.find(") = 12"), std::string::npos);
  EXPECT_NE(s.find("E'it''s'"), std::string::npos);
  EXPECT_NE(s.find("ON CONFLICT (monitor, t) DO UPDATE"), std::string::npos);
  // An hour step checks that the minutes cover it; without buckets it writes only the mark.
  const std::string h =
      write_roll_step(LeaseFence{"eval/7", "fra-1", 3}, 7,
                      RollStep{RollLevel::kHour, kCutT0, kCutT0 + kCutHour}, {}, 0, {});
  EXPECT_NE(h.find("level = 'minute') >= '2025-12-06T01:00:00.000Z'::timestamptz"),
            std::string::npos)
      << h;
  EXPECT_EQ(h.find("INSERT"), std::string::npos);
  EXPECT_NE(h.find("UPDATE rollup_marks SET until = '2025-12-06T01:00:00.000Z'"),
            std::string::npos);
}

TEST(PgRollup, ABatchLocksItsShardsInOrderAndMovesEachLevelBackToItsBucket) {
  EXPECT_EQ(rollup_marks_back({}), "");
  const std::string s = rollup_marks_back({{9, kCutT0 + kCutHour + 61'000}, {2, kCutT0 + 5}});
  EXPECT_NE(s.find(fmt::format("pg_advisory_xact_lock_shared({}, s) FROM unnest('{{2,9}}'::int[])",
                               kPgRollupLock)),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("(9, 'minute', '2025-12-06T01:01:00.000Z'::timestamptz)"), std::string::npos);
  EXPECT_NE(s.find("(9, 'hour', '2025-12-06T01:00:00.000Z'::timestamptz)"), std::string::npos);
  EXPECT_NE(s.find("(9, 'day', '2025-12-06T00:00:00.000Z'::timestamptz)"), std::string::npos);
  EXPECT_NE(s.find("m.until > v.b"), std::string::npos);
}

TEST(PgRollup, MarksAnswerReadsEachShardsLevelsAndTheServersClock) {
  const auto m = rollup_marks_of(rollup_rows({{"3", "minute", "120000"},
                                              {"3", "hour", "60000"},
                                              {"3", "day", "0"},
                                              {"-1", "now", "999"}}));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->now_ms, 999);
  EXPECT_EQ(m->shards.at(3).minute, 120'000);
  EXPECT_EQ(m->shards.at(3).day, 0);
  EXPECT_FALSE(rollup_marks_of(rollup_rows({{"3", "minute", "1"}})).has_value());
}

}  // namespace
}  // namespace lookout
