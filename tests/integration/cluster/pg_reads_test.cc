// The web threads' reads of a cluster node against a real PostgreSQL: the same incidents,
// events and notifications written by PgDecisions there and by SqliteStore on one SQLite file
// read back the same through both engines' read leases (also when most rows are refused and
// several pages are read), and the same runs from two locations give the same series, whose
// counts sum both locations, also once both engines rolled them up and dropped the raw rows.
#include "store/pg_reads.h"

#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "store/lease_plan.h"
#include "store/pg_decisions.h"
#include "store/pg_results.h"
#include "store/pg_roller.h"
#include "store/rollup.h"
#include "store/sqlite_store.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/result_rows.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const int64_t kReadsT0 = 1'765'000'800'000;  // a whole hour, UTC

// A record as one line, every field the pages show, so two engines' answers compare whole.
std::string reads_shown(const IncidentRecord& i) {
  const auto opt = [](const std::optional<WallTime>& t) {
    return t ? std::to_string(to_unix_ms(*t)) : std::string("-");
  };
  return fmt::format("{} {} {} {} {} [{}] {} {} {} {} {}", i.id, i.monitor, i.group, i.type,
                     to_string(i.state), i.cause, to_unix_ms(i.started_at), opt(i.resolved_at),
                     opt(i.acknowledged_at), i.acknowledged_by, i.flapping);
}
std::vector<std::string> reads_shown(const std::vector<IncidentRecord>& rows) {
  std::vector<std::string> out;
  for (const auto& i : rows) out.push_back(reads_shown(i));
  return out;
}
// An event's deliveries in channel order: SQLite names them in the order they were written,
// PostgreSQL (which keeps no such order) by channel.
std::vector<std::string> reads_shown(const std::vector<IncidentEventRow>& rows) {
  std::vector<std::string> out;
  for (const auto& e : rows) {
    std::vector<std::string> parts;
    for (size_t at = 0; at < e.deliveries.size();) {
      const size_t end = std::min(e.deliveries.find(", ", at), e.deliveries.size());
      parts.push_back(e.deliveries.substr(at, end - at));
      at = end + 2;
    }
    std::sort(parts.begin(), parts.end());
    out.push_back(fmt::format("{} {} {} [{}]", e.incident_id, e.event, to_unix_ms(e.at),
                              fmt::join(parts, ", ")));
  }
  return out;
}
std::vector<std::string> reads_shown(const std::vector<IncidentNotification>& rows) {
  std::vector<std::string> out;
  for (const auto& n : rows)
    out.push_back(fmt::format("{} {} {} {} {} {}", n.incident_id, n.event, to_unix_ms(n.at),
                              n.id.value_or("-"), n.channel.value_or("-"), n.status.value_or("-")));
  return out;
}
std::string reads_shown(const Aggregate& a) {
  const auto opt = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  const auto p95 = a.quantile_ms(0.95);
  return fmt::format("count {} failures {} degraded {} maintenance {} min {} max {} sum {} p95 {}",
                     a.count, a.failures, a.degraded, a.maintenance, opt(a.min_us), opt(a.max_us),
                     a.sum_us, p95 ? fmt::format("{:.3f}", *p95) : "-");
}

OutboxRow reads_note(const std::string& id, int64_t incident, const std::string& event,
                     const std::string& channel, int64_t at_ms) {
  OutboxRow r;
  r.id = id;
  r.incident_id = incident;
  r.event = event;
  r.channel = channel;
  r.route = "oncall";
  r.created = from_unix_ms(at_ms);
  r.payload = "{}";
  return r;
}

// One incident's life: as it opened, as it is now, and the events after the opening.
struct ReadsStory {
  IncidentRecord opened, now;
  EventRecord opening;
  std::vector<EventRecord> later;
};

