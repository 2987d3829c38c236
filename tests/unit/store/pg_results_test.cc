// The results table's statements without a server: a row in COPY's text format (every column,
// NULLs, escapes, text that is not UTF-8, samples), the batch script, and the partition
// statements deciding days by the server's clock, or by the rows' own times when asked for them.
#include "store/pg_results.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const ResultOrigin kFra{"fra-1", "fra"};

// 2026-03-01T12:00:00.250Z
constexpr int64_t kNoonMs = 1'772'366'400'250;

std::vector<std::string> copy_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

TEST(PgResults, DaysAreUtc) {
  EXPECT_EQ(utc_day(0), "1970-01-01");
  EXPECT_EQ(utc_day(86'399'999), "1970-01-01");
  EXPECT_EQ(utc_day(86'400'000), "1970-01-02");
  EXPECT_EQ(utc_day(-1), "1969-12-31");
  EXPECT_EQ(utc_day(kNoonMs), "2026-03-01");
  EXPECT_EQ(utc_day(kNoonMs - 86'400'000), "2026-02-28");
  EXPECT_EQ(utc_day(1'709'208'000'000), "2024-02-29");
}

TEST(PgResults, ARowHoldsEveryColumnInTheScriptsOrder) {
  ResultRow r;
  r.monitor = "portal-home";
  r.t_ms = kNoonMs;
  r.outcome = Outcome::kDegraded;
  r.http_status = 200;
  r.timings = {1200, 3400, 5600, 7800, 91'000};
  r.kind = ErrorKind::kSlow;
  r.cause = "slower than 500ms";
  r.detail = R"({"steps":[]})";
  std::string out;
  append_result_row(out, kFra, r);
  EXPECT_EQ(out,
            "2026-03-01T12:00:00.250Z\t91000\t1200\t3400\t5600\t7800\t1\t200\tf\tportal-home\tfra\t"
            "fra-1\tslow\tslower than 500ms\t{\"steps\":[]}\t\\N\n");

  const std::string script = result_batch_script("0123456789abcdef0123456789abcdef", 7);
  const size_t open = script.find("COPY results (");
  ASSERT_NE(open, std::string::npos) << script;
  const std::string columns = script.substr(open + 14, script.find(')', open) - open - 14);
  EXPECT_EQ(columns,
            "t, total_us, dns_us, connect_us, tls_us, first_byte_us, outcome, http_status, "
            "maintenance, monitor, location, node, kind, cause, detail, samples");
  EXPECT_EQ(copy_fields(out.substr(0, out.size() - 1)).size(), 16u);
}

// The row's time is written as the JSON times are, which PostgreSQL reads as a timestamptz.
TEST(PgResults, TimesAreWrittenAsRfc3339) {
  for (const int64_t t : {int64_t{0}, int64_t{-1}, int64_t{-86'400'001}, kNoonMs,
                          int64_t{1'709'251'199'999}, int64_t{4'102'444'800'000}}) {
    ResultRow r;
    r.t_ms = t;
    std::string out;
    append_result_row(out, kFra, r);
    EXPECT_EQ(copy_fields(out)[0], rfc3339(from_unix_ms(t))) << t;
  }
}

TEST(PgResults, WhatARunLacksIsNull) {
  ResultRow r;
  r.monitor = "db";
  r.t_ms = kNoonMs;
  r.outcome = Outcome::kDown;
  r.timings.dns_us = 800;
  r.kind = ErrorKind::kConnect;
  r.cause = "connection refused";
  r.maintenance = true;
  r.samples_us = {5000};  // one sample is the run's latency, not kept apart
  std::string out;
  append_result_row(out, kFra, r);
  EXPECT_EQ(
      out,
      "2026-03-01T12:00:00.250Z\t\\N\t800\t\\N\t\\N\t\\N\t2\t\\N\tt\tdb\tfra\tfra-1\tconnect\t"
      "connection refused\t\\N\t\\N\n");

  ResultRow up;
  up.monitor = "db";
  up.outcome = Outcome::kUp;
  out.clear();
  append_result_row(out, kFra, up);
  const auto f = copy_fields(out.substr(0, out.size() - 1));
  EXPECT_EQ(f[6], "0");
  EXPECT_EQ(f[12], "\\N") << "no kind when up";
  EXPECT_EQ(f[13], "\\N") << "no cause";
}

TEST(PgResults, SeveralSamplesAreKeptAsHexBytea) {
  ResultRow r;
  r.monitor = "latency";
  r.samples_us = {1, 258};
  std::string out;
  append_result_row(out, kFra, r);
  EXPECT_EQ(copy_fields(out.substr(0, out.size() - 1))[15],
            "\\\\x01000000000000000201000000000000");
}

// Text from the network may hold anything: it is escaped for COPY and made text PostgreSQL takes.
TEST(PgResults, TextIsEscapedAndMadeValid) {
  ResultRow r;
  r.monitor = "a\tb";
  const char cause[] = "back\\slash\nnew\rline \xC3(bad) nul\0end";
  r.cause = std::string(cause, sizeof cause - 1);
  std::string out;
  append_result_row(out, ResultOrigin{"n\\1", "l\n1"}, r);
  const auto f = copy_fields(out.substr(0, out.size() - 1));
  ASSERT_EQ(f.size(), 16u) << out;
  EXPECT_EQ(f[9], "a\\tb");
  EXPECT_EQ(f[10], "l\\n1");
  EXPECT_EQ(f[11], "n\\\\1");
  EXPECT_EQ(f[13],
            "back\\\\slash\\nnew\\rline \xEF\xBF\xBD(bad) nul\xEF\xBF\xBD"
            "end");
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line";
}

TEST(PgResults, ABatchIsMarkedBeforeItsRows) {
  const std::string script = result_batch_script("0123456789abcdef0123456789abcdef", 42);
  const size_t remove = script.find(
      "DELETE FROM result_batches WHERE writer = '0123456789abcdef0123456789abcdef' AND batch < "
      "42;");
  const size_t mark = script.find(
      "INSERT INTO result_batches (writer, batch) VALUES ('0123456789abcdef0123456789abcdef', "
      "42);");
  const size_t copy = script.find("COPY results (");
  ASSERT_NE(remove, std::string::npos) << script;
  ASSERT_NE(mark, std::string::npos) << script;
  EXPECT_LT(remove, mark);
  EXPECT_LT(mark, copy);
  EXPECT_EQ(script.substr(script.size() - 11), " FROM STDIN") << "the COPY comes last";
  EXPECT_EQ(script.find("BEGIN"), std::string::npos) << "a script is one transaction already";
}

TEST(PgResults, PartitionsFollowTheServersClockUnderOneLock) {
  const std::string lock = fmt::format("pg_advisory_xact_lock({})", kPgResultPartitionsLock);
  const PgStatement ahead = make_result_partitions(3);
  EXPECT_TRUE(ahead.params.empty());
  EXPECT_NE(ahead.sql.find(lock), std::string::npos);
  EXPECT_NE(ahead.sql.find("(clock_timestamp() AT TIME ZONE 'UTC')::date + generate_series(0, 3)"),
            std::string::npos)
      << ahead.sql;
  EXPECT_NE(ahead.sql.find("ATTACH PARTITION"), std::string::npos);
  EXPECT_EQ(ahead.sql.find("PARTITION OF"), std::string::npos) << "it would lock out the writers";

  const PgStatement drop = drop_old_result_partitions(Duration{3LL * 86'400'000});
  EXPECT_NE(drop.sql.find(lock), std::string::npos);
  EXPECT_NE(drop.sql.find("clock_timestamp() - 259200000 * interval '1 millisecond'"),
            std::string::npos)
      << drop.sql;
  EXPECT_NE(drop.sql.find("DELETE FROM result_batches WHERE written_at < cutoff"),
            std::string::npos);
  for (const auto& s : {ahead.sql, drop.sql}) {
    EXPECT_NE(s.find("lock_timeout"), std::string::npos) << s;
  }
}

TEST(PgResults, PartitionsForRowsAreTheirDaysOnce) {
  const PgStatement s =
      make_result_partitions_for({kNoonMs, kNoonMs - 86'400'000, kNoonMs + 1000, 0});
  EXPECT_NE(s.sql.find("unnest(ARRAY['1970-01-01', '2026-02-28', '2026-03-01']::date[])"),
            std::string::npos)
      << s.sql;
  EXPECT_NE(s.sql.find(fmt::format("pg_advisory_xact_lock({})", kPgResultPartitionsLock)),
            std::string::npos);
}

}  // namespace
}  // namespace lookout
