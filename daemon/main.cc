// The `lookout` command line.
#include <curl/curl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <toml++/toml.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/clock.h"
#include "core/crash.h"
#include "core/logging.h"
#include "daemon/cli.h"
#include "daemon/daemon.h"

namespace lookout {

int cmd_run(const std::string& config_path) {
  LoadResult r = load_config(config_path);
  for (const auto& e : r.errors) {
    if (e.warning) {
      spdlog::warn("{}", e.plain());
    } else {
      spdlog::error("{}", e.plain());
    }
  }
  if (!r.ok()) {
    spdlog::critical(
        "the config {} is invalid; fix the errors above (lookout check -c {} lists them)",
        config_path, config_path);
    return 2;
  }
  SystemClock clock;
  Daemon daemon(std::move(*r.config), clock);
  return daemon.run();
}

int cmd_version() {
  const curl_version_info_data* cv = curl_version_info(CURLVERSION_NOW);
  std::cout << fmt::format("lookout {}\n", LOOKOUT_VERSION);
  std::cout << fmt::format("  libcurl {} ({})\n", cv->version,
                           cv->ssl_version != nullptr ? cv->ssl_version : "no TLS");
  std::cout << fmt::format("  OpenSSL {}\n", OpenSSL_version(OPENSSL_VERSION_STRING));
  std::cout << fmt::format("  SQLite {}\n", sqlite3_libversion());
  std::cout << fmt::format("  libpq {}.{}\n", PQlibVersion() / 10000, PQlibVersion() % 10000);
  std::cout << fmt::format("  libuv {}\n", uv_version_string());
  std::cout << fmt::format("  cpp-httplib {}\n", CPPHTTPLIB_VERSION);
  std::cout << fmt::format("  nlohmann/json {}.{}.{}\n", NLOHMANN_JSON_VERSION_MAJOR,
                           NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
  std::cout << fmt::format("  toml++ {}.{}.{}\n", TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH);
  std::cout << fmt::format("  spdlog {}.{}.{}, fmt {}\n", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
                           SPDLOG_VER_PATCH, FMT_VERSION);
  return 0;
}

}  // namespace lookout

int main(int argc, char** argv) {
  using namespace lookout;
  guard_crash_output();
  curl_global_init(CURL_GLOBAL_ALL);
  CLI::App app{"lookout: uptime and synthetic monitoring"};
  app.require_subcommand(1);
  std::string config_flag;
  std::string log_level = "info";

  auto* run = app.add_subcommand(
      "run", "run the daemon in the foreground until SIGTERM or SIGINT; SIGHUP reloads");
  run->add_option("-c,--config", config_flag,
                  "config file (else $LOOKOUT_CONFIG, else /etc/lookout/lookout.toml)");
  run->add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  auto* check =
      app.add_subcommand("check", "validate the config; every error as FILE:LINE:COL: message");
  check->add_option("-c,--config", config_flag, "config file");

  std::vector<std::string> names;
  bool json = false;
  auto* probe =
      app.add_subcommand("probe", "run monitors once, now, and print the outcome; writes nothing");
  probe->add_option("-c,--config", config_flag, "config file");
  probe->add_option("names", names, "monitors to run (all when none)");
  probe->add_flag("--json", json, "one JSON object per line instead of a table");

  std::string route;
  auto* alert_test = app.add_subcommand(
      "alert-test", "send a test notification through every channel of a route and report each");
  alert_test->add_option("-c,--config", config_flag, "config file");
  alert_test->add_option("--route", route, "only this route's channels");

  std::string accept_name;
  auto* accept = app.add_subcommand(
      "accept",
      "accept a dns monitor's changed answers as its new baseline (through the running daemon)");
  accept->add_option("-c,--config", config_flag, "config file");
  accept->add_option("name", accept_name, "the dns monitor")->required();

  std::string ping_name;
  auto* ping_url = app.add_subcommand(
      "ping-url", "print the URL a heartbeat monitor's job pings (it holds the monitor's token)");
  ping_url->add_option("-c,--config", config_flag, "config file");
  ping_url->add_option("name", ping_name, "the heartbeat monitor")->required();

  PostArgs post_args;
  const std::vector<std::string> statuses = {"investigating", "identified", "monitoring",
                                             "resolved"};
  auto* post = app.add_subcommand(
      "post", "write or list incident posts on the status page (through the running daemon)");
  post->add_option("-c,--config", config_flag, "config file");
  post->require_subcommand(1);
  auto* post_new = post->add_subcommand("new", "open a post; prints its id");
  post_new->add_option("--title", post_args.title, "what stakeholders read first")->required();
  post_new->add_option("--status", post_args.status, "investigating|identified|monitoring|resolved")
      ->required()
      ->check(CLI::IsMember(statuses));
  post_new->add_option("--impact", post_args.impact, "none|minor|major|critical (default none)")
      ->check(CLI::IsMember({"none", "minor", "major", "critical"}));
  post_new->add_option("--monitor", post_args.monitors, "an affected monitor (repeatable)")
      ->take_all()
      ->expected(1);
  post_new->add_option("--body", post_args.body, "plain text; http(s) links become links");
  auto* post_update = post->add_subcommand("update", "add a status update to a post");
  post_update->add_option("id", post_args.id, "the post's id")
      ->required()
      ->check(CLI::PositiveNumber);
  post_update
      ->add_option("--status", post_args.status, "investigating|identified|monitoring|resolved")
      ->required()
      ->check(CLI::IsMember(statuses));
  post_update->add_option("--body", post_args.body, "plain text");
  auto* post_list =
      post->add_subcommand("list", "every post, newest first: id, status, created, title");
  for (auto* sub : {post_new, post_update, post_list}) sub->fallthrough();
  post_list->add_option("--state", post_args.state, "open|resolved|all (default all)")
      ->check(CLI::IsMember({"open", "resolved", "all"}));

  AuditArgs audit_args;
  auto* audit = app.add_subcommand(
      "audit",
      "a launch-readiness scorecard of a web app, seen from outside; exit 1 when any check fails");
  audit->add_option("url", audit_args.url, "the app, https://host[:port]/path")->required();
  audit
      ->add_option("--private", audit_args.private_paths,
                   "a path that must refuse anonymous calls (repeatable)")
      ->take_all()
      ->expected(1);
  audit->add_option("--journey", audit_args.journey,
                    "a lookout config whose journey monitors are run (object-level authorization)");
  audit->add_option("--mail-domain", audit_args.mail_domain,
                    "check SPF, DMARC, DKIM and the MX hosts' STARTTLS of this domain");
  audit
      ->add_option("--dkim-selector", audit_args.dkim_selectors,
                   "a DKIM selector of the mail domain (repeatable)")
      ->take_all()
      ->expected(1);
  audit->add_option(
      "--resolver", audit_args.resolver,
      "IP[:port] of the DNS server for the mail domain's checks (default: the system's)");
  audit->add_option("--ca-file", audit_args.ca_file,
                    "trust this CA for the app's and the MX hosts' certificates");
  audit->add_option("--http-url", audit_args.http_url,
                    "where the plain-HTTP redirect is checked (default: the URL with http://)");
  audit->add_option("--rate-limit-check", audit_args.rate_limit_path,
                    "opt-in: POST at most 30 failed sign-ins to this path");
  audit->add_option("--latency-samples", audit_args.latency_samples,
                    "requests for the p95 (default 20)");
  audit->add_option("--latency-budget", audit_args.latency_budget,
                    "the p95 must stay under this (default 500ms)");
  audit->add_option("--timeout", audit_args.timeout,
                    "for each request, handshake and DNS question (default 10s)");
  audit->add_option("--mx-port", audit_args.mx_port, "the MX hosts' SMTP port (default 25)");
  audit->add_flag("--json", audit_args.json, "one JSON object instead of the table");
  audit->add_option("--write-config", audit_args.write_config,
                    "write monitors that keep every passing item true to this file");

  auto* cluster = app.add_subcommand(
      "cluster", "cluster mode's PostgreSQL database ([cluster] dsn): its schema and its nodes");
  cluster->add_option("-c,--config", config_flag, "config file");
  cluster->require_subcommand(1);
  auto* cluster_init =
      cluster->add_subcommand("init", "create or migrate the schema; prints what it did");
  auto* cluster_status =
      cluster->add_subcommand("status", "print the nodes: location, version, alive, last seen");
  auto* cluster_import = cluster->add_subcommand(
      "import",
      "copy a single-node database (history, incidents, baselines, heartbeats) into "
      "the cluster; every node stopped");
  std::string from_sqlite;
  cluster_import->add_option("--from-sqlite", from_sqlite, "the single-node database file")
      ->required();
  for (auto* sub : {cluster_init, cluster_status, cluster_import}) sub->fallthrough();

  app.add_subcommand("version", "print the versions of lookout and its libraries");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  const std::string path = resolve_config_path(config_flag);
  int rc = 0;
  if (run->parsed()) {
    setup_logging(log_level);
    rc = cmd_run(path);
  } else if (check->parsed()) {
    rc = cmd_check(path);
  } else if (alert_test->parsed()) {
    setup_logging("warn");
    rc = cmd_alert_test(path, route);
  } else if (accept->parsed()) {
    rc = cmd_accept(path, accept_name);
  } else if (post->parsed()) {
    post_args.action = post_new->parsed() ? "new" : post_update->parsed() ? "update" : "list";
    rc = cmd_post(path, post_args);
  } else if (cluster->parsed()) {
    // The command says what went wrong itself; the connection's own warnings would repeat it.
    setup_logging("error");
    rc = cmd_cluster(path,
                     cluster_init->parsed()     ? "init"
                     : cluster_import->parsed() ? "import"
                                                : "status",
                     from_sqlite);
  } else if (ping_url->parsed()) {
    rc = cmd_ping_url(path, ping_name);
  } else if (audit->parsed()) {
    setup_logging("warn");
    rc = cmd_audit(audit_args);
  } else if (probe->parsed()) {
    setup_logging("warn");
    rc = cmd_probe(path, names, json);
  } else {
    rc = cmd_version();
  }
  curl_global_cleanup();
  return rc;
}
