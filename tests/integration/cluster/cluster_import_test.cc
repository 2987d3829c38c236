// `lookout cluster import` through the real binary against a real PostgreSQL: a single-node
// database written by SqliteStore (runs, rollups, an open and a resolved incident with their
// events and notifications, states, a dns baseline, the kept secrets, and a monitor the config
// no longer has) is refused while a node is alive and from a broken file, each leaving the
// cluster unchanged; then copied, after which a cluster node's reads answer as the single
// node's, the open incident is the deciding node's to carry on, the rollup marks stand at
// SQLite's watermarks, ping tokens derive alike, and a second import is refused.
#include <gtest/gtest.h>

#include <set>

#include "probes/heartbeat.h"
#include "store/import_statements.h"
#include "store/lease_plan.h"
#include "store/pg_reads.h"
#include "store/rollup.h"
#include "store/schema.h"
#include "store/sqlite_export.h"
#include "store/sqlite_store.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const int64_t kImportT0 = 1'765'000'800'000;  // a whole hour, UTC

std::string import_shown(const IncidentRecord& i) {
  const auto opt = [](const std::optional<WallTime>& t) {
    return t ? std::to_string(to_unix_ms(*t)) : std::string("-");
  };
  return fmt::format("{} {} {} {} {} [{}] {} {} {} {} {}", i.id, i.monitor, i.group, i.type,
                     to_string(i.state), i.cause, to_unix_ms(i.started_at), opt(i.resolved_at),
                     opt(i.acknowledged_at), i.acknowledged_by, i.flapping);
}
std::vector<std::string> import_shown(const std::vector<IncidentRecord>& rows) {
  std::vector<std::string> out;
  for (const auto& i : rows) out.push_back(import_shown(i));
  return out;
}
std::vector<std::string> import_shown(const std::vector<IncidentEventRow>& rows) {
  std::vector<std::string> out;
  for (const auto& e : rows)
    out.push_back(
        fmt::format("{} {} {} [{}]", e.incident_id, e.event, to_unix_ms(e.at), e.deliveries));
  return out;
}
std::vector<std::string> import_shown(const std::vector<IncidentNotification>& rows) {
  std::vector<std::string> out;
  for (const auto& n : rows)
    out.push_back(fmt::format("{} {} {} {} {} {}", n.incident_id, n.event, to_unix_ms(n.at),
                              n.id.value_or("-"), n.channel.value_or("-"), n.status.value_or("-")));
  return out;
}
std::string import_shown(const SeriesPoint& p) {
  const auto opt = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  return fmt::format("{} count {} failures {} degraded {} maintenance {} min {} max {} sum {}",
                     p.t_ms, p.agg.count, p.agg.failures, p.agg.degraded, p.agg.maintenance,
                     opt(p.agg.min_us), opt(p.agg.max_us), p.agg.sum_us);
}

OutboxRow import_note(const std::string& id, int64_t incident, const std::string& event,
                      int64_t at_ms) {
  OutboxRow r;
  r.id = id;
  r.incident_id = incident;
  r.event = event;
  r.channel = "ops-hook";
  r.route = "oncall";
  r.created = from_unix_ms(at_ms);
  r.payload = "{}";
  return r;
}

IncidentRecord import_incident(int64_t id, const std::string& monitor, int64_t started_ms) {
  IncidentRecord i;
  i.id = id;
  i.monitor = monitor;
  i.group = "web";
  i.type = "http";
  i.state = State::kDown;
  i.cause = "connection refused";
  i.started_at = from_unix_ms(started_ms);
  return i;
}

