#include "store/pg_schema.h"

#include <fmt/format.h>

#include <array>
#include <memory>

#include "core/units.h"

namespace lookout {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a shipped entry: add one.
constexpr std::array<const char*, 13> kPgMigrations{
    R"sql(
-- The nodes of the cluster. A node upserts its row at start, renews last_seen every lease/5
-- while its loop turns and clears alive when it stops. Every time is the server's
-- clock_timestamp(): no node's clock is trusted. A node is alive while alive is set and
-- last_seen is within the lease of the server's clock.
CREATE TABLE nodes (
  node          text PRIMARY KEY,
  location      text NOT NULL,
  version       text NOT NULL,         -- of lookout on that node
  started_at    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  alive         boolean NOT NULL,
  monitors_hash text NOT NULL          -- of its monitors' config: nodes must agree on them
);
-- Leases with epochs: probe/<location>/<shard> and eval/<shard>. The epoch grows with each new
-- holder; a decision checks, in its own transaction, the epoch it was taken under (fencing).
CREATE TABLE leases (
  name       text PRIMARY KEY,
  holder     text,                     -- a node; NULL when released
  epoch      bigint NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL DEFAULT '-infinity'
);
)sql",
    R"sql(
-- One row per probe run from every location: what a result row holds on SQLite, with the
-- location and node that ran it. Partitioned by day (UTC) on t, the partitions made ahead of
-- time and dropped whole past the raw-results retention (store/pg_results.h): dropping a day
-- costs nothing next to deleting its rows and vacuuming after them. Fixed-width columns come
-- first, so that none is padded to the alignment of the next. Names compare byte by byte
-- (COLLATE "C"), as SQLite compares them, whatever the database's locale, and cheaper.
CREATE TABLE results (
  t             timestamptz NOT NULL,  -- the run's start, by the clock of the node that ran it
  total_us      bigint,                -- NULL without a response
  dns_us        bigint,
  connect_us    bigint,
  tls_us        bigint,
  first_byte_us bigint,
  outcome       smallint NOT NULL,     -- 0 up, 1 degraded, 2 down
  http_status   smallint,              -- NULL without an HTTP response
  maintenance   boolean NOT NULL,
  monitor       text COLLATE "C" NOT NULL,
  location      text COLLATE "C" NOT NULL,
  node          text COLLATE "C" NOT NULL,
  kind          text,                  -- what went wrong (timeout, tls, expectation, ...)
  cause         text,
  detail        text,                  -- the kind's details as JSON
  samples       bytea                  -- a run's samples when several: little-endian int64 us
) PARTITION BY RANGE (t);
-- A monitor's history and its newest runs from each location.
CREATE INDEX results_by_monitor ON results (monitor, t);
-- The last batch each results writer (one per node's run) committed, recorded in the batch's
-- own transaction: a batch sent again after its answer was lost is found here and not written
-- twice. A writer's older marks go as it records each new one.
CREATE TABLE result_batches (
  writer     uuid NOT NULL,
  batch      bigint NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (writer, batch)
);
)sql",
    R"sql(
-- The monitors each config runs, by the hash in nodes.monitors_hash: a node whose hash differs
-- from a live node's reads that node's set to name the first monitor that differs
-- (store/monitor_sets.h). Written once per set, not with each renewal.
CREATE TABLE monitor_sets (
  hash       text PRIMARY KEY,
  monitors   jsonb NOT NULL,           -- {"name": "digest of its config", ...}
  first_seen timestamptz NOT NULL DEFAULT clock_timestamp()
);
)sql",
    R"sql(
