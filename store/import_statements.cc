#include "store/import_statements.h"

#include <fmt/format.h>

#include <array>
#include <iterator>

#include "core/units.h"
#include "store/pg_schema.h"

namespace lookout {
namespace {

// Unix milliseconds as a timestamptz, exactly (to_timestamp goes through a double).
std::string import_time(const char* column) {
  return fmt::format("(timestamptz 'epoch' + {} * interval '1 millisecond')", column);
}

std::string import_time_ms(int64_t ms) {
  return fmt::format("(timestamptz 'epoch' + {} * interval '1 millisecond')", ms);
}

// Records how many rows `insert` (an INSERT ... RETURNING 1) wrote, under `table`.
std::string import_counted(const char* table, const std::string& insert) {
  return fmt::format(
      "WITH moved AS ({}\n  RETURNING 1)\nINSERT INTO import_counts (tbl, n) SELECT '{}', count(*) "
      "FROM moved;\n",
      insert, table);
}

// The mark of one level for the shards of every copied monitor.
std::string import_mark(const char* level, const std::optional<int64_t>& until) {
  if (!until) return "";
  return fmt::format(
      "INSERT INTO rollup_marks (shard, level, until)\n"
      "  SELECT DISTINCT shard, '{}', {} FROM import_monitors WHERE id IS NOT NULL\n"
      "  ON CONFLICT (shard, level) DO UPDATE SET until = least(rollup_marks.until, "
      "excluded.until);\n",
      level, import_time_ms(*until));
}

// A shard of the copied monitors whose mark stands before the file's watermark holds other
// monitors' runs not folded yet: the copied monitors would be folded again from there, and where
// their raw or minute rows are gone (the file's retention) a bucket at that edge would be
// written again from part of its runs. Refused rather than guessed.
std::string import_marks_behind(const ImportPlan& plan) {
  std::string conditions;
  const std::array<std::pair<const char*, std::optional<int64_t>>, 3> levels{
      {{"minute", plan.minute_until}, {"hour", plan.hour_until}, {"day", plan.day_until}}};
  for (const auto& [level, until] : levels) {
    if (!until) continue;
    if (!conditions.empty()) conditions += " OR ";
    conditions += fmt::format("(k.level = '{}' AND k.until < {})", level, import_time_ms(*until));
  }
  if (conditions.empty()) return "";
  return fmt::format(
      R"sql(  SELECT string_agg(DISTINCT k.shard::text, ', ') INTO found FROM rollup_marks k
    WHERE k.shard IN (SELECT shard FROM import_monitors WHERE id IS NOT NULL) AND ({});
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster has rolled up the shards % of other monitors less far than this database: their runs would be folded again with the copied ones; import into a new database after lookout cluster init, before any node starts',
      found USING ERRCODE = '{}';
  END IF;
)sql",
      conditions, kImportHistoryPresent);
}

std::string import_rollup_move(const char* level) {
  return import_counted(
      level,
      fmt::format("INSERT INTO {0} (t, count, failures, degraded, maintenance, min_us, max_us, "
                  "sum_us, monitor, sketch)\n"
                  "  SELECT {1}, r.count, r.failures, r.degraded, r.maintenance, r.min_us, "
                  "r.max_us, r.sum_us, m.name, r.sketch\n"
                  "  FROM import_{0} r JOIN import_monitors m ON m.id = r.monitor_id",
                  level, import_time("r.t_ms")));
}

// Moves an identity's sequence past the ids copied; never back, should nodes have taken ids.
std::string import_sequence_past(const char* table) {
  return fmt::format(
      "SELECT setval(pg_get_serial_sequence('{0}', 'id'), greatest(max(id), (SELECT last_value "
      "FROM {0}_id_seq))) FROM {0} HAVING max(id) IS NOT NULL;\n",
      table);
}

}  // namespace