// Both engines, written the same: a SQLite file through SqliteStore, and PostgreSQL through
// PgDecisions under each monitor's eval lease.
class PgReadsAgainstSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    LOOKOUT_NEED_POSTGRES();
    server_ = std::make_unique<PostgresServer>();
    require_schema(loop, *server_);
    decider_ = std::make_unique<LeaseNode>(loop, *server_, "fra-1", Duration{600'000});
  }

  const PostgresServer& pg() const { return *server_; }

  LeaseFence fence_of(const std::string& monitor) {
    const std::string lease = LeaseSpace::evaluation().lease(shard_of(monitor));
    for (const auto& h : decider_->held)
      if (h.name == lease) return {lease, "fra-1", h.epoch};
    const auto rows = decider_->acquire({lease});
    if (rows.empty()) throw std::runtime_error("no eval lease for " + monitor);
    return {lease, "fra-1", rows.front().epoch};
  }

  std::vector<int64_t> reserve(int count) {
    const PgResult r = answer_to(loop, decider_->conn, PgDecisions::reserve_incident_ids(count));
    auto ids = PgDecisions::reserved_ids(r);
    if (!ids) throw std::runtime_error("cannot reserve ids: " + r.error);
    return *ids;
  }

  // Every story to both engines; `sent` notifications delivered in both. On PostgreSQL the
  // statements are queued at once and the last answer awaited.
  void write(const std::vector<ReadsStory>& stories, const std::vector<std::string>& sent) {
    std::string error;
    auto store = SqliteStore::open(sqlite_path(), clock_, error);
    ASSERT_NE(store, nullptr) << error;
    store->start();
    AlertChanges changes;
    for (const ReadsStory& s : stories) {
      changes.incidents.push_back(s.now);
      changes.events.push_back(s.opening);
      for (const auto& e : s.later) changes.events.push_back(e);
    }
    store->add_alerts(std::move(changes));
    for (const auto& id : sent) store->update_delivery(DeliveryUpdate{id, "sent", 1, 0, "", 1});
    store->stop();

    std::map<std::string, LeaseFence> fences;
    for (const ReadsStory& s : stories)
      if (fences.count(s.opened.monitor) == 0)
        fences.emplace(s.opened.monitor, fence_of(s.opened.monitor));
    size_t answered = 0, asked = 0;
    std::string failed;
    auto check = [&](const PgResult& r) {
      ++answered;
      if (!r.ok()) failed = r.error;
    };
    for (const ReadsStory& s : stories) {
      const LeaseFence& f = fences.at(s.opened.monitor);
      const PgStatement open = PgDecisions::open_incident(f, s.opened, {s.opening});
      decider_->conn.query(open.sql, open.params, check);
      ++asked;
      if (!s.later.empty() || s.now.resolved_at || s.now.acknowledged_at ||
          s.now.flapping != s.opened.flapping) {
        const PgStatement update = PgDecisions::update_incident(f, s.now, s.later);
        decider_->conn.query(update.sql, update.params, check);
        ++asked;
      }
    }
    ASSERT_TRUE(turn_until(
        loop, [&] { return answered == asked; }, std::chrono::seconds(60)));
    ASSERT_EQ(failed, "");
    for (const auto& id : sent)
      pg().sql("UPDATE outbox SET status = 'sent' WHERE id = '" + id + "'");
  }

  // The runs of api from fra and nyc and of web from nyc (varied_runs), to SQLite through
  // SqliteStore and to PostgreSQL as a node's results writer copies them.
  void write_runs() {
    const auto fra = varied_runs("api", kReadsT0, 0);
    const auto nyc = varied_runs("api", kReadsT0, 7);
    const auto other = varied_runs("web", kReadsT0, 3);
    {
      std::string error;
      SystemClock clock;
      auto store = SqliteStore::open(sqlite_path(), clock, error);
      ASSERT_NE(store, nullptr) << error;
      store->start();
      for (const auto* rows : {&fra, &nyc, &other})
        for (const auto& r : *rows) store->add_result(r);
      store->stop();
    }
    std::vector<int64_t> times;
    for (const auto& r : fra) times.push_back(r.t_ms);
    pg().sql(make_result_partitions_for(times).sql);
    uint64_t batch = 0;
    for (const auto& [origin, rows] : {std::pair{ResultOrigin{"fra-1", "fra"}, &fra},
                                       std::pair{ResultOrigin{"nyc-1", "nyc"}, &nyc},
                                       std::pair{ResultOrigin{"nyc-1", "nyc"}, &other}}) {
      std::string data;
      for (const auto& r : *rows) append_result_row(data, origin, r);
      std::optional<PgResult> answer;
      decider_->conn.copy(result_batch_script("0123456789abcdef0123456789abcdef", ++batch), data,
                          [&answer](PgResult a) { answer = std::move(a); });
      ASSERT_TRUE(turn_until(
          loop, [&] { return answer.has_value(); }, std::chrono::seconds(20)));
      ASSERT_TRUE(answer->ok()) << answer->error;
    }
    ASSERT_EQ(pg().sql("SELECT count(*) FROM results WHERE monitor = 'api'"), "720");
  }

  // The series of api over each (from, to, step) read through both engines, every bucket
  // compared whole.
  void compare_series(StorageReads& theirs, StorageReads& ours,
                      const std::vector<std::tuple<int64_t, int64_t, int64_t>>& windows) {
    for (const auto& [from, to, step] : windows) {
      const auto a = theirs.series("api", from, to, step);
      const auto b = ours.series("api", from, to, step);
      ASSERT_EQ(a.size(), b.size());
      uint64_t runs = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].t_ms, b[i].t_ms);
        EXPECT_EQ(reads_shown(a[i].agg), reads_shown(b[i].agg)) << "bucket " << a[i].t_ms;
        EXPECT_TRUE(a[i].agg.sketch == b[i].agg.sketch) << "bucket " << a[i].t_ms;
        runs += a[i].agg.count + a[i].agg.maintenance;
      }
      EXPECT_GT(runs, 0u) << "from " << from << " step " << step;
    }
  }

  std::unique_ptr<StorageReads> sqlite_reads() {
    std::string error;
    sqlite_ = SqliteStore::open(sqlite_path(), clock_, error);
    if (sqlite_ == nullptr) throw std::runtime_error(error);
    return sqlite_->reads();
  }
  std::string sqlite_path() const { return dir_.file("lookout.db"); }

  EventLoop loop;
  std::unique_ptr<LeaseNode> decider_;

 private:
  std::unique_ptr<PostgresServer> server_;
  test::TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<SqliteStore> sqlite_;
};

