// The decisions of cluster mode as statements and answers: a monitor's state and its locations'
// states, its incidents with their events, and the notifications of those events in the outbox,
// all in PostgreSQL so that the node taking over a shard carries on from what was decided, and
// every incident pages once. Pure, like LeaseRegistry: the caller runs the statements on its
// connection.
//
// Every decision is written through the fence of the eval lease of its monitor's shard
// (LeaseRegistry): a node that lost the lease, or holds it under an older epoch, writes nothing.
// An incident opens with its events and their outbox rows in one statement, and at most one is
// open per monitor in the whole cluster (a partial unique index). Outbox rows are claimed by the
// node that holds their shard's eval lease, for a while shorter than what is left of that lease;
// a row whose claim ran out (its node died while sending) is claimed again with the same id, so
// a notification sent twice after a takeover carries one id, and none is lost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/records.h"
#include "store/storage.h"

namespace lookout {

// One location's view of a monitor, as /api/v1/status shows it under `locations`.
struct LocationStateRow {
  std::string monitor, location;
  std::string state;
  int64_t since_ms = 0;
  std::optional<int64_t> last_check_ms;
  std::optional<int64_t> latency_us;
  std::string cause;
  bool operator==(const LocationStateRow&) const = default;
};

// A location's report of a monitor (alerting/location_judge.h) as the node probing the monitor
// from there writes it, and as the deciding node reads it.
struct LocationReportRow {
  LocationStateRow state;
  std::string recent;  // the location's latest runs, so that a takeover carries on the streak
  int64_t epoch = 0;   // written: of the probe lease of the monitor's shard the writer holds
  int64_t age_ms = 0;  // read: how long ago the database wrote it, by the server's clock
};

// The answer to open_incident().
struct IncidentOpening {
  bool held = false;    // the lease held; false: nothing was written
  bool opened = false;  // the incident, its events and their outbox rows are written
  // When not opened under a held lease: the incident already open for the monitor, as the
  // statement found it (nullopt when it was opened by a statement that committed meanwhile).
  std::optional<int64_t> open_id;
  int64_t notifications = 0;  // outbox rows written
};

// The answer to update_incident().
struct IncidentUpdate {
  bool held = false;
  bool updated = false;  // false: the incident is not open (resolved meanwhile), nothing written
  int64_t notifications = 0;
};

// An outbox row given to this node to send.
struct ClaimedOutbox {
  PendingOutbox pending;  // the row, its attempts so far and its due time
  int shard = 0;
  int64_t claim_epoch = 0;         // report_delivery() names it
  int64_t lease_remaining_ms = 0;  // of the shard's eval lease when claimed, by the server's clock
};

class PgDecisions {
 public:
  // Notifications as a statement's jsonb parameter, one record a row.
  static std::string outbox_json(const std::vector<OutboxRow>& rows);
  // An INSERT of the notifications in parameter $`rows` (outbox_json) that are about no incident
  // (a post's, a subscriber's confirmation), due at once in the outbox's shard $`shard`, one set
  // for each row of `from` (a CTE that wrote what they are about: none, nothing is inserted),
  // RETURNING 1 for each. With `live_recipients`, a subscriber's mail goes in only while its
  // address is subscribed (an incident's and a post's mails are made from a node's book, which
  // may be a second behind; a confirmation mail's row is written by the same statement).
  static std::string outbox_insert(std::string_view from, int rows, int shard,
                                   bool live_recipients);

  // Incident ids from the incidents table's sequence. The alert engine numbers an incident
  // before it is written (its notifications' payloads and acknowledgement links carry the id),
  // and the ids must be unique in the whole cluster: a node takes them from the database ahead
  // of time. An id that is never used leaves a gap, nothing else.
  static PgStatement reserve_incident_ids(int count);
  static std::optional<std::vector<int64_t>> reserved_ids(const PgResult& answer);

  // Opens `incident` (its id from reserve_incident_ids) with `events` and their notifications
  // in one statement. Nothing is written when the fence does not hold, or when the monitor has
  // an open incident already (the answer says which). `fence` is the eval lease of the
  // monitor's shard.
  static PgStatement open_incident(const LeaseFence& fence, const IncidentRecord& incident,
                                   const std::vector<EventRecord>& events);
  static std::optional<IncidentOpening> opening(const PgResult& answer);

  // An open incident as it now is (escalated, acknowledged, flapping, resolved: resolved_at
  // set), with `events` (none is fine) and their notifications. Nothing is written when the
  // fence does not hold or the incident is no longer open.
  static PgStatement update_incident(const LeaseFence& fence, const IncidentRecord& incident,
                                     const std::vector<EventRecord>& events);
  static std::optional<IncidentUpdate> update(const PgResult& answer);

