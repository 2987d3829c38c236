#include "store/pg_decisions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "store/lease_plan.h"
#include "store/pg_arrays.h"

namespace lookout {
namespace {

std::optional<std::string> text_or_null(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return pg_text(s);
}

std::optional<std::string> ms_param(const std::optional<WallTime>& t) {
  if (!t) return std::nullopt;
  return std::to_string(to_unix_ms(*t));
}

std::optional<std::string> int_param(const std::optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return std::to_string(*v);
}

nlohmann::json json_text_or_null(std::string_view s) {
  if (s.empty()) return nullptr;
  return pg_text(s);
}

nlohmann::json json_int_or_null(const std::optional<int64_t>& v) {
  if (!v) return nullptr;
  return *v;
}

const char* audience_name(Audience a) {
  return a == Audience::kSubscriber ? "subscriber" : "oncall";
}

// The columns of outbox_row_json()'s records, for jsonb_to_recordset(...) AS o(<these>).
constexpr const char* kPgOutboxRecord =
    "id text, event text, channel text, route text, recipient text, payload text, audience "
    "text, created_ms bigint";

// A subscriber's mail goes in only while the address is subscribed: the book it was made from
// may be a second behind an unsubscribing on another node (by the unique index's expression).
constexpr const char* kLiveRecipient =
    "(o.audience <> 'subscriber' OR EXISTS (SELECT FROM subscribers s WHERE lower(s.email COLLATE "
    "\"C\") = lower(o.recipient COLLATE \"C\") AND s.email <> ''))";

// An outbox row as jsonb_to_recordset reads it (kPgOutboxRecord).
nlohmann::json outbox_row_json(const OutboxRow& r) {
  return {{"id", pg_text(r.id)},
          {"event", pg_text(r.event)},
          {"channel", pg_text(r.channel)},
          {"route", pg_text(r.route)},
          {"recipient", pg_text(r.recipient)},
          {"payload", json_text_or_null(r.payload)},
          {"audience", audience_name(r.audience)},
          {"created_ms", to_unix_ms(r.created)}};
}

// The events as jsonb_to_recordset reads them, each numbered, and their notifications, each
// with its event's number: the statement writes an event and then its rows with its id.
std::pair<std::string, std::string> events_json(const std::vector<EventRecord>& events) {
  nlohmann::json evs = nlohmann::json::array();
  nlohmann::json rows = nlohmann::json::array();
  for (size_t n = 0; n < events.size(); ++n) {
    const EventRecord& e = events[n];
    evs.push_back({{"n", n}, {"event", pg_text(e.event)}, {"at_ms", to_unix_ms(e.at)}});
    for (const OutboxRow& r : e.notifications) {
      nlohmann::json row = outbox_row_json(r);
      row["n"] = n;
      rows.push_back(std::move(row));
    }
  }
  return {evs.dump(), rows.dump()};
}

// After a CTE `incident` that returns the id of the incident written (none when nothing was):
// its events and their outbox rows. {0} the events' parameter, {1} the rows', {2} the node's,
// {3} the shard's. An event's id is taken from the sequence first, so that its rows can name it;
// the foreign keys are checked at the end of the statement, when all three are written. A row
// is due at once by the server's clock; grouping and quiet hours are the dispatcher's.
constexpr const char* kEventsAndOutbox = R"sql(, events AS MATERIALIZED (
  SELECT e.n, nextval(pg_get_serial_sequence('incident_events', 'id')) AS id, e.event, e.at_ms
  FROM incident, jsonb_to_recordset(${0}::jsonb) AS e(n int, event text, at_ms bigint)
), event_rows AS (
  INSERT INTO incident_events (id, incident_id, event, at, node)
  SELECT events.id, incident.id, events.event,
    'epoch'::timestamptz + events.at_ms * interval '1 millisecond', ${2}
  FROM events, incident
  RETURNING id
), notes AS (
  INSERT INTO outbox (id, event_id, incident_id, event, channel, route, recipient, payload,
    audience, created, due, shard)
  SELECT o.id, events.id, incident.id, o.event, o.channel, o.route, o.recipient, o.payload,
    o.audience, 'epoch'::timestamptz + o.created_ms * interval '1 millisecond', clock_timestamp(),
    ${3}::smallint
  FROM incident, jsonb_to_recordset(${1}::jsonb) AS o(n int, {4})
  JOIN events ON events.n = o.n
  WHERE {5}
  RETURNING 1
))sql";

