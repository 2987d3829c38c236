// What every node of a cluster shows on its page and API, read from PostgreSQL: each monitor's
// state as the node deciding it wrote it (monitor_states), each location's report, the open
// incidents, and which node holds each shard's eval lease now. Every `every` the reader sends
// its statements together and, once all have answered, hands the whole picture to a callback
// on the loop; one read at a time, so a slow database does not pile reads up. A location's
// report counts as fresh by its age on the server's clock, never by its run times: one older
// than freshness_bound shows `unknown`. While PostgreSQL is unreachable the callback gets the
// last picture read, with `ok` false and why.
//
// A read takes only the rows written since the one before (docs/decisions.md): each row
// carries the id of the transaction that wrote it (xid8), and a read asks for the rows whose
// id is at least the oldest transaction still running at the read before (pg_snapshot_xmin of
// that statement's snapshot), so a row whose transaction committed after a later one was read
// is read too, and a few are read twice. A closed incident is read as closed and leaves the
// picture. The whole picture is read at start, after a failed read, after the connection came
// back, and every kWholeEvery, which also drops rows deleted behind the reader's back.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/quorum.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/pg_decisions.h"
#include "store/records.h"

namespace lookout {

// One monitor as the cluster decided it.
struct ClusterMonitorStatus {
  State state = State::kUnknown;
  std::optional<WallTime> since;  // unset while unknown
  std::optional<WallTime> last_check;
  std::optional<Outcome> last_outcome;
  std::optional<int64_t> latency_us;
  std::string cause;
  std::optional<std::string> decided_by;  // the holder of its shard's eval lease now
  std::vector<LocationView> locations;    // every location that reported, alphabetical
};

struct ClusterStatus {
  bool ok = false;    // the last read answered whole
  std::string error;  // why it did not; empty when ok
  // Every configured monitor, by name, also one that nobody decided yet (unknown).
  std::map<std::string, ClusterMonitorStatus> monitors;
  std::vector<IncidentRecord> open_incidents;  // of configured monitors, by id
  // Each location that reported a configured monitor it runs, with when the database wrote its
  // newest report, on this node's clock: what tells a silent location (alerting/silent_watch.h).
  std::map<std::string, WallTime> heard;
};

// The answers of one read, parsed.
struct ClusterRead {
  std::vector<StateRow> states;
  std::vector<LocationReportRow> reports;  // with their age by the server's clock
  std::vector<IncidentRecord> open_incidents;
  std::vector<LeaseRow> eval_leases;  // held now
};

// The picture from one read, at `now` on this node's clock. Pure. Rows of monitors not in
// `monitors` are left out; so are reports from locations a monitor's `locations` does not name.
ClusterStatus cluster_status_of(const ClusterRead& read, const std::vector<MonitorConfig>& monitors,
                                Duration lease, WallTime now);

class ClusterStatusReader {
 public:
  using OnRead = std::function<void(const ClusterStatus&)>;

  // How often the whole picture is read even when no read failed.
  static constexpr Duration kWholeEvery{300'000};

  // `config` outlives the reader and has a [cluster]. `pg` is the reader's own connection: the
  // lease renewals of the node never wait behind a read, and the reader reads whole after each
  // connect (it sets the connection's on_connect). `on_read` gets each read's picture on the
  // loop, also after a failed read (the last one read, with ok false).
  ClusterStatusReader(EventLoop& loop, PgConnection& pg, const Clock& clock, const Config& config,
                      OnRead on_read, Duration every = Duration{1000});
  ~ClusterStatusReader();
  ClusterStatusReader(const ClusterStatusReader&) = delete;
  ClusterStatusReader& operator=(const ClusterStatusReader&) = delete;

  // Reads at once, then every `every`.
  void start();
  // No more reads; an answer still out is not handed on.
  void stop();
  // The last picture handed to on_read; not ok before the first read answered.
  const ClusterStatus& status() const { return status_; }
  // Rows the reads answered so far, and how many of the reads were whole.
  uint64_t rows_read() const { return rows_read_; }
  uint64_t whole_reads() const { return whole_reads_; }

  // Where each incremental part of a read starts: the xid8 (as text) below which every
  // transaction had ended when the part was read before; unset: read it whole.
  using Since = std::array<std::optional<std::string>, 3>;
  // The statements of one read: the monitors' states, the locations' reports and the incidents
  // (the open ones when whole, else every one written since, closed ones too), each led by its
  // snapshot's xmin, and the eval leases held now, whole each time (a few hundred rows).
  static std::vector<PgStatement> statements(const Since& since);

 private:
  // A location's report with when the server wrote it, on this node's clock.
  struct HeardReport {
    LocationReportRow row;
    WallTime heard;
  };

  void tick();
  void on_answer(size_t part, const PgResult& answer);
  // Takes the answers of a read into the rows kept; false, with why, when one does not parse.
  bool take(const std::vector<PgResult>& answers, bool whole, WallTime now, std::string& error);
  ClusterRead kept(WallTime now) const;

  PgConnection& pg_;
  const Clock& clock_;
  const Config& config_;
  OnRead on_read_;
  Duration every_;
  Timer timer_;
  bool stopped_ = false;
  size_t waiting_ = 0;  // answers still to come of the read out
  bool reading_whole_ = false;
  std::vector<PgResult> answers_;
  ClusterStatus status_;
  // What the reads so far say, by key; empty until the first whole read answered.
  Since since_;
  bool whole_next_ = true;
  MonoTime last_whole_{};
  std::map<std::string, StateRow> states_;
  std::map<std::pair<std::string, std::string>, HeardReport> reports_;  // monitor, location
  std::map<int64_t, IncidentRecord> incidents_;                         // open ones, by id
  std::vector<LeaseRow> leases_;
  uint64_t rows_read_ = 0;
  uint64_t whole_reads_ = 0;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterStatusReader*> self_;
};

}  // namespace lookout
