// The result spool's file without a database: what one process hands it comes back to the next
// whole (every field, NUL bytes, one sample or several, phases that did not happen), with its
// batch in doubt and the numbers going on; rows committed leave it, and rows committed before the
// spool wrote them never reach the file.
#include "store/result_spool.h"

#include <gtest/gtest.h>

#include <memory>

#include "tests/support/temp_dir.h"

namespace lookout {
namespace {

ResultRow spool_row(int i) {
  ResultRow r;
  r.monitor = "m" + std::to_string(i);
  r.t_ms = 1'780'000'000'000 + i;
  r.outcome = static_cast<Outcome>(i % 3);
  r.http_status = i % 2 == 0 ? 200 : 0;
  r.timings.dns_us = i;
  if (i % 2 == 0) r.timings.total_us = 1000 * i;
  r.kind = static_cast<ErrorKind>(i % 17);
  r.cause = std::string("refused\0by peer", 15) + std::to_string(i);
  r.maintenance = i % 2 == 1;
  if (i % 3 == 0) r.detail = R"({"a":1})";
  r.samples_us.assign(static_cast<size_t>(i % 3), -5 + i);
  return r;
}

void expect_same(const ResultRow& a, const ResultRow& b) {
  EXPECT_EQ(a.monitor, b.monitor);
  EXPECT_EQ(a.t_ms, b.t_ms);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.http_status, b.http_status);
  EXPECT_EQ(a.timings.dns_us, b.timings.dns_us);
  EXPECT_EQ(a.timings.connect_us, b.timings.connect_us);
  EXPECT_EQ(a.timings.tls_us, b.timings.tls_us);
  EXPECT_EQ(a.timings.first_byte_us, b.timings.first_byte_us);
  EXPECT_EQ(a.timings.total_us, b.timings.total_us);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.cause, b.cause);
  EXPECT_EQ(a.maintenance, b.maintenance);
  EXPECT_EQ(a.detail, b.detail);
  EXPECT_EQ(a.samples_us, b.samples_us);
}

// Turns the loop until `done` or two seconds passed.
bool spin(EventLoop& loop, const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  Timer tick(loop);
  tick.start_repeating(Duration{2}, [&] {
    if (done() || std::chrono::steady_clock::now() > end) loop.stop();
  });
  loop.run();
  return done();
}

constexpr const char* kWriter = "0123456789abcdef0123456789abcdef";

// A spool file of the test's own, opened as often as a test likes.
class ResultSpoolFile : public ::testing::Test {
 protected:
  std::unique_ptr<ResultSpool> open() {
    auto spool = ResultSpool::open(loop, dir.path() + "/lookout.db", left, error);
    EXPECT_NE(spool, nullptr) << error;
    return spool;
  }

  test::TempDir dir;
  EventLoop loop;
  ResultBacklog left;
  std::string error;
};

// The writer's id goes into SQL text: one that is not what a writer makes is refused at open.
TEST_F(ResultSpoolFile, ABatchNamingNoWriterLookoutMadeIsRefused) {
  {
    auto spool = open();
    ASSERT_NE(spool, nullptr);
    spool->start();
    bool recorded = false;
    spool->batch_formed(FormedBatch{"x'; DROP TABLE results; --", 1, 1, 1},
                        [&] { recorded = true; });
    ASSERT_TRUE(spin(loop, [&] { return recorded && spool->idle(); }));
  }
  EXPECT_EQ(ResultSpool::open(loop, dir.path() + "/lookout.db", left, error), nullptr);
  EXPECT_NE(error.find("changed by hand"), std::string::npos) << error;
}

TEST_F(ResultSpoolFile, WhatOneProcessLeftComesBackWholeToTheNext) {
  {
    auto spool = open();
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(left.writer, "");
    EXPECT_EQ(left.next_number, 1u);
    spool->start();
    for (int i = 1; i <= 6; ++i) spool->add(static_cast<uint64_t>(i), spool_row(i));
    bool recorded = false;
    spool->batch_formed(FormedBatch{kWriter, 7, 3, 5}, [&] { recorded = true; });
    spool->committed(2);
    ASSERT_TRUE(spin(loop, [&] { return recorded && spool->idle(); }));
    EXPECT_EQ(spool->rows(), 4u);
    EXPECT_EQ(spool->last_error(), "");
  }
  auto spool = open();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->rows(), 4u);
  EXPECT_EQ(left.writer, kWriter);
  EXPECT_EQ(left.batch, 7u);
  EXPECT_EQ(left.batch_rows, 3u) << "rows 3 to 5";
  EXPECT_EQ(left.next_number, 7u);
  ASSERT_EQ(left.rows.size(), 4u);
  for (size_t i = 0; i < left.rows.size(); ++i) {
    EXPECT_EQ(left.rows[i].number, i + 3);
    expect_same(left.rows[i].row, spool_row(static_cast<int>(i + 3)));
  }
}

TEST_F(ResultSpoolFile, RowsCommittedBeforeTheyAreWrittenNeverReachTheFile) {
  {
    auto spool = open();
    ASSERT_NE(spool, nullptr);
    for (int i = 1; i <= 10; ++i) spool->add(static_cast<uint64_t>(i), spool_row(i));
    spool->committed(8);
    spool->start();
    ASSERT_TRUE(spin(loop, [&] { return spool->idle(); }));
    EXPECT_EQ(spool->rows(), 2u);
    spool->committed(10);
    ASSERT_TRUE(spin(loop, [&] { return spool->idle() && spool->rows() == 0; }));
    spool->add(11, spool_row(11));
  }
  auto spool = open();
  ASSERT_NE(spool, nullptr);
  ASSERT_EQ(left.rows.size(), 1u) << "stop() wrote what was queued";
  EXPECT_EQ(left.rows[0].number, 11u);
  EXPECT_EQ(left.batch_rows, 0u);
  EXPECT_EQ(left.next_number, 12u);
}

}  // namespace
}  // namespace lookout