// ON CONFLICT on the partial index: a second opening for a monitor with an open incident, also
// one that commits while this statement waits for it, inserts nothing and raises no error, so
// the statement's other parts still answer. The last column reads the table as it was when the
// statement began: the incident that was open then.
constexpr const char* kOpen = R"sql(WITH {}, incident AS (
  INSERT INTO incidents (id, monitor, grp, type, state, cause, started_at, acknowledged_at,
    acknowledged_by, flapping, flap_notified, fired, next_reminder, shard)
  SELECT $1::bigint, $2, $3, $4, $5, $6,
    'epoch'::timestamptz + $7::bigint * interval '1 millisecond',
    'epoch'::timestamptz + $8::bigint * interval '1 millisecond',
    $9, $10::boolean, $11::boolean, $12::text[],
    'epoch'::timestamptz + $13::bigint * interval '1 millisecond', $14::smallint
  FROM fence
  ON CONFLICT (monitor) WHERE resolved_at IS NULL DO NOTHING
  RETURNING id
){}
SELECT (SELECT count(*) FROM fence) > 0, (SELECT count(*) FROM incident) > 0,
  (SELECT count(*) FROM notes),
  (SELECT id FROM incidents WHERE monitor = $2 AND resolved_at IS NULL))sql";

// Only an open incident changes: once resolved, an incident is history.
constexpr const char* kUpdate = R"sql(WITH {}, incident AS (
  UPDATE incidents SET state = $3, cause = $4,
    resolved_at = 'epoch'::timestamptz + $5::bigint * interval '1 millisecond',
    acknowledged_at = 'epoch'::timestamptz + $6::bigint * interval '1 millisecond',
    acknowledged_by = $7, flapping = $8::boolean, flap_notified = $9::boolean,
    fired = $10::text[],
    next_reminder = 'epoch'::timestamptz + $11::bigint * interval '1 millisecond'
  WHERE id = $1::bigint AND monitor = $2 AND resolved_at IS NULL AND EXISTS (SELECT FROM fence)
  RETURNING id
){}
SELECT (SELECT count(*) FROM fence) > 0, (SELECT count(*) FROM incident) > 0,
  (SELECT count(*) FROM notes))sql";

// A monitor_states row written through `fence`, its parameters from ${0} on (state_params()).
constexpr const char* kStateUpsert = R"sql(INSERT INTO monitor_states (monitor, state, since,
    recent, last_check, last_outcome, last_latency_us, last_cause, shard, decided_by, decided_at)
  SELECT ${0}, ${1}, 'epoch'::timestamptz + ${2}::bigint * interval '1 millisecond', ${3},
    'epoch'::timestamptz + ${4}::bigint * interval '1 millisecond', ${5}::smallint, ${6}::bigint,
    ${7}, ${8}::smallint, ${9}, clock_timestamp()
  FROM fence
  ON CONFLICT (monitor) DO UPDATE SET state = excluded.state, since = excluded.since,
    recent = excluded.recent, last_check = excluded.last_check,
    last_outcome = excluded.last_outcome, last_latency_us = excluded.last_latency_us,
    last_cause = excluded.last_cause, shard = excluded.shard, decided_by = excluded.decided_by,
    decided_at = excluded.decided_at, xact = pg_current_xact_id()
  RETURNING 1)sql";

constexpr const char* kPutState = R"sql(WITH {}, state AS (
  {}
)
SELECT (SELECT count(*) FROM fence) > 0, (SELECT count(*) FROM state))sql";