const std::vector<ImportTable>& import_tables() {
  static const std::vector<ImportTable> tables{
      {"import_results",
       "monitor_id bigint, t_ms bigint, outcome smallint, http_status integer, total_us bigint, "
       "dns_us bigint, connect_us bigint, tls_us bigint, first_byte_us bigint, kind text, cause "
       "text, maintenance bigint, detail text, samples bytea",
       "SELECT monitor_id, t_ms, outcome, http_status, total_us, dns_us, connect_us, tls_us, "
       "first_byte_us, kind, cause, maintenance, detail, samples FROM results"},
      {"import_rollup_minute",
       "monitor_id bigint, t_ms bigint, count bigint, failures bigint, degraded bigint, "
       "maintenance bigint, min_us bigint, max_us bigint, sum_us bigint, sketch bytea",
       "SELECT monitor_id, t_ms, count, failures, degraded, maintenance, min_us, max_us, sum_us, "
       "sketch FROM rollup_minute"},
      {"import_rollup_hour",
       "monitor_id bigint, t_ms bigint, count bigint, failures bigint, degraded bigint, "
       "maintenance bigint, min_us bigint, max_us bigint, sum_us bigint, sketch bytea",
       "SELECT monitor_id, t_ms, count, failures, degraded, maintenance, min_us, max_us, sum_us, "
       "sketch FROM rollup_hour"},
      {"import_rollup_day",
       "monitor_id bigint, t_ms bigint, count bigint, failures bigint, degraded bigint, "
       "maintenance bigint, min_us bigint, max_us bigint, sum_us bigint, sketch bytea",
       "SELECT monitor_id, t_ms, count, failures, degraded, maintenance, min_us, max_us, sum_us, "
       "sketch FROM rollup_day"},
      {"import_monitor_state",
       "monitor_id bigint, state text, since_ms bigint, recent text, last_check_ms bigint, "
       "last_outcome smallint, last_latency_us bigint, last_cause text",
       "SELECT monitor_id, state, since_ms, recent, last_check_ms, last_outcome, "
       "last_latency_us, last_cause FROM monitor_state"},
      {"import_incidents",
       "id bigint, monitor text, grp text, type text, state text, cause text, started_ms bigint, "
       "resolved_ms bigint, acknowledged_ms bigint, acknowledged_by text, flapping bigint, "
       "flap_notified bigint, fired text, next_reminder_ms bigint",
       "SELECT id, monitor, grp, type, state, cause, started_ms, resolved_ms, acknowledged_ms, "
       "acknowledged_by, flapping, flap_notified, fired, next_reminder_ms FROM incidents"},
      {"import_incident_events", "id bigint, incident_id bigint, event text, at_ms bigint",
       "SELECT id, incident_id, event, at_ms FROM incident_events"},
      {"import_outbox",
       "id text, event_id bigint, incident_id bigint, event text, channel text, route text, "
       "recipient text, payload text, audience text, created_ms bigint, due_ms bigint, attempts "
       "integer, status text, last_error text, sent_ms bigint",
       "SELECT id, event_id, incident_id, event, channel, route, recipient, payload, audience, "
       "created_ms, due_ms, attempts, status, last_error, sent_ms FROM outbox"},
      {"import_dns_baselines", "monitor_id bigint, question text, answers text, set_ms bigint",
       "SELECT monitor_id, question, answers, set_ms FROM dns_baselines"},
      {"import_heartbeats",
       "monitor_id bigint, last_ping_ms bigint, last_any_ms bigint, up bigint, starts text, "
       "message_ms bigint, message text",
       "SELECT monitor_id, last_ping_ms, last_any_ms, up, starts, message_ms, message FROM "
       "heartbeats"},
      {"import_secrets", "name text, value text",
       "SELECT key, value FROM meta WHERE key IN ('ack_key', 'heartbeat_key', "
       "'subscription_key')"},
      {"import_maintenance",
       "id bigint, title text, body text, monitors text, start_ms bigint, duration_ms bigint",
       "SELECT id, title, body, monitors, start_ms, duration_ms FROM maintenance"},
      {"import_posts",
       "id bigint, title text, impact text, monitors text, created_ms bigint, resolved_ms bigint",
       "SELECT id, title, impact, monitors, created_ms, resolved_ms FROM posts"},
      {"import_post_updates", "post_id bigint, seq integer, status text, body text, at_ms bigint",
       "SELECT post_id, seq, status, body, at_ms FROM post_updates"},
      {"import_subscribers",
       "id bigint, email text, created_ms bigint, confirmed_ms bigint, mailed_ms bigint",
       "SELECT id, email, created_ms, confirmed_ms, mailed_ms FROM subscribers"},
  };
  return tables;
}

