// What the cluster tests share: a throwaway PostgreSQL or a clear skip, turning a loop of the
// test's own until something happened, and the schema put in place before a test begins.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/event_loop.h"
#include "store/pg_connection.h"
#include "store/pg_schema.h"
#include "tests/integration/postgres_server.h"

// At the top of each test that needs a server.
#define LOOKOUT_NEED_POSTGRES()                            \
  if (!::lookout::testing::PostgresServer::available())    \
  GTEST_SKIP() << "PostgreSQL 15's programs are not in "   \
               << ::lookout::testing::PostgresServer::kBin \
               << " (install postgresql-15, as scripts/install-deps.sh --test does)"

namespace lookout::testing {

// Turns the loop until `done` says so or `timeout` passed; returns what `done` says then.
inline bool turn_until(EventLoop& loop, const std::function<bool()>& done,
                       std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  Timer tick(loop);
  tick.start_repeating(Duration{5}, [&] {
    if (done() || std::chrono::steady_clock::now() > end) loop.stop();
  });
  loop.run();
  return done();
}

// Migrates the schema through `conn` (started, on `loop`); throws when it does not come.
inline void require_schema(EventLoop& loop, PgConnection& conn) {
  std::optional<PgMigration> m;
  migrate_pg_schema(conn, [&](PgMigration r) { m = std::move(r); });
  if (!turn_until(
          loop, [&] { return m.has_value(); }, std::chrono::seconds(20)) ||
      !m->ok()) {
    throw std::runtime_error("the schema did not come: " + (m ? m->error : "no answer"));
  }
}

// Runs a migration on a connection of its own and waits for its outcome.
inline PgMigration migrate(const PostgresServer& pg) {
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  std::optional<PgMigration> out;
  migrate_pg_schema(c, [&](PgMigration m) { out = std::move(m); });
  if (!turn_until(
          loop, [&] { return out.has_value(); }, std::chrono::seconds(20))) {
    return {0, 0, {}, "no answer"};
  }
  c.stop();
  return *out;
}

}  // namespace lookout::testing