// `mine`: the node's eval leases that hold under the epochs it names with more than the claim's
// time left, locked FOR SHARE in name order like every statement that locks several leases, so
// none changes hands before the claim has committed. `due`: the rows to claim, locked; a row
// another claimer has locked is skipped, and a row claimed by a claim that committed meanwhile
// fails the recheck of its newest version, so two claimers never both take one. LockRows sits
// below LIMIT, so a skipped row does not count towards it.
constexpr const char* kClaim = R"sql(WITH mine AS MATERIALIZED (
  SELECT h.shard, l.epoch,
    floor(extract(epoch FROM l.expires_at - clock_timestamp()) * 1000)::bigint AS remaining_ms
  FROM unnest($2::text[], $3::int[], $4::bigint[]) AS h(name, shard, epoch)
  JOIN leases l ON l.name = h.name AND l.epoch = h.epoch
  WHERE l.holder = $1
    AND l.expires_at > clock_timestamp() + $5::bigint * interval '1 millisecond'
  ORDER BY l.name
  FOR SHARE OF l
), due AS MATERIALIZED (
  SELECT o.id, mine.epoch, mine.remaining_ms
  FROM outbox o JOIN mine ON o.shard = mine.shard
  WHERE o.status IN ('pending', 'sending')
    AND ((o.status = 'pending' AND o.due <= clock_timestamp())
      OR (o.status = 'sending' AND o.claim_until <= clock_timestamp()))
  ORDER BY (o.audience = 'subscriber'), o.due, o.id
  LIMIT $6::int
  FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o SET status = 'sending', claimed_by = $1, claim_epoch = due.epoch,
  claim_until = clock_timestamp() + $5::bigint * interval '1 millisecond'
FROM due WHERE o.id = due.id
RETURNING o.id, o.incident_id, o.event, o.channel, o.route, o.recipient, o.payload, o.audience,
  floor(extract(epoch FROM o.created) * 1000)::bigint, o.attempts,
  floor(extract(epoch FROM o.due) * 1000)::bigint, o.shard, due.epoch, due.remaining_ms)sql";

// The claim's end is cleared; who sent the row stays.
constexpr const char* kReport = R"sql(UPDATE outbox SET status = $4, attempts = $5::int,
  due = CASE WHEN $4 = 'pending' THEN clock_timestamp() + $6::bigint * interval '1 millisecond'
        ELSE due END,
  last_error = $7, sent_at = 'epoch'::timestamptz + $8::bigint * interval '1 millisecond',
  claim_until = NULL
WHERE id = $1 AND status = 'sending' AND claimed_by = $2 AND claim_epoch = $3::bigint
RETURNING 1)sql";

constexpr const char* kOpenIncidents = R"sql(SELECT id, monitor, grp, type, state, cause,
  floor(extract(epoch FROM started_at) * 1000)::bigint,
  floor(extract(epoch FROM acknowledged_at) * 1000)::bigint, acknowledged_by, flapping,
  flap_notified, to_json(fired)::text, floor(extract(epoch FROM next_reminder) * 1000)::bigint
FROM incidents WHERE resolved_at IS NULL AND shard = ANY($1::smallint[]) ORDER BY id)sql";

constexpr const char* kStates = R"sql(SELECT monitor, state,
  floor(extract(epoch FROM since) * 1000)::bigint, recent,
  floor(extract(epoch FROM last_check) * 1000)::bigint, last_outcome, last_latency_us, last_cause
FROM monitor_states WHERE shard = ANY($1::smallint[]) ORDER BY monitor)sql";

constexpr const char* kLocationStates = R"sql(SELECT monitor, location, state,
  floor(extract(epoch FROM since) * 1000)::bigint,
  floor(extract(epoch FROM last_check) * 1000)::bigint, latency_us, cause
FROM location_states WHERE shard = ANY($1::smallint[]) ORDER BY monitor, location)sql";

constexpr const char* kUnsent = R"sql(SELECT id, incident_id, event, channel, route, recipient,
  payload, audience, floor(extract(epoch FROM created) * 1000)::bigint, attempts,
  floor(extract(epoch FROM due) * 1000)::bigint
FROM outbox WHERE status IN ('pending', 'sending') AND shard = ANY($1::smallint[])
ORDER BY due, id)sql";