std::string import_staging_script() {
  // Staged text keeps the database's default collation, which gives way to the cluster's "C"
  // columns wherever they are compared: two different collations of columns would be an error.
  std::string out =
      "CREATE TEMP TABLE import_monitors (name text, id bigint, shard smallint);\n"
      "CREATE TEMP TABLE import_counts (ord serial, tbl text, n bigint);\n";
  for (const ImportTable& t : import_tables())
    out += fmt::format("CREATE TEMP TABLE {} ({});\n", t.staged, t.columns);
  return out;
}

std::string import_copy_sql(const ImportTable& table) {
  return fmt::format("COPY {} FROM STDIN", table.staged);
}

std::string import_monitors_copy_sql() { return "COPY import_monitors FROM STDIN"; }

std::string import_monitor_rows(const std::vector<ImportMonitor>& monitors) {
  std::string out;
  for (const ImportMonitor& m : monitors) {
    append_copy_text(out, m.name);
    out += '\t';
    if (m.id) {
      append_copy_integer(out, *m.id);
    } else {
      append_copy_null(out);
    }
    out += '\t';
    append_copy_integer(out, m.shard);
    out += '\n';
  }
  return out;
}

void append_copy_null(std::string& out) { out += "\\N"; }

void append_copy_integer(std::string& out, int64_t v) {
  const fmt::format_int digits(v);
  out.append(digits.data(), digits.size());
}

void append_copy_real(std::string& out, double v) {
  fmt::format_to(std::back_inserter(out), "{}", v);
}