-- What the node deciding a monitor decided, so that the node taking its shard over carries on.
-- Every row carries its monitor's shard (stable_hash(monitor) mod 256), by which a node reads
-- and claims the rows of the shards it holds. Times are timestamptz: readable where people look
-- at them, and compared with the server's clock_timestamp() without conversions; an event's time
-- is the deciding node's, as it saw the runs.
CREATE TABLE monitor_states (
  monitor         text COLLATE "C" PRIMARY KEY,
  state           text NOT NULL,       -- unknown | up | degraded | down | maintenance
  since           timestamptz NOT NULL,
  recent          text NOT NULL,       -- the latest runs, u/g/d, oldest first
  last_check      timestamptz,
  last_outcome    smallint,            -- 0 up, 1 degraded, 2 down
  last_latency_us bigint,
  last_cause      text,
  shard           smallint NOT NULL,
  decided_by      text NOT NULL,       -- the node that wrote it, under its eval lease
  decided_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX monitor_states_by_shard ON monitor_states (shard);
-- Each location's view of a monitor (/api/v1/status, `locations`).
CREATE TABLE location_states (
  monitor    text COLLATE "C" NOT NULL,
  location   text COLLATE "C" NOT NULL,
  state      text NOT NULL,
  since      timestamptz NOT NULL,
  last_check timestamptz,              -- its newest run's start
  latency_us bigint,                   -- NULL without a response
  cause      text,
  shard      smallint NOT NULL,
  PRIMARY KEY (monitor, location)
);
CREATE INDEX location_states_by_shard ON location_states (shard);
-- Ids come from the sequence, taken ahead of time by the deciding node: an incident's
-- notifications carry its id, so it is known before the incident is written.
CREATE TABLE incidents (
  id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  monitor         text COLLATE "C" NOT NULL,
  grp             text NOT NULL,
  type            text NOT NULL,
  state           text NOT NULL,       -- the latest bad state
  cause           text NOT NULL,
  started_at      timestamptz NOT NULL,
  resolved_at     timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text,                -- link | api
  flapping        boolean NOT NULL DEFAULT false,
  flap_notified   boolean NOT NULL DEFAULT false,
  fired           text[] NOT NULL DEFAULT '{}',  -- escalation tiers fired, "route#i"
  next_reminder   timestamptz,
  shard           smallint NOT NULL
);
-- At most one open incident per monitor in the whole cluster: two nodes that both believe they
-- decide a monitor cannot both open one.
CREATE UNIQUE INDEX incidents_one_open ON incidents (monitor) WHERE resolved_at IS NULL;
CREATE INDEX incidents_open_by_shard ON incidents (shard) WHERE resolved_at IS NULL;
CREATE INDEX incidents_by_state ON incidents (resolved_at, started_at);
CREATE TABLE incident_events (
  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  event       text NOT NULL,
  at          timestamptz NOT NULL,
  node        text NOT NULL            -- the node that decided it
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id);
-- The outbox: every notification, written with the event that caused it, sent at least once and
-- always with its id. A row is sent by the node that claimed it (claimed_by, under the epoch of
-- its shard's eval lease, until claim_until); one left sending past claim_until is claimed
-- again, with the same id.
CREATE TABLE outbox (
  id          text PRIMARY KEY,        -- evt_..., also the webhook's Idempotency-Key
  event_id    bigint REFERENCES incident_events (id),
  incident_id bigint NOT NULL,         -- 0 for a test and for a post's event
  event       text NOT NULL,
  channel     text NOT NULL,
  route       text NOT NULL DEFAULT '',
  recipient   text NOT NULL DEFAULT '',
  payload     text,
  audience    text NOT NULL DEFAULT 'oncall',  -- oncall | subscriber
  created     timestamptz NOT NULL,
  due         timestamptz NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  status      text NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'gave_up')),
  last_error  text,
  sent_at     timestamptz,
  shard       smallint NOT NULL,
  claimed_by  text,
  claim_epoch bigint,
  claim_until timestamptz
);
-- The rows still to send, by shard: what a claim reads. Sent rows leave it.
CREATE INDEX outbox_to_send ON outbox (shard, due) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_by_incident ON outbox (incident_id);
)sql",
    R"sql(