// Each report joins the probe lease of its shard in the writer's location, held by the writer
// under the report's epoch and locked FOR SHARE, in name order as every statement that locks
// several leases: a report without its lease is not written.
constexpr const char* kReportLocations = R"sql(WITH r AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb) AS r(monitor text, state text, since_ms bigint,
    recent text, last_check_ms bigint, latency_us bigint, cause text, shard int, lease text,
    epoch bigint)
), held AS MATERIALIZED (
  SELECT l.name, l.epoch FROM leases l
  WHERE l.name IN (SELECT lease FROM r) AND l.holder = $1 AND l.expires_at > clock_timestamp()
  ORDER BY l.name FOR SHARE OF l
)
INSERT INTO location_states AS k (monitor, location, state, since, recent, last_check,
  latency_us, cause, shard, epoch, reported_at, reported_by)
SELECT r.monitor, $2, r.state, 'epoch'::timestamptz + r.since_ms * interval '1 millisecond',
  r.recent, 'epoch'::timestamptz + r.last_check_ms * interval '1 millisecond', r.latency_us,
  r.cause, r.shard, r.epoch, clock_timestamp(), $1
FROM r JOIN held ON held.name = r.lease AND held.epoch = r.epoch
ON CONFLICT (monitor, location) DO UPDATE SET state = excluded.state, since = excluded.since,
  recent = excluded.recent, last_check = excluded.last_check, latency_us = excluded.latency_us,
  cause = excluded.cause, shard = excluded.shard, epoch = excluded.epoch,
  reported_at = excluded.reported_at, reported_by = excluded.reported_by,
  xact = pg_current_xact_id()
WHERE k.epoch < excluded.epoch
  OR (k.epoch = excluded.epoch AND (k.last_check IS NULL OR k.last_check <= excluded.last_check))
RETURNING monitor)sql";

constexpr const char* kLocationReports = R"sql(SELECT monitor, location, state,
  floor(extract(epoch FROM since) * 1000)::bigint,
  floor(extract(epoch FROM last_check) * 1000)::bigint, latency_us, cause, recent,
  floor(extract(epoch FROM clock_timestamp() - reported_at) * 1000)::bigint
FROM location_states WHERE shard = ANY($1::smallint[])
  AND reported_at > clock_timestamp() - $2::bigint * interval '1 millisecond'
ORDER BY monitor, location)sql";

// The LEFT JOIN gives one row also when no report matched (its own columns NULL), so the xmin
// comes back in any case.
constexpr const char* kLocationReportsSince = R"sql(WITH s AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
)
SELECT s.xmin, r.monitor, r.location, r.state, floor(extract(epoch FROM r.since) * 1000)::bigint,
  floor(extract(epoch FROM r.last_check) * 1000)::bigint, r.latency_us, r.cause, r.recent,
  floor(extract(epoch FROM clock_timestamp() - r.reported_at) * 1000)::bigint
FROM s LEFT JOIN location_states r ON r.xact >= $2::xid8 AND r.shard = ANY($1::smallint[])
  AND r.reported_at > clock_timestamp() - $3::bigint * interval '1 millisecond')sql";

using Row = std::vector<std::optional<std::string>>;

std::optional<bool> answer_bool(const std::optional<std::string>& v) {
  if (v == "t") return true;
  if (v == "f") return false;
  return std::nullopt;
}

// A column that may be NULL: nullopt inside when it is, nullopt outside when it is not a number.
std::optional<std::optional<int64_t>> answer_opt_int(const std::optional<std::string>& v) {
  if (!v) return std::optional<int64_t>();
  const auto n = pg_int(v);
  if (!n) return std::nullopt;
  return n;
}

// The answer's rows, each of `columns` values; nullopt when it failed or is in another shape.
const std::vector<Row>* rows_of(const PgResult& answer, size_t columns) {
  if (!answer.ok()) return nullptr;
  for (const Row& row : answer.rows) {
    if (row.size() != columns) return nullptr;
  }
  return &answer.rows;
}

// The first seven columns of a location's row: monitor, location, state, since, last check,
// latency, cause.
std::optional<LocationStateRow> location_state_of(const Row& row) {
  const auto since = pg_int(row[3]);
  const auto last_check = answer_opt_int(row[4]);
  const auto latency = answer_opt_int(row[5]);
  if (!row[0] || !row[1] || !row[2] || !since || !last_check || !latency) return std::nullopt;
  return LocationStateRow{
      *row[0], *row[1], *row[2], *since, *last_check, *latency, row[6].value_or("")};
}

