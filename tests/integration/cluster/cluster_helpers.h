// What the cluster tests share: a throwaway PostgreSQL or a clear skip, turning a loop of the
// test's own until something happened, the schema put in place before a test begins, a
// statement run to its answer, and a node that takes and releases leases.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "store/lease_registry.h"
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

// A node's config from its text, as if read from /etc/lookout/node.toml with no environment;
// throws when it does not parse.
inline Config config_from(const std::string& text) {
  auto r =
      parse_config(text, "/etc/lookout/node.toml", [](const std::string&) { return std::nullopt; });
  if (!r.ok()) throw std::runtime_error("the test's config does not parse: " + text);
  return std::move(*r.config);
}

// Migrates the schema through `conn` (started, on `loop`); throws when it does not come.
inline void require_schema(EventLoop& loop, PgConnection& conn) {
  std::optional<PgMigration> m;
  migrate_pg_schema(conn, {"test"}, [&](PgMigration r) { m = std::move(r); });
  if (!turn_until(
          loop, [&] { return m.has_value(); }, std::chrono::seconds(20)) ||
      !m->ok()) {
    throw std::runtime_error("the schema did not come: " + (m ? m->error : "no answer"));
  }
}

// Migrates the schema of `pg` on a connection of its own, on `loop`; throws when it does not
// come.
inline void require_schema(EventLoop& loop, const PostgresServer& pg) {
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  require_schema(loop, conn);
}

// Runs a migration on a connection of its own and waits for its outcome.
inline PgMigration migrate(const PostgresServer& pg) {
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  std::optional<PgMigration> out;
  migrate_pg_schema(c, {"test"}, [&](PgMigration m) { out = std::move(m); });
  if (!turn_until(
          loop, [&] { return out.has_value(); }, std::chrono::seconds(20))) {
    return {0, 0, {}, "no answer"};
  }
  c.stop();
  return *out;
}

// The unexpired leases the database has whose names are LIKE `like`, name -> holder.
inline std::map<std::string, std::string> holders(const PostgresServer& pg,
                                                  const std::string& like = "%") {
  std::map<std::string, std::string> out;
  const std::string rows = pg.sql(
      "SELECT name || ' ' || holder FROM leases WHERE holder IS NOT NULL AND expires_at > "
      "clock_timestamp() AND name LIKE '" +
      like + "'");
  size_t at = 0;
  while (at < rows.size()) {
    const size_t end = std::min(rows.find('\n', at), rows.size());
    const std::string line = rows.substr(at, end - at);
    const size_t space = line.find(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
    at = end + 1;
  }
  return out;
}

// A node fra-1 of location fra with one monitor, home, run every second with a 1 s timeout,
// under 2 s leases: a report of it is fresh for 2 × 1s + 1s + 2s = 5s.
inline Config home_config(const PostgresServer& pg) {
  const std::string text = fmt::format(
      "[cluster]\ndsn = \"{}\"\nnode = \"fra-1\"\nlocation = \"fra\"\nlease = \"2s\"\n"
      "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n"
      "interval = \"1s\"\ntimeout = \"1s\"\n",
      pg.dsn());
  return config_from(text);
}

// Runs `s` on `conn` and turns `loop` until its answer; throws when none comes.
inline PgResult answer_to(EventLoop& loop, PgConnection& conn, const PgStatement& s) {
  std::optional<PgResult> r;
  conn.query(s.sql, s.params, [&](PgResult a) { r = std::move(a); });
  if (!turn_until(
          loop, [&] { return r.has_value(); }, std::chrono::seconds(20))) {
    throw std::runtime_error("no answer to " + s.sql);
  }
  return std::move(*r);
}

// A node of the cluster as far as leases go: its connection, its registry and the leases it
// holds as the answers told it.
struct LeaseNode {
  LeaseNode(EventLoop& loop, const PostgresServer& pg, std::string name, Duration lease)
      : loop(loop), conn(loop, Secret::plain(pg.dsn()), nullptr), registry(std::move(name), lease) {
    conn.start();
  }

  // Renews or takes `names` without waiting; `done` gets what this node holds of them now.
  void send_acquire(const std::vector<std::string>& names,
                    std::function<void(std::vector<LeaseRow>)> done) {
    const PgStatement s = registry.acquire(names, held);
    conn.query(s.sql, s.params, [this, names, done = std::move(done)](PgResult r) {
      auto rows = LeaseRegistry::rows(r);
      if (!rows) {
        ADD_FAILURE() << registry.node() << " cannot acquire: " << r.error;
        rows.emplace();
      }
      const std::set<std::string> asked(names.begin(), names.end());
      std::erase_if(held, [&](const LeaseRow& h) { return asked.count(h.name) > 0; });
      held.insert(held.end(), rows->begin(), rows->end());
      done(std::move(*rows));
    });
  }
  std::vector<LeaseRow> acquire(const std::vector<std::string>& names) {
    std::optional<std::vector<LeaseRow>> got;
    send_acquire(names, [&](std::vector<LeaseRow> rows) { got = std::move(rows); });
    if (!turn_until(
            loop, [&] { return got.has_value(); }, std::chrono::seconds(20))) {
      throw std::runtime_error("no answer to acquire");
    }
    return *got;
  }

  std::vector<std::string> release(const std::vector<LeaseRow>& leases) {
    const PgResult r = answer_to(loop, conn, registry.release(leases));
    const auto released = LeaseRegistry::released(r);
    if (!released) throw std::runtime_error(registry.node() + " cannot release: " + r.error);
    std::erase_if(held, [&](const LeaseRow& h) {
      return std::find(released->begin(), released->end(), h.name) != released->end();
    });
    return *released;
  }

  // For a node that takes only `shard`'s eval lease: the shards it decides, as
  // LeaseKeeper::deciding() says them (the shard with its epoch while the lease is held)...
  std::map<int, int64_t> deciding(int shard) const {
    std::map<int, int64_t> out;
    for (const auto& h : held) out.emplace(shard, h.epoch);
    return out;
  }
  // ...and the fence of a decision about `asked`, as LeaseKeeper::decision_fence() gives it.
  std::optional<LeaseFence> decision_fence(int shard, int asked) const {
    if (asked != shard || held.empty()) return std::nullopt;
    const LeaseRow& h = held.front();
    return LeaseFence{h.name, h.holder, h.epoch};
  }

  const LeaseRow& lease(const std::string& name) const {
    for (const auto& h : held) {
      if (h.name == name) return h;
    }
    throw std::runtime_error(registry.node() + " does not hold " + name);
  }

  EventLoop& loop;
  PgConnection conn;
  LeaseRegistry registry;
  std::vector<LeaseRow> held;
};

}  // namespace lookout::testing
