// The subcommands behind `lookout`, each returning the process exit code of CONTRACT.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lookout {

int cmd_check(const std::string& config_path);
int cmd_run(const std::string& config_path);
int cmd_probe(const std::string& config_path, const std::vector<std::string>& names, bool json);
int cmd_version();
int cmd_accept(const std::string& config_path, const std::string& monitor);
int cmd_alert_test(const std::string& config_path, const std::string& route);
int cmd_ping_url(const std::string& config_path, const std::string& monitor);
// `lookout cluster init|status|import` (action "init", "status" or "import", the last with the
// single-node database at `from_sqlite`) on the database of [cluster].
int cmd_cluster(const std::string& config_path, const std::string& action,
                const std::string& from_sqlite = "");
// `lookout cluster import`'s work, once the config is loaded and has [cluster]
// (daemon/cli_cluster_import.cc).
int import_into_cluster(const struct Config& config, const std::string& config_path,
                        const std::string& sqlite_path);
// The cluster's heartbeat_key (kept_secrets) into `key`, for `lookout ping-url`: 0, or 1 with
// what went wrong told on stderr. `config` has [cluster].
int cluster_heartbeat_key(const struct Config& config, const std::string& config_path,
                          std::string& key);
// What a failure to reach the cluster's database asks of the operator.
std::string cluster_reach_hint(const std::string& config_path);

// `lookout post new|update|list`'s arguments, checked by the parser (a status or impact outside
// its four words is exit 2 before anything is sent).
struct PostArgs {
  std::string action;  // new | update | list
  std::string id, title, status, impact, body;
  std::vector<std::string> monitors;
  std::string state = "all";  // for list: open | resolved | all
};
int cmd_post(const std::string& config_path, const PostArgs& args);

// `lookout audit`'s arguments as given; cmd_audit checks them (exit 2 when wrong).
struct AuditArgs {
  std::string url, http_url, journey, mail_domain, resolver, ca_file, rate_limit_path, write_config;
  std::vector<std::string> private_paths, dkim_selectors;
  int latency_samples = 20;
  std::string latency_budget = "500ms", timeout = "10s";
  int mx_port = 25;
  bool json = false;
};
int cmd_audit(const AuditArgs& a);

// Prints every error and warning of a load as FILE:LINE:COL: message on stderr.
void print_config_errors(const struct LoadResult& r);

// What a valid config asks of this machine that it does not allow (a ping monitor where no
// ICMP socket may be opened), as errors at the
// config's place: `check` reports them and `run` refuses to start, both with exit 2.
std::vector<struct ConfigError> start_errors(const struct Config& config);

}  // namespace lookout