// An outbox row from columns id, incident_id, event, channel, route, recipient, payload,
// audience, created, attempts, due (the first 11 of `row`).
std::optional<PendingOutbox> outbox_from(const Row& row) {
  if (!row[0] || !row[2] || !row[3] || !row[4] || !row[5] || !row[7]) return std::nullopt;
  const auto incident = pg_int(row[1]);
  const auto created = pg_int(row[8]);
  const auto attempts = pg_int(row[9]);
  const auto due = pg_int(row[10]);
  if (!incident || !created || !attempts || !due) return std::nullopt;
  if (*row[7] != "oncall" && *row[7] != "subscriber") return std::nullopt;
  PendingOutbox out;
  out.row.id = *row[0];
  out.row.incident_id = *incident;
  out.row.event = *row[2];
  out.row.channel = *row[3];
  out.row.route = *row[4];
  out.row.recipient = *row[5];
  out.row.payload = row[6].value_or("");
  out.row.audience = *row[7] == "subscriber" ? Audience::kSubscriber : Audience::kOnCall;
  out.row.created = from_unix_ms(*created);
  out.attempts = static_cast<int>(*attempts);
  out.due_ms = *due;
  return out;
}

}  // namespace

std::string PgDecisions::outbox_json(const std::vector<OutboxRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const OutboxRow& r : rows) out.push_back(outbox_row_json(r));
  return out.dump();
}

std::string PgDecisions::outbox_insert(std::string_view from, int rows, int shard,
                                       bool live_recipients) {
  return fmt::format(
      "INSERT INTO outbox (id, incident_id, event, channel, route, recipient, payload, "
      "audience, created, due, shard)\n"
      "  SELECT o.id, 0, o.event, o.channel, o.route, o.recipient, o.payload, o.audience,\n"
      "    'epoch'::timestamptz + o.created_ms * interval '1 millisecond', clock_timestamp(),\n"
      "    ${}::smallint\n"
      "  FROM {}, jsonb_to_recordset(${}::jsonb) AS o({})\n"
      "  WHERE {}\n"
      "  RETURNING 1",
      shard, from, rows, kPgOutboxRecord, live_recipients ? kLiveRecipient : "true");
}

PgStatement PgDecisions::reserve_incident_ids(int count) {
  return {"SELECT nextval(pg_get_serial_sequence('incidents', 'id')) FROM generate_series(1, $1)",
          {std::to_string(count)}};
}

std::optional<std::vector<int64_t>> PgDecisions::reserved_ids(const PgResult& answer) {
  const auto* rows = rows_of(answer, 1);
  if (rows == nullptr) return std::nullopt;
  std::vector<int64_t> out;
  for (const Row& row : *rows) {
    const auto id = pg_int(row[0]);
    if (!id) return std::nullopt;
    out.push_back(*id);
  }
  return out;
}

PgStatement PgDecisions::open_incident(const LeaseFence& fence, const IncidentRecord& incident,
                                       const std::vector<EventRecord>& events) {
  auto [evs, rows] = events_json(events);
  PgStatement out{
      "",
      {std::to_string(incident.id), incident.monitor, pg_text(incident.group), incident.type,
       to_string(incident.state), pg_text(incident.cause),
       std::to_string(to_unix_ms(incident.started_at)), ms_param(incident.acknowledged_at),
       text_or_null(incident.acknowledged_by), incident.flapping ? "true" : "false",
       incident.flap_notified ? "true" : "false", pg_text_array(incident.fired),
       ms_param(incident.next_reminder), std::to_string(shard_of(incident.monitor)), std::move(evs),
       std::move(rows), fence.holder}};
  const std::string cte = LeaseRegistry::fence_cte(fence, out.params);
  out.sql = fmt::format(
      kOpen, cte, fmt::format(kEventsAndOutbox, 15, 16, 17, 14, kPgOutboxRecord, kLiveRecipient));
  return out;
}