// Two days of runs every 30 s, a bit of everything: down, degraded, no response, maintenance,
// several samples.
void import_write_runs(SqliteStore& store, const std::string& monitor, int shift) {
  for (int i = 0; i < 5760; ++i) {
    ResultRow r;
    r.monitor = monitor;
    r.t_ms = kImportT0 + i * 30'000LL + shift;
    const int k = i + shift;
    r.outcome = k % 9 == 0 ? Outcome::kDown : k % 7 == 0 ? Outcome::kDegraded : Outcome::kUp;
    if (k % 18 != 0) r.timings.total_us = 20'000 + (k * 7919) % 400'000;
    if (r.outcome == Outcome::kDown) r.cause = "expected status 2xx, got 503";
    r.maintenance = i >= 100 && i < 110;
    if (k % 23 == 0) r.samples_us = {1000 + k, 5000 + 3LL * k, 250'000};
    store.add_result(std::move(r));
  }
}

// The single node's database, as `lookout run` leaves it.
void import_write_single_node(const std::string& path) {
  std::string error;
  SystemClock clock;
  auto store = SqliteStore::open(path, clock, error);
  ASSERT_NE(store, nullptr) << error;
  // The keys are made at start-up, as the daemon makes them: the store's connection is its
  // writer thread's once started.
  for (const char* key : {"ack_key", "heartbeat_key", "subscription_key"}) store->kept_secret(key);
  store->start();
  import_write_runs(*store, "api", 0);
  import_write_runs(*store, "web", 7);
  import_write_runs(*store, "gone", 3);
  // api: open, its opening delivered, its escalation still to send. web: resolved. gone: the
  // config no longer has it.
  IncidentRecord api = import_incident(1, "api", kImportT0 + 3'600'000);
  api.fired = {"oncall#0"};
  IncidentRecord web = import_incident(2, "web", kImportT0 + 600'000);
  web.resolved_at = from_unix_ms(kImportT0 + 900'000);
  IncidentRecord gone = import_incident(3, "gone", kImportT0);
  AlertChanges changes;
  changes.incidents = {api, web, gone};
  changes.events = {
      {1,
       "incident.opened",
       api.started_at,
       {import_note("evt_api_open", 1, "incident.opened", kImportT0 + 3'600'000)}},
      {1,
       "incident.escalated",
       from_unix_ms(kImportT0 + 4'000'000),
       {import_note("evt_api_escalated", 1, "incident.escalated", kImportT0 + 4'000'000)}},
      {2,
       "incident.opened",
       web.started_at,
       {import_note("evt_web_open", 2, "incident.opened", kImportT0 + 600'000)}},
      {2,
       "incident.resolved",
       *web.resolved_at,
       {import_note("evt_web_resolved", 2, "incident.resolved", kImportT0 + 900'000)}},
      {3, "incident.opened", gone.started_at, {}}};
  store->add_alerts(std::move(changes));
  for (const char* id : {"evt_api_open", "evt_web_open", "evt_web_resolved"})
    store->update_delivery(DeliveryUpdate{id, "sent", 1, 0, "", kImportT0 + 3'700'000});
  store->put_state(StateRow{"api", "down", kImportT0 + 3'600'000, "uddd", kImportT0 + 3'630'000,
                            Outcome::kDown, std::nullopt, "connection refused"});
  store->put_baseline("portal-dns", Baseline{"A portal.example.test", {"192.0.2.7"}});
  // Two windows made through the API (numbered past a deleted one); a glob, and text that a
  // text[] must keep whole.
  store->put_maintenance(
      3,
      MaintenanceRecord{
          3, "Database upgrade", "", {"api", "w*"}, from_unix_ms(kImportT0), Duration{3'600'000}});
  store->put_maintenance(7, MaintenanceRecord{7,
                                              "Move, \"racks\" {a,b}",
                                              "NULL",
                                              {"we{b}", "NULL"},
                                              from_unix_ms(kImportT0 + 86'400'000),
                                              Duration{5'400'000}});
  // A post resolved by its second update, and its notification to the route that asks for
  // posts, not sent yet.
  PostRecord post;
  post.id = 5;
  post.title = "Checkout \"slow\" {a,b}";
  post.impact = PostImpact::kMinor;
  post.monitors = {"api", "NULL"};
  post.created_at = from_unix_ms(kImportT0 + 60'000);
  post.resolved_at = from_unix_ms(kImportT0 + 120'000);
  post.updates = {{PostStatus::kInvestigating, "Looking.", post.created_at},
                  {PostStatus::kResolved, "NULL", *post.resolved_at}};
  store->put_post(post);
  AlertChanges posted;
  posted.events.push_back(
      {0,
       "incident.post_updated",
       *post.resolved_at,
       {import_note("evt_post", 0, "incident.post_updated", kImportT0 + 120'000)}});
  store->add_alerts(std::move(posted));
  // A confirmed subscriber and an erased one, whose number must not be given again.
  store->put_subscriber(SubscriberRecord{2, "Carol@example.com", from_unix_ms(kImportT0),
                                         from_unix_ms(kImportT0 + 60'000),
                                         from_unix_ms(kImportT0)});
  store->put_subscriber(
      SubscriberRecord{3, "", from_unix_ms(kImportT0), std::nullopt, std::nullopt});
  store->stop();
  store.reset();
  // Rolled up as the single node's housekeeping does, through the first day and a half.
  sqlite3* db = open_sqlite_file(path, "the database", 5000, error);
  ASSERT_NE(db, nullptr) << error;
  RollupStats stats;
  const bool rolled = roll_up(db, kImportT0 + 129'600'000, 0, stats, error);
  sqlite3_close(db);
  ASSERT_TRUE(rolled) << error;
  ASSERT_GT(stats.day_rows, 0u);
}

std::string import_meta(const std::string& path, const std::string& key) {
  std::string error;
  SystemClock clock;
  auto store = SqliteStore::open(path, clock, error);
  if (store == nullptr) throw std::runtime_error(error);
  return store->kept_secret(key);
}

TEST(ClusterImport, CopiesASingleNodeDatabaseWholeOnceAndOnlyWhenSafe) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  TempDir dir;
  const std::string single = dir.file("single.db");
  import_write_single_node(single);
  if (HasFatalFailure()) return;
  dir.write("lookout.toml",
            fmt::format("[server]\nlisten = \"127.0.0.1:{}\"\n[storage]\npath = \"{}\"\n"
                        "[cluster]\ndsn = \"${{env:LOOKOUT_PG}}\"\nnode = \"fra-1\"\n"
                        "location = \"fra\"\nlease = \"5s\"\n"
                        "[[monitor]]\nname = \"api\"\ntype = \"http\"\n"
                        "url = \"http://127.0.0.1:9/\"\n"
                        "[[monitor]]\nname = \"web\"\ntype = \"http\"\n"
                        "url = \"http://127.0.0.1:9/\"\n"
                        "[[monitor]]\nname = \"portal-dns\"\ntype = \"dns\"\n"
                        "query = \"portal.example.test\"\nrecord = \"A\"\n"
                        "resolver = \"127.0.0.1:9\"\non_change = \"alert\"\n",
                        free_port(), dir.file("spool.db")));
  const std::map<std::string, std::string> env{{"LOOKOUT_PG", pg.dsn()}};
  const auto run_import = [&](const std::string& from) {
    return run_lookout({"cluster", "import", "--from-sqlite", from, "-c", dir.file("lookout.toml")},
                       env);
  };

  // A file that is no database: exit 2 before the cluster is touched.
  dir.write("broken.db", "not a database at all, but long enough to look like a header......");
  auto r = run_import(dir.file("broken.db"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dir.file("broken.db")), std::string::npos) << r.err;
  EXPECT_EQ(pg.sql("SELECT to_regclass('results') IS NULL"), "t");
  r = run_import(dir.file("missing.db"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot open the single-node database"), std::string::npos) << r.err;

  // A live node: refused, naming it, and nothing copied.
  ASSERT_EQ(run_lookout({"cluster", "init", "-c", dir.file("lookout.toml")}, env).code, 0);
  pg.sql(
      "INSERT INTO nodes VALUES ('nyc-1', 'nyc', '0.1.0', clock_timestamp(), "
      "clock_timestamp(), true, 'h')");
  r = run_import(single);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nodes nyc-1 (nyc) are alive"), std::string::npos) << r.err;
  EXPECT_EQ(pg.sql("SELECT (SELECT count(*) FROM results) + (SELECT count(*) FROM incidents) + "
                   "(SELECT count(*) FROM kept_secrets) + (SELECT count(*) FROM rollup_marks)"),
            "0");

  pg.sql("UPDATE nodes SET alive = false");
  // A window made through the cluster's API under an id of the file's: refused, naming it.
  pg.sql(
      "INSERT INTO maintenance_windows (id, title, body, monitors, starts_at, ends_at) VALUES "
      "(7, 'x', '', '{api}', now(), now() + interval '1 hour')");
  r = run_import(single);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("the cluster already has maintenance windows 7 made through its API"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(pg.sql("SELECT (SELECT count(*) FROM results) + (SELECT count(*) FROM incidents)"),
            "0");
  pg.sql("DELETE FROM maintenance_windows");
  r = run_import(single);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  maintenance_windows 2\n"), std::string::npos) << r.out;
  // The windows with their ids, whole; the API's next window is numbered after them.
  EXPECT_EQ(pg.sql("SELECT string_agg(id || ' ' || title || ' ' || body || ' ' || "
                   "array_to_string(monitors, '|') || ' ' || (extract(epoch FROM starts_at) * "
                   "1000)::bigint || ' ' || (extract(epoch FROM ends_at - starts_at))::bigint, "
                   "'/' ORDER BY id) FROM maintenance_windows"),
            fmt::format("3 Database upgrade  api|w* {} 3600/7 Move, \"racks\" {{a,b}} NULL "
                        "we{{b}}|NULL {} 5400",
                        kImportT0, kImportT0 + 86'400'000));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM maintenance_windows, unnest(monitors) m WHERE m IS NULL"),
            "0");
  EXPECT_EQ(pg.sql("SELECT nextval(pg_get_serial_sequence('maintenance_windows', 'id'))"), "8");
  // The post with its updates in order and its notification to send; the API's next post is
  // numbered after it, and the nodes read the posts again.
  EXPECT_NE(r.out.find("  posts"), std::string::npos) << r.out;
  EXPECT_EQ(pg.sql("SELECT id || ' ' || title || ' ' || impact || ' ' || array_to_string(monitors, "
                   "'|') || ' ' || (extract(epoch FROM resolved_at - created_at))::bigint FROM "
                   "posts"),
            "5 Checkout \"slow\" {a,b} minor api|NULL 60");
  EXPECT_EQ(pg.sql("SELECT string_agg(seq || ' ' || status || ' ' || body || ' ' || node, '/' "
                   "ORDER BY seq) FROM post_updates"),
            "0 investigating Looking. import/1 resolved NULL import");
  EXPECT_EQ(pg.sql("SELECT version FROM post_version"), "1");
  EXPECT_EQ(pg.sql("SELECT nextval(pg_get_serial_sequence('posts', 'id'))"), "6");
  EXPECT_EQ(pg.sql("SELECT status || ' ' || shard || ' ' || event FROM outbox WHERE id = "
                   "'evt_post'"),
            "pending 0 incident.post_updated");
  // The subscribers with their numbers, the erased one without its address; the key their
  // links are signed with.
  EXPECT_EQ(pg.sql("SELECT string_agg(id || ' [' || email || '] ' || (confirmed_at IS NOT NULL), "
                   "',' ORDER BY id) FROM subscribers"),
            "2 [Carol@example.com] true,3 [] false");
  EXPECT_EQ(pg.sql("SELECT nextval(pg_get_serial_sequence('subscribers', 'id'))"), "4");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM kept_secrets WHERE name = 'subscription_key'"), "1");
  EXPECT_NE(r.out.find("  results          11520\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  incidents        2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped 1 monitor the config does not have"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": gone\n"), std::string::npos) << r.out;
  EXPECT_EQ(pg.sql("SELECT DISTINCT location || ' ' || node FROM results"), "fra import");

  // A cluster node's reads answer as the single node's.
  PgReadPool pool(Secret::plain(pg.dsn()), nullptr);
  auto theirs = pool.reads();
  ASSERT_NE(theirs, nullptr);
  std::string error;
  SystemClock clock;
  auto sqlite = SqliteStore::open(single, clock, error);
  ASSERT_NE(sqlite, nullptr) << error;
  auto ours = sqlite->reads();
  const auto everything = [](const IncidentRecord& i) { return i.monitor != "gone"; };
  const auto listed = import_shown(theirs->list_incidents(IncidentFilter::kAll, everything, 10));
  EXPECT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed, import_shown(ours->list_incidents(IncidentFilter::kAll, everything, 10)));
  EXPECT_EQ(import_shown(theirs->incident_events({1, 2})),
            import_shown(ours->incident_events({1, 2})));
  EXPECT_EQ(import_shown(theirs->incident_notifications(1, 2)),
            import_shown(ours->incident_notifications(1, 2)));
  for (const auto& [from, to, step] :
       {std::tuple{kImportT0, kImportT0 + 172'800'000, int64_t{86'400'000}},
        std::tuple{kImportT0 + 86'400'000, kImportT0 + 172'800'000, int64_t{3'600'000}},
        std::tuple{kImportT0 + 129'000'000, kImportT0 + 130'200'000, int64_t{60'000}}}) {
    for (const char* monitor : {"api", "web"}) {
      const auto a = theirs->series(monitor, from, to, step);
      const auto b = ours->series(monitor, from, to, step);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(import_shown(a[i]), import_shown(b[i])) << monitor;
        EXPECT_TRUE(a[i].agg.sketch == b[i].agg.sketch) << monitor << " " << a[i].t_ms;
      }
    }
  }

  // The deciding node carries the open incident on: one open, its state down, its escalation
  // pending for the shard's sender; new ids come after the copied ones.
  EXPECT_EQ(pg.sql("SELECT id || ' ' || shard FROM incidents WHERE resolved_at IS NULL"),
            fmt::format("1 {}", shard_of("api")));
  EXPECT_EQ(pg.sql("SELECT state || ' ' || recent || ' ' || shard FROM monitor_states"),
            fmt::format("down uddd {}", shard_of("api")));
  EXPECT_EQ(pg.sql("SELECT status || ' ' || shard FROM outbox WHERE id = 'evt_api_escalated'"),
            fmt::format("pending {}", shard_of("api")));
  EXPECT_EQ(pg.sql("SELECT array_to_string(fired, ',') FROM incidents WHERE id = 1"), "oncall#0");
  // gone's incident 3 and event 5 stayed behind.
  EXPECT_EQ(pg.sql("SELECT nextval(pg_get_serial_sequence('incidents', 'id'))"), "3");
  EXPECT_EQ(pg.sql("SELECT nextval(pg_get_serial_sequence('incident_events', 'id'))"), "5");
  EXPECT_THROW(pg.sql("INSERT INTO incidents (monitor, grp, type, state, cause, started_at, "
                      "shard) VALUES ('api', 'web', 'http', 'down', 'x', now(), 0)"),
               std::runtime_error);

  // The marks stand at SQLite's watermarks, for the shards of the copied monitors only.
  ours.reset();
  sqlite.reset();
  {
    sqlite3* db = open_sqlite_file(single, "the database", 5000, error);
    ASSERT_NE(db, nullptr) << error;
    const Watermarks w = read_watermarks(db);
    sqlite3_close(db);
    ASSERT_TRUE(w.minute && w.hour && w.day);
    EXPECT_EQ(pg.sql(fmt::format("SELECT string_agg(level || ' ' || (extract(epoch FROM until) * "
                                 "1000)::bigint, ',' ORDER BY level) FROM rollup_marks WHERE "
                                 "shard = {}",
                                 shard_of("api"))),
              fmt::format("day {},hour {},minute {}", *w.day, *w.hour, *w.minute));
    const std::set<int> shards{shard_of("api"), shard_of("web"), shard_of("portal-dns")};
    EXPECT_EQ(pg.sql("SELECT count(DISTINCT shard) FROM rollup_marks"),
              std::to_string(shards.size()));
  }
  EXPECT_EQ(pg.sql("SELECT location || ' ' || question || ' ' || answers::text || ' ' || "
                   "seen::text FROM dns_baselines"),
            "fra A portal.example.test [\"192.0.2.7\"] [\"192.0.2.7\"]");

  // The kept secrets: ping tokens and ack links made by the single node stay valid.
  const std::string key = import_meta(single, "heartbeat_key");
  EXPECT_EQ(pg.sql("SELECT value FROM kept_secrets WHERE name = 'heartbeat_key'"), key);
  EXPECT_EQ(derived_ping_token(pg.sql("SELECT value FROM kept_secrets WHERE name = "
                                      "'heartbeat_key'"),
                               "nightly-backup"),
            derived_ping_token(key, "nightly-backup"));
  EXPECT_EQ(pg.sql("SELECT value FROM kept_secrets WHERE name = 'ack_key'"),
            import_meta(single, "ack_key"));
  EXPECT_EQ(r.out.find(key), std::string::npos);

  // Again: refused, naming the monitors, and nothing more copied.
  r = run_import(single);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("the cluster already holds history of api, web"), std::string::npos)
      << r.err;
  EXPECT_EQ(pg.sql("SELECT count(*) FROM results"), "11520");
}

// Waits for one script's or COPY's answer on `conn`.
PgResult import_wait(EventLoop& loop, PgConnection& conn, const std::string& sql,
                     const std::optional<std::string>& data = std::nullopt) {
  std::optional<PgResult> r;
  const auto keep = [&r](PgResult a) { r = std::move(a); };
  if (data) {
    conn.copy(sql, *data, keep);
  } else {
    conn.script(sql, keep);
  }
  if (!turn_until(
          loop, [&] { return r.has_value(); }, std::chrono::seconds(20)))
    throw std::runtime_error("no answer to " + sql);
  return std::move(*r);
}

// A heartbeat monitor's memory: the import's statements, run here for a monitor list that has
// it, copy it whole.
TEST(ClusterImport, AHeartbeatsMemoryIsCopiedWhole) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  TempDir dir;
  const std::string single = dir.file("single.db");
  {
    std::string error;
    SystemClock clock;
    auto store = SqliteStore::open(single, clock, error);
    ASSERT_NE(store, nullptr) << error;
    store->start();
    HeartbeatMemory m;
    m.last_ping = from_unix_ms(kImportT0 + 1'000);
    m.last_any_ping = from_unix_ms(kImportT0 + 2'000);
    m.up = true;
    m.starts = {{"run-7", from_unix_ms(kImportT0 + 1'500)}};
    m.last_message = PingMessage{from_unix_ms(kImportT0 + 1'000), "backed up\t42 GB"};
    store->put_heartbeat("nightly", std::move(m));
    store->stop();
  }
  std::string error;
  auto source = SqliteExport::open(single, error);
  ASSERT_NE(source, nullptr) << error;
  const auto ids = source->monitor_ids(error);
  ASSERT_EQ(ids.count("nightly"), 1u) << error;

  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  require_schema(loop, conn);
  ASSERT_TRUE(import_wait(loop, conn, import_staging_script()).ok());
  ASSERT_TRUE(
      import_wait(loop, conn, import_monitors_copy_sql(),
                  import_monitor_rows({{"nightly", ids.at("nightly"), shard_of("nightly")}}))
          .ok());
  for (const ImportTable& t : import_tables()) {
    auto cursor = source->read(t, error);
    ASSERT_NE(cursor, nullptr) << error;
    std::string data;
    while (cursor->next(1000, data, error)) {
    }
    ASSERT_EQ(error, "");
    if (!data.empty()) {
      ASSERT_TRUE(import_wait(loop, conn, import_copy_sql(t), data).ok());
    }
  }
  ImportPlan plan;
  plan.location = "fra";
  const PgResult moved = import_wait(loop, conn, import_move_script(plan));
  ASSERT_TRUE(moved.ok()) << moved.error;
  conn.stop();
  EXPECT_EQ(pg.sql("SELECT monitor, (extract(epoch FROM last_ping) * 1000)::bigint, "
                   "(extract(epoch FROM last_any) * 1000)::bigint, up, starts::text, "
                   "(extract(epoch FROM message_at) * 1000)::bigint, message FROM heartbeats"),
            fmt::format("nightly|{}|{}|t|{{\"run-7\": {}}}|{}|backed up\t42 GB", kImportT0 + 1'000,
                        kImportT0 + 2'000, kImportT0 + 1'500, kImportT0 + 1'000));
}

}  // namespace
}  // namespace lookout::testing