  // The monitor's state, upserted; decided_by is the fence's holder. Its locations' states are
  // their probing nodes' reports (report_locations), not the decider's to write. Read the answer
  // with LeaseRegistry::fence_outcome.
  static PgStatement put_state(const LeaseFence& fence, const StateRow& state);
  // The same upsert for a statement that writes the state beside other things: an INSERT
  // through the CTE `fence` returning 1, whose ten parameters, from $first on, are
  // state_params().
  static std::string state_upsert(size_t first);
  static PgParams state_params(const StateRow& state, const std::string& holder);

  // Up to `limit` outbox rows for `node` to send, of the shards whose eval leases it holds under
  // the epochs in `held` (shard, epoch), on-call rows before subscribers' mails (a fan-out to
  // thousands must not hold a page back), due ones first: rows pending and due, and rows another
  // claim left sending past its end (a node that died while sending). Each is marked sending,
  // claimed by this node under its lease's epoch until `claim_for` from the server's clock. Only
  // shards whose lease has more than `claim_for` left are claimed from: a claim ends before the
  // lease does, so once another node holds the lease every claim of the old holder has run out
  // and its rows are claimed again, with the same ids. Rows another claimer has locked are
  // skipped, so concurrent claimers never get one row both.
  static PgStatement claim(const std::string& node,
                           const std::vector<std::pair<int, int64_t>>& held, Duration claim_for,
                           int limit);
  static std::optional<std::vector<ClaimedOutbox>> claimed(const PgResult& answer);

  // The dispatcher's word on a row it claimed: sent, failed, gave_up, or pending again (retry at
  // u.due_ms, which is on the node's clock: the row is due that long after `now_ms` by the
  // server's). Written only while the row is still sending under this node's claim and epoch:
  // a node whose claim ran out and whose row another node claimed writes nothing.
  static PgStatement report_delivery(const std::string& node, int64_t claim_epoch,
                                     const DeliveryUpdate& u, int64_t now_ms);
  // Whether the report was written; nullopt when the statement failed.
  static std::optional<bool> reported(const PgResult& answer);

  // What a node reads when it takes shards over: their open incidents, states, locations'
  // states, and outbox rows not sent yet (pending or sending).
  static PgStatement open_incidents(const std::vector<int>& shards);
  static std::optional<std::vector<IncidentRecord>> incidents(const PgResult& answer);
  static PgStatement states(const std::vector<int>& shards);
  static std::optional<std::vector<StateRow>> state_rows(const PgResult& answer);
  static PgStatement location_states(const std::vector<int>& shards);
  static std::optional<std::vector<LocationStateRow>> location_rows(const PgResult& answer);
  static PgStatement unsent_outbox(const std::vector<int>& shards);

  // The reports of `node`'s location, each written only while `node` holds the probe lease of
  // its monitor's shard in that location under the report's epoch (so a node paused past its
  // lease writes nothing over the node that took the monitor), and only over a report written
  // under an older epoch, or under the same one about an older run: run times are compared only
  // between runs of one tenure, on one node's clock. reported_at is
  // the server's clock_timestamp(). The answer lists the monitors written.
  static PgStatement report_locations(const std::string& node, const std::string& location,
                                      const std::vector<LocationReportRow>& reports);
  static std::optional<std::vector<std::string>> reported_monitors(const PgResult& answer);
  // The reports of the monitors of `shards` written in the last `within` by the server's clock,
  // every location's, with their age: what the deciding node counts.
  static PgStatement location_reports(const std::vector<int>& shards, Duration within);
  static std::optional<std::vector<LocationReportRow>> report_rows(const PgResult& answer);
  // As location_reports(), only those written by transactions whose id (xid8, as text) is at
  // least `since` ("0": all of them), each led by the xmin of the statement's snapshot: every
  // transaction below it had ended when the rows were read, so the next read asks for the rows
  // from there (docs/decisions.md: the page's picture read incrementally).
  static PgStatement location_reports_since(const std::vector<int>& shards,
                                            const std::string& since, Duration within);
  struct ReportsSince {
    std::string xmin;
    std::vector<LocationReportRow> rows;
  };
  static std::optional<ReportsSince> reports_since(const PgResult& answer);
  static std::optional<std::vector<PendingOutbox>> outbox_rows(const PgResult& answer);
};

}  // namespace lookout