std::optional<IncidentOpening> PgDecisions::opening(const PgResult& answer) {
  const auto* rows = rows_of(answer, 4);
  if (rows == nullptr || rows->size() != 1) return std::nullopt;
  const Row& row = rows->front();
  const auto held = answer_bool(row[0]);
  const auto opened = answer_bool(row[1]);
  const auto notifications = pg_int(row[2]);
  const auto open_id = answer_opt_int(row[3]);
  if (!held || !opened || !notifications || !open_id) return std::nullopt;
  IncidentOpening out{*held, *opened, std::nullopt, *notifications};
  // Read before the statement, the open incident is another one only when this one did not open.
  if (!*opened) out.open_id = *open_id;
  return out;
}

PgStatement PgDecisions::update_incident(const LeaseFence& fence, const IncidentRecord& incident,
                                         const std::vector<EventRecord>& events) {
  auto [evs, rows] = events_json(events);
  PgStatement out{"",
                  {std::to_string(incident.id), incident.monitor, to_string(incident.state),
                   pg_text(incident.cause), ms_param(incident.resolved_at),
                   ms_param(incident.acknowledged_at), text_or_null(incident.acknowledged_by),
                   incident.flapping ? "true" : "false", incident.flap_notified ? "true" : "false",
                   pg_text_array(incident.fired), ms_param(incident.next_reminder), std::move(evs),
                   std::move(rows), fence.holder, std::to_string(shard_of(incident.monitor))}};
  const std::string cte = LeaseRegistry::fence_cte(fence, out.params);
  out.sql = fmt::format(
      kUpdate, cte, fmt::format(kEventsAndOutbox, 12, 13, 14, 15, kPgOutboxRecord, kLiveRecipient));
  return out;
}

std::optional<IncidentUpdate> PgDecisions::update(const PgResult& answer) {
  const auto* rows = rows_of(answer, 3);
  if (rows == nullptr || rows->size() != 1) return std::nullopt;
  const Row& row = rows->front();
  const auto held = answer_bool(row[0]);
  const auto updated = answer_bool(row[1]);
  const auto notifications = pg_int(row[2]);
  if (!held || !updated || !notifications) return std::nullopt;
  return IncidentUpdate{*held, *updated, *notifications};
}

std::string PgDecisions::state_upsert(size_t first) {
  return fmt::format(kStateUpsert, first, first + 1, first + 2, first + 3, first + 4, first + 5,
                     first + 6, first + 7, first + 8, first + 9);
}

PgParams PgDecisions::state_params(const StateRow& state, const std::string& holder) {
  return {state.monitor,
          state.state,
          std::to_string(state.since_ms),
          pg_text(state.recent),
          int_param(state.last_check_ms),
          state.last_outcome ? std::optional(std::to_string(static_cast<int>(*state.last_outcome)))
                             : std::nullopt,
          int_param(state.last_latency_us),
          text_or_null(state.last_cause),
          std::to_string(shard_of(state.monitor)),
          holder};
}

PgStatement PgDecisions::put_state(const LeaseFence& fence, const StateRow& state) {
  PgStatement out{"", state_params(state, fence.holder)};
  const std::string cte = LeaseRegistry::fence_cte(fence, out.params);
  out.sql = fmt::format(kPutState, cte, state_upsert(1));
  return out;
}

PgStatement PgDecisions::claim(const std::string& node,
                               const std::vector<std::pair<int, int64_t>>& held, Duration claim_for,
                               int limit) {
  std::vector<std::string> names;
  std::vector<int> shards;
  std::vector<int64_t> epochs;
  for (const auto& shard_epoch : held) {
    names.push_back(LeaseSpace::evaluation().lease(shard_epoch.first));
    shards.push_back(shard_epoch.first);
    epochs.push_back(shard_epoch.second);
  }
  return {kClaim,
          {node, pg_text_array(names), pg_int_array(shards), pg_int_array(epochs),
           std::to_string(claim_for.count()), std::to_string(limit)}};
}

std::optional<std::vector<ClaimedOutbox>> PgDecisions::claimed(const PgResult& answer) {
  const auto* rows = rows_of(answer, 14);
  if (rows == nullptr) return std::nullopt;
  std::vector<ClaimedOutbox> out;
  for (const Row& row : *rows) {
    auto pending = outbox_from(row);
    const auto shard = pg_int(row[11]);
    const auto epoch = pg_int(row[12]);
    const auto remaining = pg_int(row[13]);
    if (!pending || !shard || !epoch || !remaining) return std::nullopt;
    out.push_back(ClaimedOutbox{std::move(*pending), static_cast<int>(*shard), *epoch, *remaining});
  }
  std::sort(out.begin(), out.end(), [](const ClaimedOutbox& a, const ClaimedOutbox& b) {
    return std::tie(a.pending.due_ms, a.pending.row.id) <
           std::tie(b.pending.due_ms, b.pending.row.id);
  });
  return out;
}

