#include "store/pg_reads.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <tuple>

#include "store/lease_plan.h"
#include "store/pg_arrays.h"
#include "store/pg_rollup.h"
#include "store/rollup.h"

namespace lookout {
namespace {

// The columns of store/incident_queries.cc, in its order.
const std::string& incident_columns() {
  static const std::string columns = fmt::format(
      "SELECT id, monitor, grp, type, state, cause, {}, {}, {}, acknowledged_by, flapping "
      "FROM incidents ",
      pg_ms("started_at"), pg_ms("resolved_at"), pg_ms("acknowledged_at"));
  return columns;
}

// Each connection's settings. A read that hangs holds a web thread: ten seconds is far past
// any read these make. And what these connections run only reads.
constexpr const char* kSession =
    "SET statement_timeout = '10s'; SET default_transaction_read_only = on";

// Rows fetched per statement while list_incidents looks for `limit` rows that `keep` accepts.
constexpr int kIncidentPage = 500;

int64_t int_or_zero(const std::optional<std::string>& v) { return pg_int(v).value_or(0); }

std::string text_or_empty(const std::optional<std::string>& v) { return v.value_or(""); }

IncidentRecord incident_of(const std::vector<std::optional<std::string>>& row) {
  IncidentRecord i;
  i.id = int_or_zero(row[0]);
  i.monitor = text_or_empty(row[1]);
  i.group = text_or_empty(row[2]);
  i.type = text_or_empty(row[3]);
  i.state = state_from_string(text_or_empty(row[4])).value_or(State::kDown);
  i.cause = text_or_empty(row[5]);
  i.started_at = from_unix_ms(int_or_zero(row[6]));
  if (const auto r = pg_int(row[7])) i.resolved_at = from_unix_ms(*r);
  if (const auto a = pg_int(row[8])) i.acknowledged_at = from_unix_ms(*a);
  i.acknowledged_by = text_or_empty(row[9]);
  i.flapping = row[10] == "t";
  return i;
}

std::vector<IncidentRecord> incidents_of(const PgResult& r) {
  std::vector<IncidentRecord> out;
  for (const auto& row : r.rows)
    if (row.size() == 11) out.push_back(incident_of(row));
  return out;
}

std::string id_array(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (const int64_t id : ids) {
    if (out.size() > 1) out += ',';
    out += std::to_string(id);
  }
  return out + "}";
}

}  // namespace

// One read lease: one connection of the pool, given back when the request is done.
class PgReads final : public StorageReads {
 public:
  PgReads(PgReadPool& pool, PGconn* conn) : pool_(pool), conn_(conn) {}
  ~PgReads() override { pool_.give_back(conn_); }
  PgReads(const PgReads&) = delete;
  PgReads& operator=(const PgReads&) = delete;

  // Every location's runs of the monitor count, as the contract asks. Each bucket is cut as
  // SQLite's HistoryReader cuts it (store/range_cut.h), by the marks of the monitor's shard:
  // rolled-up days, hours and minutes where they are folded, raw rows for the rest. One
  // statement per level reads the pieces of every bucket, each row counted in the bucket of
  // the piece holding it.
  std::vector<SeriesPoint> series(const std::string& monitor, int64_t from_ms, int64_t to_ms,
                                  int64_t step_ms) override {
    std::vector<SeriesPoint> out;
    const int64_t first = align_down(from_ms, step_ms);
    for (int64_t t = first; t <= to_ms; t += step_ms) out.push_back({t, {}});
    if (out.empty()) return out;
    const Watermarks marks = shard_marks(shard_of(monitor));
    // By level: each piece's start, end and bucket.
    std::array<std::vector<std::tuple<int64_t, int64_t, size_t>>, 4> pieces;
    for (size_t i = 0; i < out.size(); ++i) {
      const int64_t t = out[i].t_ms;
      for (const RangePiece& p : cut_range(t, std::min(t + step_ms, to_ms + 1), marks)) {
        pieces[static_cast<size_t>(p.level)].emplace_back(p.from, p.to, i);
      }
    }
    for (size_t level = 0; level < pieces.size(); ++level) {
      auto& mine = pieces[level];
      if (mine.empty()) continue;
      std::sort(mine.begin(), mine.end());
      // Adjacent pieces read as one span.
      std::vector<std::string> starts, ends;
      for (const auto& piece : mine) {
        const std::string a = std::to_string(std::get<0>(piece));
        const std::string b = std::to_string(std::get<1>(piece));
        if (!ends.empty() && ends.back() == a) {
          ends.back() = b;
        } else {
          starts.push_back(a);
          ends.push_back(b);
        }
      }
      const bool raw = level == static_cast<size_t>(CutLevel::kRaw);
      const PgResult r =
          run(fmt::format("SELECT {}, {} FROM {} r JOIN unnest($2::bigint[], $3::bigint[]) AS "
                          "p(a, b) ON r.t >= 'epoch'::timestamptz + p.a * interval '1 millisecond' "
                          "AND r.t < 'epoch'::timestamptz + p.b * interval '1 millisecond' "
                          "WHERE r.monitor = $1",
                          pg_ms("r.t"),
                          raw ? "outcome, total_us, maintenance, samples"
                              : "count, failures, degraded, maintenance, min_us, max_us, sum_us, "
                                "sketch",
                          raw ? "results" : rollup_table(static_cast<CutLevel>(level))),
              {monitor, pg_int_array(starts), pg_int_array(ends)});
      for (const auto& row : r.rows) {
        const auto t = pg_int(row[0]);
        if (!t || row.size() != (raw ? 5u : 9u)) continue;
        // The last piece starting at or before t, if t is inside it.
        auto at = std::upper_bound(mine.begin(), mine.end(), *t,
                                   [](int64_t v, const std::tuple<int64_t, int64_t, size_t>& p) {
                                     return v < std::get<0>(p);
                                   });
        if (at == mine.begin()) continue;
        --at;
        if (*t >= std::get<1>(*at)) continue;
        Aggregate& agg = out[std::get<2>(*at)].agg;
        if (raw) {
          agg.add(run_of_row(row, 1));
        } else {
          agg.merge(rollup_of_row(row, 1));
        }
      }
    }
    return out;
  }

