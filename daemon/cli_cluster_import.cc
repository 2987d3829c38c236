// `lookout cluster import --from-sqlite PATH`: a single-node database copied into the cluster.
// Its tables are staged in the session's temporary tables, COPY after COPY, and moved into the
// cluster's tables by one transaction that first refuses what is unsafe
// (store/import_statements.h). A command, not the daemon: it may wait on the database.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "daemon/cli.h"
#include "store/import_statements.h"
#include "store/lease_plan.h"
#include "store/pg_connection.h"
#include "store/pg_results.h"
#include "store/pg_schema.h"
#include "store/sqlite_export.h"

namespace lookout {
namespace {

// Rows per COPY, and COPYs sent ahead of their answers: the next batch is read from SQLite while
// the server takes the one before.
constexpr size_t kImportBatchRows = 50'000;
constexpr int kImportInFlight = 2;

constexpr int64_t kImportDayMs = 86'400'000;

class ClusterImport {
 public:
  ClusterImport(const Config& config, std::string config_path, std::string sqlite_path,
                std::unique_ptr<SqliteExport> source)
      : config_path_(std::move(config_path)),
        sqlite_path_(std::move(sqlite_path)),
        source_(std::move(source)),
        pg_(loop_, config.cluster->dsn, config.redactor, PgBackoff{}),
        lease_(config.cluster->lease) {
    plan_.location = config.cluster->location;
    plan_.lease = lease_;
    const Watermarks w = source_->watermarks();
    plan_.minute_until = w.minute;
    plan_.hour_until = w.hour;
    plan_.day_until = w.day;
    for (const auto& m : config.monitors) config_names_.insert(m.name);
  }

  int run() {
    std::string error;
    const auto ids = source_->monitor_ids(error);
    const auto names = source_->monitor_names(error);
    const auto span = source_->result_span(error);
    if (!error.empty()) {
      std::cerr << fmt::format("cannot read the single-node database {}: {}\n", sqlite_path_,
                               error);
      return 1;
    }
    for (const auto& name : config_names_) {
      const auto id = ids.find(name);
      monitors_.push_back(
          {name, id != ids.end() ? std::optional(id->second) : std::nullopt, shard_of(name)});
    }
    for (const auto& name : names) {
      if (config_names_.count(name) == 0) skipped_.push_back(name);
    }
    if (span) {
      for (int64_t t = span->first; t < span->second + kImportDayMs; t += kImportDayMs)
        days_.push_back(t);
    }
    started_ = std::chrono::steady_clock::now();
    pg_.start();
    migrate_pg_schema(pg_, {"", lease_}, [this](const PgMigration& m) {
      if (!m.ok()) {
        fail(m.error);
        return;
      }
      stage();
    });
    loop_.run();
    return code_;
  }

 private:
  void stage() {
    pg_.script(import_staging_script(), [this](const PgResult& r) {
      if (!r.ok()) {
        fail(r.error);
        return;
      }
      pg_.copy(import_monitors_copy_sql(), import_monitor_rows(monitors_),
               [this](const PgResult& c) {
                 if (!c.ok()) {
                   fail(c.error);
                   return;
                 }
                 partitions();
               });
    });
  }

  // The results table's day partitions of the copied runs, made before the move (an empty one
  // left by a failed import costs nothing, and goes with the raw-results retention).
  void partitions() {
    if (days_.empty()) {
      feed();
      return;
    }
    const PgStatement s = make_result_partitions_for(days_);
    pg_.query(s.sql, s.params, [this](const PgResult& r) {
      if (!r.ok()) {
        fail(r.error);
        return;
      }
      feed();
    });
  }

  void feed() {
    const auto& tables = import_tables();
    while (!finished_ && in_flight_ < kImportInFlight && table_ < tables.size()) {
      const ImportTable& table = tables[table_];
      std::string error;
      if (!cursor_) cursor_ = source_->read(table, error);
      std::string data;
      const bool more = cursor_ != nullptr && cursor_->next(kImportBatchRows, data, error);
      if (!error.empty()) {
        std::cerr << fmt::format("cannot read the single-node database {}: {}\n", sqlite_path_,
                                 error);
        done(1);
        return;
      }
      if (!data.empty()) {
        ++in_flight_;
        pg_.copy(import_copy_sql(table), std::move(data), [this](const PgResult& r) {
          --in_flight_;
          if (!r.ok()) {
            fail(r.error);
            return;
          }
          feed();
        });
      }
      if (!more) {
        cursor_.reset();
        ++table_;
      }
    }
    if (!finished_ && table_ == tables.size() && in_flight_ == 0) move();
  }

  void move() {
    pg_.script(import_move_script(plan_), [this](const PgResult& r) {
      if (!r.ok()) {
        // The refusals say what to do themselves; any other failure is worth one more word.
        const bool refused = r.sqlstate == kImportLiveNodes ||
                             r.sqlstate == kImportHistoryPresent || r.sqlstate == kImportIdsTaken ||
                             r.sqlstate == kImportSecretDiffers;
        fail(refused ? fmt::format("refused to import {}: {}", sqlite_path_, r.error)
                     : fmt::format("{}; nothing was imported", r.error));
        return;
      }
      const auto counts = import_counts(r);
      if (!counts) {
        fail("the import's transaction answered in a shape this lookout does not know");
        return;
      }
      report(*counts);
      done(0);
    });
  }

  void report(const std::vector<std::pair<std::string, int64_t>>& counts) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    int64_t total = 0;
    for (const auto& [table, n] : counts) total += n;
    std::cout << fmt::format(
        "imported {} into PostgreSQL at {}: {} rows in {:.1f} s ({:.0f} rows/s)\n", sqlite_path_,
        pg_.server(), total, seconds, seconds > 0 ? static_cast<double>(total) / seconds : 0.0);
    for (const auto& [table, n] : counts) std::cout << fmt::format("  {:<16} {}\n", table, n);
    if (!skipped_.empty()) {
      std::cout << fmt::format(
          "skipped {} {} the config does not have (their history stays in {}): {}\n",
          skipped_.size(), skipped_.size() == 1 ? "monitor" : "monitors", sqlite_path_,
          fmt::join(skipped_, ", "));
    }
  }

  void fail(const std::string& error) {
    if (finished_) return;
    const bool reached = pg_.connected();
    std::cerr << (reached ? error : fmt::format("{}; {}", error, cluster_reach_hint(config_path_)))
              << "\n";
    done(1);
  }

  void done(int code) {
    if (finished_) return;
    finished_ = true;
    code_ = code;
    cursor_.reset();
    pg_.stop();
  }

  std::string config_path_, sqlite_path_;
  std::unique_ptr<SqliteExport> source_;
  EventLoop loop_;
  PgConnection pg_;
  Duration lease_;
  ImportPlan plan_;
  std::set<std::string> config_names_;
  std::vector<ImportMonitor> monitors_;
  std::vector<std::string> skipped_;
  std::vector<int64_t> days_;
  std::chrono::steady_clock::time_point started_;
  size_t table_ = 0;
  std::unique_ptr<SqliteExport::Cursor> cursor_;
  int in_flight_ = 0;
  bool finished_ = false;
  int code_ = 1;
};

}  // namespace

int import_into_cluster(const Config& config, const std::string& config_path,
                        const std::string& sqlite_path) {
  std::string error;
  auto source = SqliteExport::open(sqlite_path, error);
  if (source == nullptr) {
    std::cerr << error << "\n";
    return 2;
  }
  return ClusterImport(config, config_path, sqlite_path, std::move(source)).run();
}

}  // namespace lookout