PgStatement PgDecisions::report_delivery(const std::string& node, int64_t claim_epoch,
                                         const DeliveryUpdate& u, int64_t now_ms) {
  return {kReport,
          {u.id, node, std::to_string(claim_epoch), u.status, std::to_string(u.attempts),
           std::to_string(std::max<int64_t>(0, u.due_ms - now_ms)), text_or_null(u.last_error),
           int_param(u.sent_ms)}};
}

std::optional<bool> PgDecisions::reported(const PgResult& answer) {
  const auto* rows = rows_of(answer, 1);
  if (rows == nullptr || rows->size() > 1) return std::nullopt;
  return rows->size() == 1;
}

PgStatement PgDecisions::open_incidents(const std::vector<int>& shards) {
  return {kOpenIncidents, {pg_int_array(shards)}};
}

std::optional<std::vector<IncidentRecord>> PgDecisions::incidents(const PgResult& answer) {
  const auto* rows = rows_of(answer, 13);
  if (rows == nullptr) return std::nullopt;
  std::vector<IncidentRecord> out;
  for (const Row& row : *rows) {
    const auto id = pg_int(row[0]);
    const auto started = pg_int(row[6]);
    const auto acknowledged = answer_opt_int(row[7]);
    const auto flapping = answer_bool(row[9]);
    const auto flap_notified = answer_bool(row[10]);
    const auto reminder = answer_opt_int(row[12]);
    if (!id || !row[1] || !row[2] || !row[3] || !row[4] || !row[5] || !started || !acknowledged ||
        !flapping || !flap_notified || !row[11] || !reminder) {
      return std::nullopt;
    }
    const auto state = state_from_string(*row[4]);
    const auto fired = nlohmann::json::parse(*row[11], nullptr, false);
    if (!state || !fired.is_array()) return std::nullopt;
    IncidentRecord i;
    i.id = *id;
    i.monitor = *row[1];
    i.group = *row[2];
    i.type = *row[3];
    i.state = *state;
    i.cause = *row[5];
    i.started_at = from_unix_ms(*started);
    if (*acknowledged) i.acknowledged_at = from_unix_ms(**acknowledged);
    i.acknowledged_by = row[8].value_or("");
    i.flapping = *flapping;
    i.flap_notified = *flap_notified;
    for (const auto& f : fired) {
      if (!f.is_string()) return std::nullopt;
      i.fired.push_back(f.get<std::string>());
    }
    if (*reminder) i.next_reminder = from_unix_ms(**reminder);
    out.push_back(std::move(i));
  }
  return out;
}

PgStatement PgDecisions::states(const std::vector<int>& shards) {
  return {kStates, {pg_int_array(shards)}};
}

std::optional<std::vector<StateRow>> PgDecisions::state_rows(const PgResult& answer) {
  const auto* rows = rows_of(answer, 8);
  if (rows == nullptr) return std::nullopt;
  std::vector<StateRow> out;
  for (const Row& row : *rows) {
    const auto since = pg_int(row[2]);
    const auto last_check = answer_opt_int(row[4]);
    const auto outcome = answer_opt_int(row[5]);
    const auto latency = answer_opt_int(row[6]);
    if (!row[0] || !row[1] || !since || !row[3] || !last_check || !outcome || !latency) {
      return std::nullopt;
    }
    if (*outcome && (**outcome < 0 || **outcome > static_cast<int64_t>(Outcome::kDown))) {
      return std::nullopt;
    }
    StateRow s;
    s.monitor = *row[0];
    s.state = *row[1];
    s.since_ms = *since;
    s.recent = *row[3];
    s.last_check_ms = *last_check;
    if (*outcome) s.last_outcome = static_cast<Outcome>(**outcome);
    s.last_latency_us = *latency;
    s.last_cause = row[7].value_or("");
    out.push_back(std::move(s));
  }
  return out;
}