-- Each location's report of a monitor is written by the node that probes the monitor from there
-- (alerting/location_judge.h), with the streak another node of the location carries on from,
-- and when the database heard it: the deciding node counts a report while it is fresh by the
-- server's clock, never by the run times of the node that sent it.
-- A row no probing node wrote is never fresh (reported_at -infinity). A report replaces one written
-- under an older epoch of its probe lease, or under the same epoch about an older run: the run
-- times of two nodes, on two clocks, are never compared.
ALTER TABLE location_states
  ADD COLUMN recent text NOT NULL DEFAULT '',
  ADD COLUMN epoch bigint NOT NULL DEFAULT 0,
  ADD COLUMN reported_at timestamptz NOT NULL DEFAULT '-infinity',
  ADD COLUMN reported_by text;
CREATE INDEX location_states_heard ON location_states (shard, reported_at);
)sql",
    R"sql(
-- Every node's page reads only the rows written since its last read (alerting/cluster_status.h).
-- Each row of what the page shows carries the id of the transaction that wrote it last; a
-- reader asks for the rows whose id is at least the oldest transaction still running when it
-- read before (pg_snapshot_xmin), so a transaction that commits after a later one was read is
-- still read. Timestamps or a sequence cannot say that: transactions commit out of order. An
-- insert takes the id from the column's default; an update sets it in its own statement (the
-- frequent writers do), or else the trigger does, so that no writer can forget it, at the cost
-- of a PL/pgSQL call per row only for the writers that leave it unchanged. Rows written before
-- this carry 0, and are read by the whole reads a node makes at start and now and then.
CREATE FUNCTION lookout_stamp_xact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.xact := pg_current_xact_id();
  RETURN NEW;
END $$;
ALTER TABLE monitor_states ADD COLUMN xact xid8 NOT NULL DEFAULT '0';
ALTER TABLE location_states ADD COLUMN xact xid8 NOT NULL DEFAULT '0';
ALTER TABLE incidents ADD COLUMN xact xid8 NOT NULL DEFAULT '0';
ALTER TABLE monitor_states ALTER COLUMN xact SET DEFAULT pg_current_xact_id();
ALTER TABLE location_states ALTER COLUMN xact SET DEFAULT pg_current_xact_id();
ALTER TABLE incidents ALTER COLUMN xact SET DEFAULT pg_current_xact_id();
CREATE TRIGGER monitor_states_xact BEFORE UPDATE ON monitor_states
  FOR EACH ROW WHEN (NEW.xact = OLD.xact) EXECUTE FUNCTION lookout_stamp_xact();
CREATE TRIGGER location_states_xact BEFORE UPDATE ON location_states
  FOR EACH ROW WHEN (NEW.xact = OLD.xact) EXECUTE FUNCTION lookout_stamp_xact();
CREATE TRIGGER incidents_xact BEFORE UPDATE ON incidents
  FOR EACH ROW WHEN (NEW.xact = OLD.xact) EXECUTE FUNCTION lookout_stamp_xact();
CREATE INDEX monitor_states_by_xact ON monitor_states (xact);
CREATE INDEX location_states_by_xact ON location_states (xact);
CREATE INDEX incidents_by_xact ON incidents (xact);
)sql",
    R"sql(