ReadsStory reads_story(int64_t id, const std::string& monitor, int64_t started_ms) {
  ReadsStory s;
  s.opened.id = id;
  s.opened.monitor = monitor;
  s.opened.group = "web";
  s.opened.type = "http";
  s.opened.state = State::kDown;
  s.opened.cause = "down from fra, nyc (2 of 2): expected status 2xx, got 503";
  s.opened.started_at = from_unix_ms(started_ms);
  s.now = s.opened;
  s.opening = {id, "incident.opened", s.opened.started_at, {}};
  return s;
}

TEST_F(PgReadsAgainstSqlite, TheIncidentQueriesAnswerAsSqliteDoes) {
  const auto ids = reserve(3);
  // api: opened with two notifications, acknowledged through the API, resolved.
  ReadsStory api = reads_story(ids[0], "api", kReadsT0);
  api.opening.notifications = {
      reads_note("evt_api_open_hook", ids[0], "incident.opened", "ops-hook", kReadsT0),
      reads_note("evt_api_open_am", ids[0], "incident.opened", "am", kReadsT0)};
  api.now.acknowledged_at = from_unix_ms(kReadsT0 + 60'000);
  api.now.acknowledged_by = "api";
  api.now.resolved_at = from_unix_ms(kReadsT0 + 600'000);
  api.later = {{ids[0], "incident.acknowledged", from_unix_ms(kReadsT0 + 60'000), {}},
               {ids[0],
                "incident.resolved",
                from_unix_ms(kReadsT0 + 600'000),
                {reads_note("evt_api_resolved", ids[0], "incident.resolved", "ops-hook",
                            kReadsT0 + 600'000)}}};
  // web: open and flapping, its opening not delivered yet.
  ReadsStory web = reads_story(ids[1], "web", kReadsT0 + 120'000);
  web.opened.state = State::kDegraded;
  web.opened.cause = "degraded from fra (1 of 2): slow";
  web.now = web.opened;
  web.now.flapping = true;
  web.opening.notifications = {
      reads_note("evt_web_open", ids[1], "incident.opened", "ops-hook", kReadsT0 + 120'000)};
  // db: resolved, and nothing notified.
  ReadsStory db = reads_story(ids[2], "db", kReadsT0 - 3'600'000);
  db.now.resolved_at = from_unix_ms(kReadsT0 - 3'000'000);
  db.later = {{ids[2], "incident.resolved", from_unix_ms(kReadsT0 - 3'000'000), {}}};
  write({api, web, db}, {"evt_api_open_hook", "evt_api_resolved"});
  if (HasFatalFailure()) return;

  PgReadPool pool(Secret::plain(pg().dsn()), nullptr);
  auto theirs = pool.reads();
  ASSERT_NE(theirs, nullptr);
  auto ours = sqlite_reads();
  ASSERT_NE(ours, nullptr);

  const auto resolved = reads_shown(theirs->resolved_incidents(kReadsT0 - 3'000'000, 10));
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved, reads_shown(ours->resolved_incidents(kReadsT0 - 3'000'000, 10)));
  EXPECT_EQ(reads_shown(theirs->resolved_incidents(kReadsT0, 10)),
            reads_shown(ours->resolved_incidents(kReadsT0, 10)));
  EXPECT_EQ(reads_shown(theirs->resolved_incidents(0, 1)),
            reads_shown(ours->resolved_incidents(0, 1)));

  const auto raw_events = theirs->incident_events({ids[0], ids[2]});
  ASSERT_EQ(raw_events.size(), 5u);  // api 3, db 2
  EXPECT_EQ(raw_events[0].deliveries, "am pending, ops-hook delivered");
  const auto events = reads_shown(raw_events);
  EXPECT_EQ(events, reads_shown(ours->incident_events({ids[0], ids[2]})));
  EXPECT_EQ(reads_shown(theirs->incident_events({ids[1]})),
            reads_shown(ours->incident_events({ids[1]})));

  const auto everything = [](const IncidentRecord&) { return true; };
  for (const IncidentFilter which :
       {IncidentFilter::kAll, IncidentFilter::kOpen, IncidentFilter::kResolved}) {
    const auto all = reads_shown(theirs->list_incidents(which, everything, 10));
    EXPECT_FALSE(all.empty());
    EXPECT_EQ(all, reads_shown(ours->list_incidents(which, everything, 10)));
  }
  const auto not_web = [](const IncidentRecord& i) { return i.monitor != "web"; };
  EXPECT_EQ(reads_shown(theirs->list_incidents(IncidentFilter::kAll, not_web, 1)),
            reads_shown(ours->list_incidents(IncidentFilter::kAll, not_web, 1)));

  const auto notes = reads_shown(theirs->incident_notifications(ids[0], ids[2]));
  ASSERT_EQ(notes.size(), 7u);  // api 2 + 1 + 1, web 1, db 1 + 1
  EXPECT_EQ(notes, reads_shown(ours->incident_notifications(ids[0], ids[2])));

  const auto api_only = reads_shown(theirs->monitor_incidents("api", 5));
  ASSERT_EQ(api_only.size(), 1u);
  EXPECT_EQ(api_only, reads_shown(ours->monitor_incidents("api", 5)));
  EXPECT_TRUE(theirs->monitor_incidents("nothing", 5).empty());
}

// More incidents than one statement reads, most of them refused by `keep`: the pages follow each
// other by start and id, also through incidents that started at the same moment.
TEST_F(PgReadsAgainstSqlite, ListingReadsPageAfterPageUntilEnoughAreKept) {
  constexpr int kCount = 1100;
  const auto ids = reserve(kCount);
  std::vector<ReadsStory> stories;
  for (int i = 0; i < kCount; ++i) {
    ReadsStory s = reads_story(ids[static_cast<size_t>(i)], fmt::format("m{}", i % 3),
                               kReadsT0 + (i / 2) * 60'000);
    if (i < kCount - 3) s.now.resolved_at = from_unix_ms(kReadsT0 + (i / 2) * 60'000 + 30'000);
    stories.push_back(std::move(s));
  }
  write(stories, {});
  if (HasFatalFailure()) return;
  PgReadPool pool(Secret::plain(pg().dsn()), nullptr);
  auto theirs = pool.reads();
  ASSERT_NE(theirs, nullptr);
  auto ours = sqlite_reads();
  const auto m2 = [](const IncidentRecord& i) { return i.monitor == "m2"; };
  const auto listed = reads_shown(theirs->list_incidents(IncidentFilter::kResolved, m2, 360));
  EXPECT_EQ(listed.size(), 360u);
  EXPECT_EQ(listed, reads_shown(ours->list_incidents(IncidentFilter::kResolved, m2, 360)));
  EXPECT_EQ(reads_shown(theirs->list_incidents(IncidentFilter::kAll, m2, 5000)),
            reads_shown(ours->list_incidents(IncidentFilter::kAll, m2, 5000)));
}

TEST_F(PgReadsAgainstSqlite, SeriesCountEveryLocationsRunsAsSqliteDoes) {
  ASSERT_NO_FATAL_FAILURE(write_runs());
  PgReadPool pool(Secret::plain(pg().dsn()), nullptr);
  auto theirs = pool.reads();
  ASSERT_NE(theirs, nullptr);
  auto ours = sqlite_reads();
  // Windows that end inside a bucket and start before the first run, as the API asks them.
  ASSERT_NO_FATAL_FAILURE(
      compare_series(*theirs, *ours,
                     {{kReadsT0 - 86'400'000, kReadsT0 + 10'000'000, 86'400'000},
                      {kReadsT0 - 600'000, kReadsT0 + 10'800'000, 3'600'000},
                      {kReadsT0 + 100'000, kReadsT0 + 7'000'000, 900'000},
                      {kReadsT0, kReadsT0 + 300'000, 60'000}}));
  // The whole day: both locations' runs, 360 each.
  const auto day = theirs->series("api", kReadsT0, kReadsT0 + 10'800'000, 86'400'000);
  uint64_t all = 0;
  for (const auto& p : day) all += p.agg.count + p.agg.maintenance;
  EXPECT_EQ(all, 720u);
  // A monitor without runs: empty buckets, as SQLite answers.
  EXPECT_EQ(theirs->series("none", kReadsT0, kReadsT0 + 7'200'000, 3'600'000).size(),
            ours->series("none", kReadsT0, kReadsT0 + 7'200'000, 3'600'000).size());
}

// The same runs rolled up on both engines (SqliteStore's rollups on SQLite, the roller on
// PostgreSQL) and their raw rows dropped past keep_raw on both: every bucket of every window
// still compares whole, read from day, hour and minute rows alike.
TEST_F(PgReadsAgainstSqlite, SeriesPastKeepRawReadTheRollupsAsSqliteDoes) {
  ASSERT_NO_FATAL_FAILURE(write_runs());
  // SQLite's clock 40 days after the runs (every window read ends before): a year of empty
  // minutes to roll up would only take time.
  const int64_t now = kReadsT0 + 40LL * 86'400'000;
  const RetentionPolicy keep{3LL * 86'400'000, 800LL * 86'400'000, 800LL * 86'400'000,
                             1825LL * 86'400'000};
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(sqlite_path().c_str(), &db), SQLITE_OK);
    RollupStats stats;
    std::string error;
    EXPECT_TRUE(roll_up(db, now, 10'000, stats, error)) << error;
    uint64_t deleted = 0;
    EXPECT_TRUE(apply_retention(db, now, keep, deleted, error)) << error;
    EXPECT_EQ(deleted, 1080u) << "every raw run";
    sqlite3_close(db);
  }
  // Every other shard rolled up by other nodes; api's by its roller here.
  const int shard = shard_of("api");
  pg().sql(fmt::format(
      "INSERT INTO rollup_marks SELECT s, l, clock_timestamp() FROM generate_series(0, 255) s, "
      "unnest(ARRAY['minute', 'hour', 'day']) l WHERE s <> {}",
      shard));
  fence_of("api");
  PgRollerOptions options;
  options.every = Duration{50};
  options.soon = Duration{5};
  options.grace_ms = 10'000;
  PgRoller roller(
      loop, decider_->conn, {"api", "web"},
      [&] {
        return std::map<int, int64_t>{{shard, fence_of("api").epoch}};
      },
      [&](int s) -> std::optional<LeaseFence> {
        if (s != shard) return std::nullopt;
        return fence_of("api");
      },
      options);
  roller.start();
  const std::string folded = fmt::format(
      "SELECT count(*) FROM rollup_marks WHERE shard = {} AND until > clock_timestamp() - "
      "interval '2 days'",
      shard);
  ASSERT_TRUE(turn_until(
      loop, [&] { return pg().sql(folded) == "3"; }, std::chrono::seconds(30)));
  roller.stop();
  const PgStatement drop = drop_old_result_partitions(Duration{keep.raw_ms});
  ASSERT_TRUE(answer_to(loop, decider_->conn, drop).ok());
  ASSERT_EQ(pg().sql("SELECT count(*) FROM results"), "0") << "the day is past keep_raw";

  PgReadPool pool(Secret::plain(pg().dsn()), nullptr);
  auto theirs = pool.reads();
  ASSERT_NE(theirs, nullptr);
  auto ours = sqlite_reads();
  // 90 days by day, a day by hour, three hours by quarter and by minute: days, hours and
  // minutes, each window's edges inside buckets.
  ASSERT_NO_FATAL_FAILURE(
      compare_series(*theirs, *ours,
                     {{kReadsT0 - 60LL * 86'400'000, kReadsT0 + 30LL * 86'400'000, 86'400'000},
                      {kReadsT0 - 86'400'000 + 1234, kReadsT0 + 86'400'000, 3'600'000},
                      {kReadsT0 + 100'000, kReadsT0 + 10'000'000, 900'000},
                      {kReadsT0 + 5'000, kReadsT0 + 3'600'000, 60'000}}));
  const auto ninety =
      theirs->series("api", kReadsT0 - 60LL * 86'400'000, kReadsT0 + 30LL * 86'400'000, 86'400'000);
  uint64_t all = 0;
  for (const auto& p : ninety) all += p.agg.count + p.agg.maintenance;
  EXPECT_EQ(all, 720u);
}

TEST(PgReadPool, AnswersNothingWhileTheDatabaseIsAwayAndReadsOnceItIsBack) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  require_schema(loop, pg);
  PgReadPool pool(Secret::plain(pg.dsn()), nullptr);
  {
    auto reads = pool.reads();
    ASSERT_NE(reads, nullptr);
    EXPECT_TRUE(reads->resolved_incidents(0, 10).empty());
  }
  pg.stop();
  {
    // The idle connection is dead: its statement fails, the reset too.
    auto reads = pool.reads();
    ASSERT_NE(reads, nullptr);
    EXPECT_TRUE(reads
                    ->list_incidents(
                        IncidentFilter::kAll, [](const IncidentRecord&) { return true; }, 10)
                    .empty());
  }
  EXPECT_EQ(pool.reads(), nullptr);
  pg.start();
  pg.sql(
      "INSERT INTO incidents (id, monitor, grp, type, state, cause, started_at, resolved_at, "
      "shard) VALUES (7, 'api', '', 'http', 'down', 'gone', now(), now(), 1)");
  auto reads = pool.reads();
  ASSERT_NE(reads, nullptr);
  EXPECT_EQ(reads->resolved_incidents(0, 10).size(), 1u);
}

}  // namespace
}  // namespace lookout::testing