  std::vector<IncidentRecord> resolved_incidents(int64_t resolved_since_ms, int limit) override {
    // Not a silent location's meta-incidents (type 'location', alerting/location_incidents.h):
    // the page and the feed show none, and dozens of them must not push a monitor's out of
    // the limit.
    return incidents_of(run(incident_columns() + "WHERE resolved_at >= " + pg_at_ms(1) +
                                " AND type <> 'location' ORDER BY resolved_at DESC LIMIT $2",
                            {std::to_string(resolved_since_ms), std::to_string(limit)}));
  }

  std::vector<IncidentEventRow> incident_events(const std::vector<int64_t>& ids) override {
    std::vector<IncidentEventRow> out;
    if (ids.empty()) return out;
    // Channels in name order: SQLite's group_concat names them in no order it promises.
    const PgResult r =
        run(fmt::format("SELECT e.incident_id, e.event, {}, string_agg(o.channel || ' ' || CASE "
                        "o.status WHEN 'sent' THEN 'delivered' ELSE o.status END, ', ' ORDER BY "
                        "o.channel) FROM incident_events e LEFT JOIN outbox o ON o.event_id = e.id "
                        "AND o.audience = 'oncall' WHERE e.incident_id = ANY($1::bigint[]) "
                        "GROUP BY e.id ORDER BY e.id",
                        pg_ms("e.at")),
            {id_array(ids)});
    for (const auto& row : r.rows) {
      out.push_back({int_or_zero(row[0]), text_or_empty(row[1]), from_unix_ms(int_or_zero(row[2])),
                     text_or_empty(row[3])});
    }
    return out;
  }

  // Page by page, newest first, until `limit` rows are kept: `keep` may refuse most of them
  // (private monitors), so no LIMIT on the statement can say how many to read.
  std::vector<IncidentRecord> list_incidents(IncidentFilter which,
                                             const std::function<bool(const IncidentRecord&)>& keep,
                                             size_t limit) override {
    const char* which_ones = which == IncidentFilter::kOpen       ? "resolved_at IS NULL"
                             : which == IncidentFilter::kResolved ? "resolved_at IS NOT NULL"
                                                                  : "true";
    std::vector<IncidentRecord> out;
    // After the first page, only rows older than the last one read (by start, then id).
    std::optional<std::string> before_ms, before_id;
    while (out.size() < limit) {
      const PgResult r =
          run(incident_columns() +
                  fmt::format("WHERE {} AND ($1::bigint IS NULL OR (started_at, id) < ({}, "
                              "$2::bigint)) ORDER BY started_at DESC, id DESC LIMIT $3",
                              which_ones, pg_at_ms(1)),
              {before_ms, before_id, std::to_string(kIncidentPage)});
      const auto page = incidents_of(r);
      for (const auto& i : page) {
        if (out.size() == limit) break;
        if (keep(i)) out.push_back(i);
      }
      if (page.size() < static_cast<size_t>(kIncidentPage)) break;
      before_ms = std::to_string(to_unix_ms(page.back().started_at));
      before_id = std::to_string(page.back().id);
    }
    return out;
  }

  std::vector<IncidentNotification> incident_notifications(int64_t first_id,
                                                           int64_t last_id) override {
    std::vector<IncidentNotification> out;
    const PgResult r =
        run(fmt::format("SELECT e.incident_id, e.event, {}, o.id, o.channel, o.status FROM "
                        "incident_events e LEFT JOIN outbox o ON o.event_id = e.id AND "
                        "o.audience = 'oncall' WHERE e.incident_id BETWEEN $1 AND $2 "
                        "ORDER BY e.id, o.channel",
                        pg_ms("e.at")),
            {std::to_string(first_id), std::to_string(last_id)});
    for (const auto& row : r.rows) {
      IncidentNotification n{int_or_zero(row[0]),
                             text_or_empty(row[1]),
                             from_unix_ms(int_or_zero(row[2])),
                             {},
                             {},
                             {}};
      if (row[3]) {
        n.id = row[3];
        n.channel = text_or_empty(row[4]);
        n.status = text_or_empty(row[5]);
      }
      out.push_back(std::move(n));
    }
    return out;
  }