-- Rollups of every location's runs of a monitor, as SQLite keeps them (store/rollup.h): minute
-- rows folded from results, hour rows from minutes, day rows from hours; t is the bucket's
-- start (UTC), sketch a LatencySketch in its binary form. A monitor's rows are written by the
-- node holding its shard's eval lease, whole buckets at a time, so that folding a bucket again
-- gives the same row.
CREATE TABLE rollup_minute (
  t           timestamptz NOT NULL,
  count       integer NOT NULL,
  failures    integer NOT NULL,
  degraded    integer NOT NULL,
  maintenance integer NOT NULL,
  min_us      bigint,
  max_us      bigint,
  sum_us      bigint NOT NULL,
  monitor     text COLLATE "C" NOT NULL,
  sketch      bytea NOT NULL,
  PRIMARY KEY (monitor, t)
);
CREATE INDEX rollup_minute_by_time ON rollup_minute (t);
CREATE TABLE rollup_hour (LIKE rollup_minute INCLUDING ALL);
CREATE TABLE rollup_day (LIKE rollup_minute INCLUDING ALL);
-- How far each level is rolled up, per shard (stable_hash(monitor) mod 256): everything of the
-- shard's monitors before `until` is in the level's table.
CREATE TABLE rollup_marks (
  shard smallint NOT NULL,
  level text NOT NULL CHECK (level IN ('minute', 'hour', 'day')),
  until timestamptz NOT NULL,
  PRIMARY KEY (shard, level)
);
-- Secrets the nodes share (ack_key signs ack links, heartbeat_key makes ping tokens), made
-- once by the first node that needs one, or copied from a single-node database.
CREATE TABLE kept_secrets (
  name  text PRIMARY KEY,
  value text NOT NULL
);
-- The accepted answer set of each dns monitor with on_change = "alert".
CREATE TABLE dns_baselines (
  monitor  text COLLATE "C" PRIMARY KEY,
  question text NOT NULL,              -- "A portal.acme.example": a changed question drops it
  answers  jsonb NOT NULL,             -- the answers in presentation form
  set_at   timestamptz NOT NULL
);
-- What each heartbeat monitor knows beyond its runs, as on SQLite.
CREATE TABLE heartbeats (
  monitor    text COLLATE "C" PRIMARY KEY,
  last_ping  timestamptz,              -- the last success or failure
  last_any   timestamptz,              -- the last ping of any kind (start, log too)
  up         boolean NOT NULL DEFAULT false,
  starts     jsonb NOT NULL DEFAULT '{}',  -- jobs running: {"rid": start ms}
  message_at timestamptz,
  message    text                      -- the last ping's body, at most 10 KiB
);
)sql",
    R"sql(
-- How often results written late moved a shard's mark back. The page's summaries read a shard
-- again whole when it changes: the roller may fold the late runs and move the mark past where
-- it was before a summary reader looks, and the mark alone would then not show the move.
ALTER TABLE rollup_marks ADD COLUMN moved_back bigint NOT NULL DEFAULT 0;
)sql",
    R"sql(
-- Acknowledgements asked for on any node (an ack link, the API, a provider's callback). The
-- node deciding the incident's monitor applies each one, writing its event and notifications
-- under the eval lease's fence, and then deletes it under the same fence; one asked for while
-- the decider is away waits here for the next.
CREATE TABLE ack_requests (
  incident_id bigint PRIMARY KEY REFERENCES incidents (id),
  asked_by    text NOT NULL,           -- link | api | a provider's callback
  asked_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  asked_on    text NOT NULL,           -- the node that took the request
  shard       smallint NOT NULL
);
CREATE INDEX ack_requests_by_shard ON ack_requests (shard);
-- Maintenance windows made through the API (the config's [[maintenance]] blocks are not
-- stored), read by every node.
CREATE TABLE maintenance_windows (
  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  title       text NOT NULL,
  body        text NOT NULL,
  monitors    text[] NOT NULL,         -- names or shell globs
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL
);
)sql",
    R"sql(
-- Pings of heartbeat monitors taken by any node, waiting for the node deciding the monitor: it
-- judges them in order and deletes them, under its eval lease's fence, in the statement that
-- keeps what they changed (heartbeats, monitor_states, results). One taken while no node
-- decides waits for the next.
CREATE TABLE heartbeat_pings (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  monitor     text COLLATE "C" NOT NULL,
  shard       smallint NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('success', 'start', 'fail', 'exit', 'log')),
  exit_status integer NOT NULL,        -- of kind exit: 0 is a success
  rid         text NOT NULL,           -- ?rid=, pairs a start with its end
  body        text NOT NULL,           -- at most 10 KiB
  taken_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  taken_on    text NOT NULL            -- the node that took it
);
CREATE INDEX heartbeat_pings_by_shard ON heartbeat_pings (shard, id);
)sql",
    R"sql(
