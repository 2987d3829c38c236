// A throwaway PostgreSQL 15 for the cluster tests: a cluster in a folder of its own (a copy of
// the one initdb made for the build), pg_ctl on a free port, listening on 127.0.0.1 only with
// its Unix socket in that folder; stopped and removed at the end. PostgreSQL refuses to run as
// root, so when the tests run as root (CI does) its programs run as nobody, who owns the folder.
#pragma once

#include <string>

namespace lookout::testing {

class PostgresServer {
 public:
  // Where Debian's postgresql-15 puts the server programs (not on PATH).
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
  // True when the programs are there; the tests skip, saying why, when they are not.
  static bool available();

  // A new cluster whose superuser is "lookout" (trust authentication, also for replication).
  PostgresServer();
  // A streaming standby of `primary` (pg_basebackup -R) on a port of its own, read-only until
  // promoted; returns once it streams from the primary.
  explicit PostgresServer(const PostgresServer& primary);
  ~PostgresServer();
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // A libpq connection string to the database "postgres" over TCP.
  std::string dsn() const;
  void start();
  void stop();
  // pg_ctl restart -m fast: every connection is ended.
  void restart();
  // pg_ctl stop -m immediate: the server and its connections end at once, without a checkpoint,
  // as when its machine fails.
  void stop_immediately();
  // pg_ctl promote of a standby; returns once it accepts writes.
  void promote();
  // Runs SQL through psql; returns its output (unaligned, tuples only), throws when it fails.
  std::string sql(const std::string& query) const;

 private:
  struct Scratch {};
  // A folder only, with no cluster or server: where the template is made.
  explicit PostgresServer(Scratch);
  // The folder of the cluster every server starts from, made by the first caller.
  static std::string template_cluster();
  void init_folder();
  // A command line run as the user the server runs as.
  std::string as_owner(const std::string& command) const;
  void run(const std::string& command) const;

  std::string root_, data_, log_;
  int port_;
};

}  // namespace lookout::testing