  std::vector<IncidentRecord> monitor_incidents(const std::string& monitor, int limit) override {
    return incidents_of(
        run(incident_columns() + "WHERE monitor = $1 ORDER BY started_at DESC LIMIT $2",
            {monitor, std::to_string(limit)}));
  }

 private:
  // Where the shard's levels are folded to; none where it has no marks (all raw).
  Watermarks shard_marks(int shard) {
    Watermarks w;
    const PgResult r =
        run(fmt::format("SELECT level, {} FROM rollup_marks WHERE shard = $1", pg_ms("until")),
            {std::to_string(shard)});
    for (const auto& row : r.rows) {
      if (row.size() != 2) continue;
      const auto until = pg_int(row[1]);
      if (row[0] == "minute") w.minute = until;
      if (row[0] == "hour") w.hour = until;
      if (row[0] == "day") w.day = until;
    }
    return w;
  }

  PgResult run(const std::string& sql, const PgParams& params) {
    return pool_.exec(conn_, sql, params);
  }

  PgReadPool& pool_;
  PGconn* conn_;
};

PgReadPool::PgReadPool(Secret dsn, std::shared_ptr<const Redactor> redactor)
    : dsn_(std::move(dsn)), redactor_(std::move(redactor)) {}

PgReadPool::~PgReadPool() {
  for (PGconn* c : idle_) PQfinish(c);
}

std::unique_ptr<StorageReads> PgReadPool::reads() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      PGconn* c = idle_.back();
      idle_.pop_back();
      return std::make_unique<PgReads>(*this, c);
    }
  }
  PGconn* c = connect();
  if (c == nullptr) return nullptr;
  return std::make_unique<PgReads>(*this, c);
}

PGconn* PgReadPool::connect() {
  // The DSN's own settings come after these and win over them.
  const std::array<const char*, 4> keys{"connect_timeout", "application_name", "dbname", nullptr};
  const std::array<const char*, 4> values{"5", "lookout-web", dsn_.reveal().c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 1);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    tell(fmt::format("cannot connect to read history and incidents: {}",
                     c != nullptr ? PQerrorMessage(c) : "out of memory"));
    PQfinish(c);
    return nullptr;
  }
  PGresult* set = PQexec(c, kSession);
  const bool ok = PQresultStatus(set) == PGRES_COMMAND_OK;
  PQclear(set);
  if (!ok) {
    tell(fmt::format("cannot set up a connection to read history and incidents: {}",
                     PQerrorMessage(c)));
    PQfinish(c);
    return nullptr;
  }
  return c;
}

PgResult PgReadPool::exec(PGconn* conn, const std::string& sql, const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    PGresult* r = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      const int rows = PQntuples(r);
      const int cols = PQnfields(r);
      out.rows.reserve(static_cast<size_t>(rows));
      for (int i = 0; i < rows; ++i) {
        auto& row = out.rows.emplace_back();
        row.reserve(static_cast<size_t>(cols));
        for (int j = 0; j < cols; ++j) {
          if (PQgetisnull(r, i, j) != 0) {
            row.emplace_back();
          } else {
            row.emplace_back(
                std::string(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))));
          }
        }
      }
      PQclear(r);
      {
        std::lock_guard lock(mu_);
        told_.clear();
      }
      return out;
    }
    out.error = PQerrorMessage(conn);
    if (const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) out.sqlstate = state;
    PQclear(r);
    if (PQstatus(conn) != CONNECTION_BAD || attempt > 0) break;
    // Made again with the same settings; a reset that fails leaves it bad, and the lease's
    // next statement fails at once.
    PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK) break;
    PQclear(PQexec(conn, kSession));
  }
  tell(fmt::format("reading history or incidents failed: {}", out.error));
  return out;
}

void PgReadPool::give_back(PGconn* conn) {
  {
    std::lock_guard lock(mu_);
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE &&
        idle_.size() < kMaxIdle) {
      idle_.push_back(conn);
      return;
    }
  }
  PQfinish(conn);
}

void PgReadPool::tell(const std::string& error) {
  // libpq's messages run over several lines, indented: one log line says it all.
  std::string text;
  for (const char c : error) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (!space) {
      text += c;
    } else if (!text.empty() && text.back() != ' ') {
      text += ' ';
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (redactor_) text = redactor_->apply(std::move(text));
  {
    std::lock_guard lock(mu_);
    if (text == told_) return;
    told_ = text;
  }
  spdlog::warn(
      "cluster: {} (the page and API answer without history or incidents meanwhile; "
      "check that PostgreSQL is up and this node may connect to it)",
      text);
}

}  // namespace lookout
