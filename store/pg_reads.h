// History and incidents read from the cluster's PostgreSQL for the web threads of a node: the
// same answers SqliteStore's read leases give from one SQLite file (store/incident_queries.h,
// HistoryReader::series), from the cluster's tables. Web threads may wait on the database, the
// loop may not: these are blocking libpq connections of their own, never the loop's
// PgConnection, kept in a small pool and reused.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/secret.h"
#include "store/pg_connection.h"
#include "store/storage.h"

namespace lookout {

class PgReads;

class PgReadPool {
 public:
  // Connections kept idle at most; a busier moment opens more and closes them after.
  static constexpr size_t kMaxIdle = 4;

  // `redactor` masks the DSN's secrets in what is logged.
  PgReadPool(Secret dsn, std::shared_ptr<const Redactor> redactor);
  ~PgReadPool();
  PgReadPool(const PgReadPool&) = delete;
  PgReadPool& operator=(const PgReadPool&) = delete;

  // A read lease on one connection, made or reused; nullptr when the database cannot be reached
  // (logged once until it can again). Blocks up to the DSN's connect_timeout (5 s unless it
  // says otherwise): for web threads only.
  std::unique_ptr<StorageReads> reads();

 private:
  friend class PgReads;
  // One statement on a leased connection, as text values; a connection the server dropped (a
  // restart, a failover) is made again once and the statement sent again, since a read is
  // harmless to repeat. A failure is logged and answers with the error.
  PgResult exec(PGconn* conn, const std::string& sql, const PgParams& params);
  void give_back(PGconn* conn);
  PGconn* connect();
  void tell(const std::string& error);

  Secret dsn_;
  std::shared_ptr<const Redactor> redactor_;
  std::mutex mu_;
  std::vector<PGconn*> idle_;
  std::string told_;  // the last failure logged
};

}  // namespace lookout