void append_copy_bytea(std::string& out, std::string_view bytes) {
  // bytea's hex form, its backslash escaped for COPY.
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\\\x";
  for (const char b : bytes) {
    const auto u = static_cast<unsigned char>(b);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
}

std::string import_move_script(const ImportPlan& plan) {
  std::string out = fmt::format(R"sql(BEGIN;
SELECT pg_advisory_xact_lock({0});
LOCK TABLE nodes IN EXCLUSIVE MODE;
DO $refuse$
DECLARE found text;
BEGIN
  SELECT string_agg(format('%s (%s)', node, location), ', ' ORDER BY node) INTO found
    FROM nodes WHERE alive AND last_seen > clock_timestamp() - {1} * interval '1 millisecond';
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'nodes % are alive: an import under a running cluster could open a second incident; stop every node, then import (a node killed counts as alive until its lease of {2} has run out)',
      found USING ERRCODE = '{3}';
  END IF;
  SELECT string_agg(name, ', ' ORDER BY name) INTO found FROM import_monitors m
    WHERE (m.id IS NOT NULL OR EXISTS (SELECT 1 FROM import_incidents i WHERE i.monitor = m.name))
      AND (EXISTS (SELECT 1 FROM results r WHERE r.monitor = m.name)
        OR EXISTS (SELECT 1 FROM rollup_minute r WHERE r.monitor = m.name)
        OR EXISTS (SELECT 1 FROM rollup_hour r WHERE r.monitor = m.name)
        OR EXISTS (SELECT 1 FROM rollup_day r WHERE r.monitor = m.name)
        OR EXISTS (SELECT 1 FROM monitor_states s WHERE s.monitor = m.name)
        OR EXISTS (SELECT 1 FROM incidents i WHERE i.monitor = m.name));
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster already holds history of %: this database was imported already, or nodes have run these monitors; an import goes into a cluster that has none of their history (a new database after lookout cluster init)',
      found USING ERRCODE = '{4}';
  END IF;
  SELECT string_agg(id::text, ', ' ORDER BY id) INTO found FROM (
    SELECT id FROM incidents WHERE id IN (SELECT id FROM import_incidents)
    UNION SELECT id FROM incident_events WHERE id IN (SELECT id FROM import_incident_events)) t;
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster already uses the incident or event ids % of this database, whose ack links and notifications carry them; import into a new database after lookout cluster init',
      found USING ERRCODE = '{5}';
  END IF;
  SELECT string_agg(k.name, ', ' ORDER BY k.name) INTO found
    FROM kept_secrets k JOIN import_secrets s ON s.name = k.name WHERE k.value <> s.value;
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster already keeps its own %, with which its nodes made the ack links or ping URLs they handed out; import into a new database after lookout cluster init, before any node starts',
      found USING ERRCODE = '{6}';
  END IF;
  SELECT string_agg(id::text, ', ' ORDER BY id) INTO found
    FROM maintenance_windows WHERE id IN (SELECT id FROM import_maintenance);
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster already has maintenance windows % made through its API, under ids of this database''s windows; delete them (DELETE /api/v1/maintenance/ID on a node) and import again, or import into a new database after lookout cluster init',
      found USING ERRCODE = '{5}';
  END IF;
  SELECT string_agg(id::text, ', ' ORDER BY id) INTO found
    FROM subscribers WHERE id IN (SELECT id FROM import_subscribers);
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster already has subscribers % taken through its pages, under the numbers of this database''s subscribers, which the links of their mails carry; import into a new database after lookout cluster init',
      found USING ERRCODE = '{5}';
  END IF;
  SELECT string_agg(id::text, ', ' ORDER BY id) INTO found
    FROM posts WHERE id IN (SELECT id FROM import_posts);
  IF found IS NOT NULL THEN
    RAISE EXCEPTION 'the cluster already has posts % made through its API, under the numbers of this database''s posts, which its notifications and links carry; import into a new database after lookout cluster init',
      found USING ERRCODE = '{5}';
  END IF;
{7}END $refuse$;
)sql",
                                kPgMigrationLock, plan.lease.count(), format_duration(plan.lease),
                                kImportLiveNodes, kImportHistoryPresent, kImportIdsTaken,
                                kImportSecretDiffers, import_marks_behind(plan));
  std::string quoted_location = "'";
  for (const char c : pg_text(plan.location)) {
    if (c == '\'') quoted_location += '\'';
    quoted_location += c;
  }
  quoted_location += '\'';
  out += import_counted(
      "results",
      fmt::format(
          "INSERT INTO results (t, total_us, dns_us, connect_us, tls_us, first_byte_us, outcome, "
          "http_status, maintenance, monitor, location, node, kind, cause, detail, samples)\n"
          "  SELECT {}, r.total_us, r.dns_us, r.connect_us, r.tls_us, r.first_byte_us, "
          "r.outcome, nullif(r.http_status, 0), r.maintenance <> 0, m.name, {}, '{}', "
          "nullif(r.kind, ''), nullif(r.cause, ''), nullif(r.detail, ''), r.samples\n"
          "  FROM import_results r JOIN import_monitors m ON m.id = r.monitor_id",
          import_time("r.t_ms"), quoted_location, kImportNode));
  for (const char* level : {"rollup_minute", "rollup_hour", "rollup_day"})
    out += import_rollup_move(level);
  out += import_mark("minute", plan.minute_until);
  out += import_mark("hour", plan.hour_until);
  out += import_mark("day", plan.day_until);
  out += import_counted(
      "monitor_states",
      fmt::format("INSERT INTO monitor_states (monitor, state, since, recent, last_check, "
                  "last_outcome, last_latency_us, last_cause, shard, decided_by)\n"
                  "  SELECT m.name, s.state, {}, s.recent, {}, s.last_outcome, s.last_latency_us, "
                  "nullif(s.last_cause, ''), m.shard, '{}'\n"
                  "  FROM import_monitor_state s JOIN import_monitors m ON m.id = s.monitor_id",
                  import_time("s.since_ms"), import_time("s.last_check_ms"), kImportNode));
  out += import_counted(
      "incidents",
      fmt::format(
          "INSERT INTO incidents (id, monitor, grp, type, state, cause, started_at, resolved_at, "
          "acknowledged_at, acknowledged_by, flapping, flap_notified, fired, next_reminder, "
          "shard)\n"
          "  SELECT i.id, i.monitor, i.grp, i.type, i.state, i.cause, {}, {}, {}, "
          "i.acknowledged_by, i.flapping <> 0, i.flap_notified <> 0, CASE WHEN i.fired = '' "
          "THEN '{{}}'::text[] ELSE string_to_array(i.fired, ',') END, {}, m.shard\n"
          "  FROM import_incidents i JOIN import_monitors m ON m.name = i.monitor",
          import_time("i.started_ms"), import_time("i.resolved_ms"),
          import_time("i.acknowledged_ms"), import_time("i.next_reminder_ms")));
  out += import_counted(
      "incident_events",
      fmt::format("INSERT INTO incident_events (id, incident_id, event, at, node)\n"
                  "  SELECT e.id, e.incident_id, e.event, {}, '{}' FROM "
                  "import_incident_events e\n"
                  "  WHERE e.incident_id IN (SELECT i.id FROM import_incidents i JOIN "
                  "import_monitors m ON m.name = i.monitor)",
                  import_time("e.at_ms"), kImportNode));
  // An incident's notifications go with it, its subscribers' mails too. Those about no
  // incident (0) go with the posts and subscribers, below. Cancelled subscriber mail has
  // nothing left to send.
  out += import_counted(
      "outbox",
      fmt::format(
          "INSERT INTO outbox (id, event_id, incident_id, event, channel, route, recipient, "
          "payload, audience, created, due, attempts, status, last_error, sent_at, shard)\n"
          "  SELECT o.id, o.event_id, o.incident_id, o.event, o.channel, o.route, o.recipient, "
          "o.payload, o.audience, {}, {}, o.attempts, o.status, o.last_error, {}, m.shard\n"
          "  FROM import_outbox o JOIN import_incidents i ON i.id = o.incident_id\n"
          "    JOIN import_monitors m ON m.name = i.monitor\n"
          "  WHERE o.status IN ('pending', 'sent', 'failed', 'gave_up')\n"
          "    AND (o.event_id IS NULL OR o.event_id IN (SELECT id FROM import_incident_events))",
          import_time("o.created_ms"), import_time("o.due_ms"), import_time("o.sent_ms")));
  out += import_sequence_past("incidents");
  out += import_sequence_past("incident_events");
  out +=
      // The single node's baselines become the importing node's location's: what it saw is
      // what that location would see; the other locations take their own at their first runs.
      import_counted(
          "dns_baselines",
          fmt::format(
              "INSERT INTO dns_baselines (location, monitor, question, answers, seen, "
              "set_at)\n"
              "  SELECT {}, m.name, b.question, b.answers::jsonb, b.answers::jsonb, {}\n"
              "  FROM import_dns_baselines b JOIN import_monitors m ON m.id = b.monitor_id\n"
              "  ON CONFLICT (location, monitor) DO NOTHING",
              quoted_location, import_time("b.set_ms")));
  // Read by every node at its next turn, as the posts.
  out += "UPDATE baseline_version SET version = version + 1;\n";
  out += import_counted(
      "heartbeats",
      fmt::format("INSERT INTO heartbeats (monitor, last_ping, last_any, up, starts, message_at, "
                  "message)\n"
                  "  SELECT m.name, {}, {}, h.up <> 0, h.starts::jsonb, {}, h.message\n"
                  "  FROM import_heartbeats h JOIN import_monitors m ON m.id = h.monitor_id",
                  import_time("h.last_ping_ms"), import_time("h.last_any_ms"),
                  import_time("h.message_ms")));
  out += import_counted(
      "kept_secrets",
      "INSERT INTO kept_secrets (name, value) SELECT name, value FROM import_secrets\n"
      "  ON CONFLICT (name) DO NOTHING");
  // Every window, whichever monitors its globs match: a glob that matches none of the cluster's
  // monitors changes nothing, and one may match a monitor added later.
  out += import_counted(
      "maintenance_windows",
      fmt::format("INSERT INTO maintenance_windows (id, title, body, monitors, starts_at, "
                  "ends_at)\n"
                  "  SELECT w.id, w.title, w.body, ARRAY(SELECT jsonb_array_elements_text("
                  "w.monitors::jsonb)), {}, {}\n"
                  "  FROM import_maintenance w",
                  import_time("w.start_ms"), import_time("(w.start_ms + w.duration_ms)")));
  out += import_sequence_past("maintenance_windows");
  // Every post with its updates, as the status page showed them; the nodes read them at their
  // next turn, since the version moves.
  out += import_counted("posts",
                        fmt::format("INSERT INTO posts (id, title, impact, monitors, created_at, "
                                    "resolved_at)\n"
                                    "  SELECT p.id, p.title, p.impact, ARRAY(SELECT "
                                    "jsonb_array_elements_text(p.monitors::jsonb)), {}, {}\n"
                                    "  FROM import_posts p",
                                    import_time("p.created_ms"), import_time("p.resolved_ms")));
  out += import_counted(
      "post_updates",
      fmt::format("INSERT INTO post_updates (post_id, seq, status, body, at, node)\n"
                  "  SELECT u.post_id, u.seq, u.status, u.body, {}, '{}'\n"
                  "  FROM import_post_updates u WHERE u.post_id IN (SELECT id FROM import_posts)",
                  import_time("u.at_ms"), kImportNode));
  out += "UPDATE post_version SET version = version + 1;\n";
  // Every subscriber with its number (an erased one too, so that its number is never given
  // again), the address '' once erased; one whose address the cluster already has live stays
  // behind, its cluster row standing.
  out += import_counted(
      "subscribers",
      fmt::format("INSERT INTO subscribers (id, email, created_at, confirmed_at, mailed_at)\n"
                  "  SELECT s.id, coalesce(s.email, ''), {}, {}, {}\n"
                  "  FROM import_subscribers s\n"
                  "  ON CONFLICT ((lower(email COLLATE \"C\"))) WHERE email <> '' DO NOTHING",
                  import_time("s.created_ms"), import_time("s.confirmed_ms"),
                  import_time("s.mailed_ms")));
  out += "UPDATE subscriber_version SET version = version + 1;\n";
  out += import_sequence_past("subscribers");
  // The notifications about no incident, sent or not: the posts' to routes and subscribers,
  // and subscribers' confirmation mails, on shard 0 (any shard's holder sends them). A test's
  // was the single node's.
  out += import_counted(
      "outbox, others",
      fmt::format(
          "INSERT INTO outbox (id, incident_id, event, channel, route, recipient, payload, "
          "audience, created, due, attempts, status, last_error, sent_at, shard)\n"
          "  SELECT o.id, 0, o.event, o.channel, o.route, o.recipient, o.payload, o.audience, {}, "
          "{}, o.attempts, o.status, o.last_error, {}, 0\n"
          "  FROM import_outbox o WHERE o.incident_id = 0\n"
          "    AND o.event IN ('incident.posted', 'incident.post_updated', "
          "'subscription.confirm')\n"
          "    AND o.status IN ('pending', 'sent', 'failed', 'gave_up')",
          import_time("o.created_ms"), import_time("o.due_ms"), import_time("o.sent_ms")));
  out += import_sequence_past("posts");
  out += "SELECT tbl, n FROM import_counts ORDER BY ord;\nCOMMIT;\n";
  return out;
}

std::optional<std::vector<std::pair<std::string, int64_t>>> import_counts(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 2 || !row[0]) return std::nullopt;
    const auto n = pg_int(row[1]);
    if (!n) return std::nullopt;
    out.emplace_back(*row[0], *n);
  }
  return out;
}

}  // namespace lookout