PgStatement PgDecisions::location_states(const std::vector<int>& shards) {
  return {kLocationStates, {pg_int_array(shards)}};
}

std::optional<std::vector<LocationStateRow>> PgDecisions::location_rows(const PgResult& answer) {
  const auto* rows = rows_of(answer, 7);
  if (rows == nullptr) return std::nullopt;
  std::vector<LocationStateRow> out;
  for (const Row& row : *rows) {
    auto state = location_state_of(row);
    if (!state) return std::nullopt;
    out.push_back(std::move(*state));
  }
  return out;
}

PgStatement PgDecisions::unsent_outbox(const std::vector<int>& shards) {
  return {kUnsent, {pg_int_array(shards)}};
}

std::optional<std::vector<PendingOutbox>> PgDecisions::outbox_rows(const PgResult& answer) {
  const auto* rows = rows_of(answer, 11);
  if (rows == nullptr) return std::nullopt;
  std::vector<PendingOutbox> out;
  for (const Row& row : *rows) {
    auto pending = outbox_from(row);
    if (!pending) return std::nullopt;
    out.push_back(std::move(*pending));
  }
  return out;
}

PgStatement PgDecisions::report_locations(const std::string& node, const std::string& location,
                                          const std::vector<LocationReportRow>& reports) {
  const LeaseSpace probe = LeaseSpace::probing(location);
  nlohmann::json rows = nlohmann::json::array();
  for (const LocationReportRow& r : reports) {
    const int shard = shard_of(r.state.monitor);
    rows.push_back({{"monitor", pg_text(r.state.monitor)},
                    {"state", r.state.state},
                    {"since_ms", r.state.since_ms},
                    {"recent", r.recent},
                    {"last_check_ms", json_int_or_null(r.state.last_check_ms)},
                    {"latency_us", json_int_or_null(r.state.latency_us)},
                    {"cause", json_text_or_null(r.state.cause)},
                    {"shard", shard},
                    {"lease", probe.lease(shard)},
                    {"epoch", r.epoch}});
  }
  return {kReportLocations, {node, location, rows.dump()}};
}

std::optional<std::vector<std::string>> PgDecisions::reported_monitors(const PgResult& answer) {
  const auto* rows = rows_of(answer, 1);
  if (rows == nullptr) return std::nullopt;
  std::vector<std::string> out;
  for (const Row& row : *rows) {
    if (!row[0]) return std::nullopt;
    out.push_back(*row[0]);
  }
  return out;
}

PgStatement PgDecisions::location_reports_since(const std::vector<int>& shards,
                                                const std::string& since, Duration within) {
  return {kLocationReportsSince, {pg_int_array(shards), since, std::to_string(within.count())}};
}

std::optional<PgDecisions::ReportsSince> PgDecisions::reports_since(const PgResult& answer) {
  if (!answer.ok() || answer.rows.empty() || answer.rows.front().empty() ||
      !answer.rows.front().front()) {
    return std::nullopt;
  }
  PgResult own;
  for (const Row& row : answer.rows) {
    if (row.size() < 2) return std::nullopt;
    if (row[1]) own.rows.emplace_back(row.begin() + 1, row.end());
  }
  auto rows = report_rows(own);
  if (!rows) return std::nullopt;
  return ReportsSince{*answer.rows.front().front(), std::move(*rows)};
}

PgStatement PgDecisions::location_reports(const std::vector<int>& shards, Duration within) {
  return {kLocationReports, {pg_int_array(shards), std::to_string(within.count())}};
}

std::optional<std::vector<LocationReportRow>> PgDecisions::report_rows(const PgResult& answer) {
  const auto* rows = rows_of(answer, 9);
  if (rows == nullptr) return std::nullopt;
  std::vector<LocationReportRow> out;
  for (const Row& row : *rows) {
    auto state = location_state_of(row);
    const auto age = pg_int(row[8]);
    if (!state || !row[7] || !age) return std::nullopt;
    out.push_back({std::move(*state), *row[7], 0, *age});
  }
  return out;
}

}  // namespace lookout