-- The posts people write on the status page (alerting/posts.h), made and updated through any
-- node's admin API, shown by every node. A post's updates are numbered from 0 (its opening): a
-- node writes the next number after the updates it read, so two nodes updating one post at once
-- cannot both write it (the key), and the second reads the post again. post_version counts the
-- changes, in the statement that makes each: a node reads the posts again only when it moved.
CREATE TABLE posts (
  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  title       text NOT NULL,
  impact      text NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical')),
  monitors    text[] NOT NULL DEFAULT '{}',  -- none: the whole service
  created_at  timestamptz NOT NULL,
  resolved_at timestamptz
);
CREATE TABLE post_updates (
  post_id bigint NOT NULL REFERENCES posts (id),
  seq     integer NOT NULL,
  status  text NOT NULL
          CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
  body    text NOT NULL,
  at      timestamptz NOT NULL,
  node    text NOT NULL,                   -- the node that took it
  PRIMARY KEY (post_id, seq)
);
CREATE TABLE post_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL
);
INSERT INTO post_version (version) VALUES (0);
)sql",
    R"sql(
-- The status page's email subscribers (alerting/subscribers.h), shared by the nodes: any node
-- takes a subscription, a confirmation or an unsubscribing, and every node reads the live rows
-- into the book its subscribers' mails are made from whenever subscriber_version moved. An
-- erased address (unsubscribed, or never confirmed) keeps its row with email '', so its id,
-- which links carry, is never given again. Addresses are one subscriber whatever the case of
-- their ASCII letters, as on one node.
CREATE TABLE subscribers (
  id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  email        text NOT NULL,
  created_at   timestamptz NOT NULL,
  mailed_at    timestamptz,                -- the last confirmation mail
  confirmed_at timestamptz
);
CREATE UNIQUE INDEX subscribers_by_email ON subscribers (lower(email COLLATE "C"))
  WHERE email <> '';
CREATE TABLE subscriber_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL
);
INSERT INTO subscriber_version (version) VALUES (0);
-- The mails of an erased address lose it, and those not sent yet are not sent: 'cancelled'.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
  CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'gave_up', 'cancelled'));
CREATE INDEX outbox_by_recipient ON outbox (recipient) WHERE audience = 'subscriber';
)sql",
    R"sql(
-- The dns monitors' baselines (on_change = "alert"), one per monitor and location: answers may
-- differ by where they are asked from (GeoDNS), so each location is held to what it saw. `seen`
-- is what the location's probing node saw last, which an accept made through any node makes
-- the baseline. The table of version 1, one row per monitor, was never read: cluster configs
-- refused on_change = "alert" until this version.
DROP TABLE dns_baselines;
CREATE TABLE dns_baselines (
  location text COLLATE "C" NOT NULL,
  monitor  text COLLATE "C" NOT NULL,
  question text NOT NULL,              -- "A portal.acme.example": a changed question drops it
  answers  jsonb NOT NULL,             -- the baseline, in presentation form
  seen     jsonb NOT NULL,             -- the answers seen last
  set_at   timestamptz NOT NULL,       -- of the baseline
  PRIMARY KEY (location, monitor)
);
CREATE TABLE baseline_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL
);
INSERT INTO baseline_version (version) VALUES (0);
)sql",
};

