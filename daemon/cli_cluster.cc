// `lookout cluster init` and `lookout cluster status`: the schema and the nodes table of cluster
// mode (and, for `lookout ping-url`, the key of the heartbeats' tokens), through the same
// connection, migrations and statements the daemon uses, on a loop of their own that ends at the
// first answer (the connection is not tried again).
#include <fmt/format.h>

#include <array>
#include <iostream>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/units.h"
#include "daemon/cli.h"
#include "store/cluster_view.h"
#include "store/lease_registry.h"
#include "store/node_registry.h"
#include "store/pg_connection.h"
#include "store/pg_schema.h"
#include "store/pg_secrets.h"

namespace lookout {

// The error it follows names the server.
std::string cluster_reach_hint(const std::string& config_path) {
  return fmt::format(
      "check that PostgreSQL runs there and accepts connections from this host, and that "
      "cluster.dsn in {} names it with the right user, password and database",
      config_path);
}

namespace {

std::string ago(int64_t ms) {
  if (ms < 1000) return "now";
  return fmt::format("{} ago", format_duration(Duration{ms / 1000 * 1000}));
}

void print_nodes(const std::vector<ClusterNodeView>& nodes) {
  if (nodes.empty()) {
    std::cout << "no node has joined yet\n";
    return;
  }
  std::vector<std::array<std::string, 7>> lines{
      {"NODE", "LOCATION", "VERSION", "ALIVE", "LAST SEEN", "PROBING", "DECIDING"}};
  for (const auto& v : nodes) {
    const NodeRow& n = v.row;
    lines.push_back({n.node, n.location, n.version, n.alive ? "yes" : "no", ago(n.last_seen_ago_ms),
                     std::to_string(v.probing), std::to_string(v.deciding)});
  }
  std::array<size_t, 7> w{};
  for (const auto& l : lines) {
    for (size_t i = 0; i < l.size(); ++i) w.at(i) = std::max(w.at(i), l.at(i).size());
  }
  for (const auto& l : lines) {
    std::string line;
    for (size_t i = 0; i < l.size(); ++i) {
      line += i + 1 < l.size() ? fmt::format("{:<{}}  ", l.at(i), w.at(i)) : l.at(i);
    }
    std::cout << line << "\n";
  }
}

class ClusterCommand {
 public:
  ClusterCommand(const Config& config, std::string config_path)
      : config_path_(std::move(config_path)),
        pg_(loop_, config.cluster->dsn, config.redactor, PgBackoff{}),
        lease_(config.cluster->lease),
        monitors_(config.monitors) {}

  int init() {
    pg_.start();
    // Every live node counts, this host's too: `init` is not that node, which may still run
    // the older lookout.
    migrate_pg_schema(pg_, {"", lease_}, [this](PgMigration m) {
      if (!m.ok()) {
        fail(m.error);
        return;
      }
      if (m.applied.empty()) {
        std::cout << fmt::format("the schema in PostgreSQL at {} is at version {}; nothing to do\n",
                                 pg_.server(), m.now);
      } else if (m.found == 0) {
        std::cout << fmt::format("created the schema (version {}) in PostgreSQL at {}\n", m.now,
                                 pg_.server());
      } else {
        std::cout << fmt::format("migrated the schema in PostgreSQL at {} from version {} to {}\n",
                                 pg_.server(), m.found, m.now);
      }
      done(0);
    });
    loop_.run();
    return code_;
  }

  // The key the nodes derive heartbeats' ping tokens from, into `key`; it is made by the first
  // node that joins, and read here only: a key made by this command would stand in the way of
  // a `cluster import` that brings a single node's key and the URLs it handed out.
  int heartbeat_key(std::string& key) {
    pg_.start();
    const std::vector<std::string> names{"heartbeat_key"};
    const PgStatement s = read_secrets(names);
    pg_.query(s.sql, s.params, [this, &key, names](const PgResult& r) {
      if (const auto kept = secrets(r, names)) {
        key = kept->at("heartbeat_key");
        done(0);
      } else if (r.ok() || r.sqlstate == "42P01") {  // kept_secrets not there: no schema yet
        fail(fmt::format(
            "no node has joined the cluster at {} yet: the key its heartbeats' ping tokens are "
            "derived from is made by the first node to join (or brought by lookout cluster "
            "import); start a node with -c {}, then ask again",
            pg_.server(), config_path_));
      } else {
        fail(r.error);
      }
    });
    loop_.run();
    return code_;
  }

  int status() {
    pg_.start();
    read_pg_schema_version(pg_, [this](std::optional<int> version, const std::string& error) {
      if (!version) {
        fail(error);
      } else if (*version == 0) {
        fail(
            fmt::format("PostgreSQL at {} holds no lookout schema yet; run lookout cluster init "
                        "-c {} first",
                        pg_.server(), config_path_));
      } else if (*version > pg_schema_version()) {
        fail(pg_newer_schema_error(*version));
      } else {
        list(*version);
      }
    });
    loop_.run();
    return code_;
  }

 private:
  void list(int version) {
    const PgStatement s = NodeRegistry::list(lease_);
    pg_.query(s.sql, s.params, [this, version](const PgResult& r) {
      auto nodes = NodeRegistry::nodes(r);
      if (!nodes) {
        fail(r.ok() ? "the nodes table answered in a shape this lookout does not know" : r.error);
        return;
      }
      const PgStatement held = LeaseRegistry::list();
      pg_.query(
          held.sql, held.params, [this, version, nodes = std::move(*nodes)](const PgResult& r) {
            const auto leases = LeaseRegistry::rows(r);
            if (!leases) {
              fail(r.ok() ? "the leases table answered in a shape this lookout does not know"
                          : r.error);
              return;
            }
            const auto alive =
                std::count_if(nodes.begin(), nodes.end(), [](const NodeRow& n) { return n.alive; });
            std::cout << fmt::format("PostgreSQL at {}, schema version {}: {} nodes, {} alive\n",
                                     pg_.server(), version, nodes.size(), alive);
            // The counts are of this config's monitors, which every live node shares.
            print_nodes(cluster_nodes(nodes, *leases, monitors_));
            done(0);
          });
    });
  }

  void fail(const std::string& error) {
    // An error from the server itself came over a connection; any other is about reaching it.
    const bool reached = pg_.connected();
    std::cerr << (reached ? error : fmt::format("{}; {}", error, cluster_reach_hint(config_path_)))
              << "\n";
    done(1);
  }

  void done(int code) {
    code_ = code;
    pg_.stop();
  }

  std::string config_path_;
  EventLoop loop_;
  PgConnection pg_;
  Duration lease_;
  std::vector<MonitorConfig> monitors_;
  int code_ = 1;
};

}  // namespace

int cluster_heartbeat_key(const Config& config, const std::string& config_path, std::string& key) {
  ClusterCommand command(config, config_path);
  return command.heartbeat_key(key);
}

int cmd_cluster(const std::string& config_path, const std::string& action,
                const std::string& from_sqlite) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  if (!loaded.config->cluster) {
    std::cerr << fmt::format(
        "{} has no [cluster] section; lookout cluster {} works on the PostgreSQL database it "
        "names\n",
        config_path, action);
    return 2;
  }
  if (action == "import") return import_into_cluster(*loaded.config, config_path, from_sqlite);
  ClusterCommand command(*loaded.config, config_path);
  return action == "init" ? command.init() : command.status();
}

}  // namespace lookout
