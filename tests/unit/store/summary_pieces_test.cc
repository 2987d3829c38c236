// What SummaryPieces reads of a shard (a whole read at first, at the day's turn and when a mark
// moves back; else only what the marks moved over) and the summaries it makes of the pieces.
#include "store/summary_pieces.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>

#include "store/lease_plan.h"

namespace lookout {
namespace {

constexpr int64_t kPiecesMin = 60'000, kPiecesHour = 3'600'000, kPiecesDay = 86'400'000;
constexpr int64_t kPiecesToday = 20'428 * kPiecesDay;  // a UTC day
constexpr int64_t kPiecesNow = kPiecesToday + 10 * kPiecesHour + 30 * kPiecesMin;
// In minutes from the start of today, as pieces_shown() shows times.
constexpr int64_t kPiecesD = kPiecesDay / kPiecesMin, kPiecesH = kPiecesHour / kPiecesMin;

// A roller a few minutes behind: days up to today, hours up to 10:00, minutes up to 10:27.
Watermarks pieces_marks(int64_t minute = 10 * kPiecesH + 27, int64_t hour = 10 * kPiecesH,
                        int64_t day = 0) {
  return {kPiecesToday + minute * kPiecesMin, kPiecesToday + hour * kPiecesMin,
          kPiecesToday + day * kPiecesMin};
}

std::string pieces_shown(const PieceRange& r) {
  const char* into = r.into == PieceRange::Into::kClosed ? "closed"
                     : r.into == PieceRange::Into::kEdge ? "edge"
                                                         : "fine";
  const char* level = r.level == PieceLevel::kDay      ? "day"
                      : r.level == PieceLevel::kHour   ? "hour"
                      : r.level == PieceLevel::kMinute ? "minute"
                                                       : "raw";
  const auto at = [](int64_t t) {
    if (t == std::numeric_limits<int64_t>::max()) return std::string("later");
    return std::to_string((t - kPiecesToday) / kPiecesMin);
  };
  return fmt::format("{} {} {}..{}{}", into, level, at(r.from_ms), at(r.to_ms),
                     r.sketch ? "" : " counts");
}

std::vector<std::string> pieces_shown(const ShardRead& read) {
  std::vector<std::string> out;
  for (const auto& r : read.ranges) out.push_back(pieces_shown(r));
  return out;
}

PieceRow pieces_row(size_t range, int64_t t_ms, uint32_t count, uint32_t failures,
                    std::optional<int64_t> latency_us = std::nullopt) {
  PieceRow r;
  r.range = range;
  r.monitor = "api";
  r.t_ms = t_ms;
  r.count = count;
  r.failures = failures;
  if (latency_us) {
    LatencySketch s;
    s.add(static_cast<double>(*latency_us), count);
    r.sketch = s.encode();
  }
  return r;
}

TEST(SummaryPieces, AFirstReadTakesDayRowsEdgeHoursAndFinePiecesFromYesterday) {
  SummaryPieces pieces({"api"});
  const int shard = shard_of("api");
  EXPECT_FALSE(pieces.ready(shard));
  const ShardRead read = pieces.plan(shard, pieces_marks(), kPiecesNow);
  EXPECT_TRUE(read.reset);
  const int64_t edge = -kPiecesD + 10 * kPiecesH;  // the 24 hour window starts at 10:30 yesterday
  EXPECT_EQ(pieces_shown(read),
            (std::vector<std::string>{
                fmt::format("closed day {}..{}", -89 * kPiecesD, -kPiecesD),
                fmt::format("edge hour {}..{} counts", -90 * kPiecesD, -89 * kPiecesD),
                fmt::format("edge hour {}..{} counts", -30 * kPiecesD, -29 * kPiecesD),
                fmt::format("fine hour {}..{}", -kPiecesD, edge),
                fmt::format("fine minute {}..{}", edge, edge + kPiecesH),
                fmt::format("fine hour {}..{}", edge + kPiecesH, 10 * kPiecesH),
                fmt::format("fine minute {}..{}", 10 * kPiecesH, 10 * kPiecesH + 27),
                fmt::format("fine raw {}..later", 10 * kPiecesH + 27)}));
  // Nothing rolled up at all: raw runs of the last 25 hours only, not 90 days of them in one
  // answer; the older ones count once the roller folds them.
  EXPECT_EQ(
      pieces_shown(pieces.plan(shard, {}, kPiecesNow)),
      (std::vector<std::string>{fmt::format(
          "fine raw {}..later", 10 * kPiecesH + 30 - SummaryPieces::kRawReachMs / kPiecesMin)}));
  // A monitor of another shard only.
  EXPECT_TRUE(pieces.plan((shard + 1) % kLeaseShards, pieces_marks(), kPiecesNow).ranges.empty());
}

TEST(SummaryPieces, LaterReadsFollowTheMarksAndAMarkMovedBackReadsTheShardAgain) {
  SummaryPieces pieces({"api"});
  const int shard = shard_of("api");
  pieces.apply(shard, pieces.plan(shard, pieces_marks(), kPiecesNow), {});
  EXPECT_TRUE(pieces.ready(shard));
  // Nothing moved: the raw runs that may have come since, from 30 s before the last read.
  EXPECT_EQ(pieces_shown(pieces.plan(shard, pieces_marks(), kPiecesNow + 10'000)),
            (std::vector<std::string>{fmt::format("fine raw {}..later", 10 * kPiecesH + 29)}));
  // An hour later: the hour and minute rows the marks moved over, and the next edge hour's
  // minutes.
  const int64_t later = kPiecesNow + kPiecesHour;
  const ShardRead next = pieces.plan(shard, pieces_marks(11 * kPiecesH + 28, 11 * kPiecesH), later);
  EXPECT_FALSE(next.reset);
  EXPECT_EQ(
      pieces_shown(next),
      (std::vector<std::string>{
          fmt::format("fine minute {}..{}", -kPiecesD + 11 * kPiecesH, -kPiecesD + 12 * kPiecesH),
          fmt::format("fine hour {}..{}", 10 * kPiecesH, 11 * kPiecesH),
          fmt::format("fine minute {}..{}", 11 * kPiecesH, 11 * kPiecesH + 28),
          fmt::format("fine raw {}..later", 11 * kPiecesH + 28)}));
  pieces.apply(shard, next, {});
  // A late run moved the marks back, and the roller folded it and moved them on past where
  // they were before this read: the count of moves says so, and the shard is read again whole.
  EXPECT_FALSE(
      pieces.plan(shard, pieces_marks(11 * kPiecesH + 29, 11 * kPiecesH), later + 60'000).reset);
  EXPECT_TRUE(
      pieces.plan(shard, pieces_marks(11 * kPiecesH + 29, 11 * kPiecesH), later + 60'000, 1).reset);
  // A late run moved the minute mark back: the whole shard again.
  EXPECT_TRUE(pieces.plan(shard, pieces_marks(11 * kPiecesH + 2, 11 * kPiecesH), later).reset);
  // So does the next day.
  EXPECT_TRUE(
      pieces.plan(shard, pieces_marks(11 * kPiecesH + 28, 11 * kPiecesH), kPiecesToday + kPiecesDay)
          .reset);
}

TEST(SummaryPieces, WindowsCountDaysEdgeHoursAndFinePiecesOnce) {
  SummaryPieces pieces({"api"});
  const int shard = shard_of("api");
  const ShardRead read = pieces.plan(shard, pieces_marks(), kPiecesNow);
  ASSERT_EQ(read.ranges.size(), 8u);
  const int64_t edge = kPiecesToday - kPiecesDay + 10 * kPiecesHour;
  std::vector<PieceRow> rows{
      // 89 days ago: in both long windows and the bars.
      pieces_row(0, kPiecesToday - 89 * kPiecesDay, 100, 10, 5000),
      // 40 days ago: in the 90 day window only.
      pieces_row(0, kPiecesToday - 40 * kPiecesDay, 100, 50, 5000),
      // 30 days ago: its day row (for the bar and the 90 day window), its hours below.
      pieces_row(0, kPiecesToday - 30 * kPiecesDay, 43, 7, 5000),
      // 90 days ago before 10:30 (not in the window), and after it.
      pieces_row(1, kPiecesToday - 90 * kPiecesDay + 10 * kPiecesHour, 7, 7),
      pieces_row(1, kPiecesToday - 90 * kPiecesDay + 11 * kPiecesHour, 20, 0),
      // 30 days ago at 10:00 (out of the 30 day window) and 12:00 (in it).
      pieces_row(2, kPiecesToday - 30 * kPiecesDay + 10 * kPiecesHour, 3, 3),
      pieces_row(2, kPiecesToday - 30 * kPiecesDay + 12 * kPiecesHour, 40, 4),
      // Yesterday: an hour before the 24 hour window, minutes either side of its start.
      pieces_row(3, edge - kPiecesHour, 60, 60, 9000),
      pieces_row(4, edge + 29 * kPiecesMin, 1, 1, 9000),
      pieces_row(4, edge + 30 * kPiecesMin, 1, 0, 1000),
      // Today, from each kind of piece.
      pieces_row(5, kPiecesToday + kPiecesHour, 60, 0, 1000),
      pieces_row(6, kPiecesToday + 10 * kPiecesHour + 5 * kPiecesMin, 1, 1, 2000),
      pieces_row(7, kPiecesToday + 10 * kPiecesHour + 28 * kPiecesMin, 1, 0, 3000),
  };
  rows.push_back(rows.back());
  rows.back().monitor = "not ours";
  pieces.apply(shard, read, rows);
  SummaryMap out;
  out["gone"] = {};
  pieces.summarize(shard, kPiecesNow, out);
  ASSERT_EQ(out.count("api"), 1u);
  EXPECT_EQ(out.count("gone"), 1u);  // another shard's: left alone
  const HistorySummary& s = out.at("api");
  // 24 h: the minute at 10:30 yesterday on, and today's 62 runs.
  EXPECT_DOUBLE_EQ(*s.uptime_24h, 100.0 * 62 / 63);
  ASSERT_TRUE(s.p95_ms_24h);
  EXPECT_NEAR(*s.p95_ms_24h, 1.0, 0.05);
  // 30 d: 40 - 4 at the edge, then yesterday's 62 (1 up), today's 62 (61 up).
  EXPECT_DOUBLE_EQ(*s.uptime_30d, 100.0 * (36 + 1 + 61) / (40 + 62 + 62));
  // 90 d: 20 at the edge, the day rows (that of 30 days ago whole), yesterday's and today's.
  EXPECT_DOUBLE_EQ(*s.uptime_90d,
                   100.0 * (20 + 90 + 50 + 36 + 1 + 61) / (20 + 100 + 100 + 43 + 62 + 62));
  EXPECT_EQ(s.first_day_ms, kPiecesToday - 89 * kPiecesDay);
  ASSERT_EQ(s.days.size(), 90u);
  EXPECT_EQ(s.days[0].count, 100u);
  EXPECT_FLOAT_EQ(s.days[0].uptime, 90.0f);
  EXPECT_NEAR(s.days[0].p95_ms, 5.0, 0.1);
  EXPECT_EQ(s.days[49].count, 100u);
  EXPECT_EQ(s.days[59].count, 43u);
  EXPECT_EQ(s.days[88].count, 62u);
  EXPECT_EQ(s.days[89].count, 62u);
  EXPECT_EQ(s.days[1].count, 0u);
  EXPECT_FLOAT_EQ(s.days[1].p95_ms, -1.0f);

  // The 24 hour window's start moves into the next hour: that hour's minutes come in, and
  // yesterday's bar is the same once the last edge hour's minutes are one hour again.
  const int64_t later = kPiecesNow + kPiecesHour;
  const ShardRead next = pieces.plan(shard, pieces_marks(), later);
  ASSERT_FALSE(next.reset);
  ASSERT_EQ(next.ranges.size(), 2u);  // the next edge hour's minutes, the latest raw runs
  pieces.apply(shard, next, {});
  SummaryMap after;
  pieces.summarize(shard, later, after);
  EXPECT_EQ(after.at("api").days[88].count, 62u);
  EXPECT_EQ(after.at("api").days[89].count, 62u);  // the raw run before 10:29:30 is kept
  EXPECT_DOUBLE_EQ(*after.at("api").uptime_24h, 100.0 * 61 / 62);

  // The minute mark moves past the raw run: the minute rows replace it (none here).
  const ShardRead folded = pieces.plan(shard, pieces_marks(10 * kPiecesH + 29), later);
  ASSERT_FALSE(folded.reset);
  pieces.apply(shard, folded, {});
  SummaryMap last;
  pieces.summarize(shard, later, last);
  EXPECT_EQ(last.at("api").days[89].count, 61u);
}

TEST(SummaryPieces, AMonitorWithoutRunsHasNoSummary) {
  SummaryPieces pieces({"api"});
  const int shard = shard_of("api");
  pieces.apply(shard, pieces.plan(shard, pieces_marks(), kPiecesNow), {});
  SummaryMap out;
  out["api"] = {};
  pieces.summarize(shard, kPiecesNow, out);
  EXPECT_EQ(out.count("api"), 0u);
}

}  // namespace
}  // namespace lookout