// Single quotes doubled, for a literal in a script (which takes no parameters).
std::string sql_literal(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

constexpr const char* kReadVersion = "SELECT max(version) FROM lookout_schema";
constexpr const char* kUndefinedTable = "42P01";
constexpr const char* kUniqueViolation = "23505";

// One migration run: reads the version, applies the next migration, reads again, until the
// schema is current. Kept alive by the callbacks it has handed to the connection.
class Migrator : public std::enable_shared_from_this<Migrator> {
 public:
  Migrator(PgConnection& pg, MigratingNode who, std::function<void(PgMigration)> done)
      : pg_(pg), who_(std::move(who)), done_(std::move(done)) {}

  void read() {
    read_pg_schema_version(
        pg_, [self = shared_from_this()](std::optional<int> version, std::string error) {
          self->on_version(version, std::move(error));
        });
  }

 private:
  void on_version(std::optional<int> version, std::string error) {
    if (!version) {
      finish(std::move(error));
      return;
    }
    if (!read_once_) result_.found = *version;
    read_once_ = true;
    result_.now = *version;
    if (*version > pg_schema_version()) {
      finish(pg_newer_schema_error(*version));
    } else if (*version == pg_schema_version()) {
      finish("");
    } else {
      apply(*version + 1);
    }
  }

  void apply(int version) {
    pg_.script(pg_migration_script(version, who_), [self = shared_from_this(),
                                                    version](PgResult r) {
      if (r.ok()) {
        self->result_.applied.push_back(version);
        self->read();
      } else if (r.sqlstate == kUniqueViolation) {
        // Another node applied it while this one waited for the lock.
        self->read();
      } else {
        self->result_.refused_by_live_nodes = r.sqlstate == kPgLiveNodesRefuseMigration;
        self->finish(fmt::format("cannot migrate the schema to version {}: {}", version, r.error));
      }
    });
  }

  void finish(std::string error) {
    result_.error = std::move(error);
    done_(std::move(result_));
  }

  PgConnection& pg_;
  MigratingNode who_;
  std::function<void(PgMigration)> done_;
  PgMigration result_;
  bool read_once_ = false;
};

}  // namespace

int pg_schema_version() { return static_cast<int>(kPgMigrations.size()); }

std::string pg_migration_script(int version, const MigratingNode& who) {
  // Under the lock, so that no other node migrates between the check and the change, and after
  // the version's row: a node that lost the race to another, which has joined since, meets the
  // unique key first and reads the version again instead of waiting. A node that joins
  // meanwhile read the version before the change: the window is one transaction.
  const std::string refuse_under_live_nodes =
      version < 2
          ? ""
          : fmt::format(R"sql(DO $refuse$
DECLARE live text;
BEGIN
  SELECT string_agg(format('%s (lookout %s)', node, version), ', ' ORDER BY node) INTO live
    FROM nodes
    WHERE alive AND node <> {} AND last_seen > clock_timestamp() - {} * interval '1 millisecond';
  IF live IS NOT NULL THEN
    RAISE EXCEPTION 'nodes % are live on schema version %: stop every node, then start the upgraded ones, the first of which migrates the schema (a node killed counts as live until its lease of {} has run out)',
      live, {} USING ERRCODE = '{}';
  END IF;
END $refuse$;
)sql",
                        sql_literal(who.node), who.lease.count(), format_duration(who.lease),
                        version - 1, kPgLiveNodesRefuseMigration);
  return fmt::format(R"sql(BEGIN;
SELECT pg_advisory_xact_lock({});
CREATE TABLE IF NOT EXISTS lookout_schema (
  version    integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  lookout    text NOT NULL             -- the version of lookout that applied it
);
INSERT INTO lookout_schema (version, lookout) VALUES ({}, {});
{}{}
COMMIT;
)sql",
                     kPgMigrationLock, version, sql_literal(LOOKOUT_VERSION),
                     refuse_under_live_nodes, kPgMigrations.at(static_cast<size_t>(version - 1)));
}

std::string pg_newer_schema_error(int found) {
  return fmt::format(
      "the database has schema version {}, newer than this lookout knows ({}); upgrade lookout "
      "on this node",
      found, pg_schema_version());
}

void read_pg_schema_version(PgConnection& pg,
                            std::function<void(std::optional<int>, std::string)> done) {
  pg.query(kReadVersion, {}, [done = std::move(done)](PgResult r) {
    if (!r.ok()) {
      if (r.sqlstate == kUndefinedTable) {
        done(0, "");
      } else {
        done(std::nullopt, std::move(r.error));
      }
      return;
    }
    if (r.rows.size() != 1 || r.rows[0].size() != 1) {
      done(std::nullopt, "lookout_schema answered in a shape this lookout does not know");
      return;
    }
    const auto& v = r.rows[0][0];
    done(v ? std::stoi(*v) : 0, "");
  });
}

void migrate_pg_schema(PgConnection& pg, MigratingNode who, std::function<void(PgMigration)> done) {
  std::make_shared<Migrator>(pg, std::move(who), std::move(done))->read();
}

}  // namespace lookout
