// The validated configuration: plain structs built once from the TOML file. `lookout check`,
// `lookout probe` and `lookout run` (and a SIGHUP reload) all go through load_config().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/secret.h"
#include "core/source_address.h"

namespace lookout {

// slo.*: DEGRADED while the rolling p95 over `window` is above `p95`, judged only once the
// window holds `min_samples` samples.
struct SloConfig {
  std::optional<Duration> p95;
  Duration window{15 * 60'000};
  int min_samples = 10;
  bool operator==(const SloConfig&) const = default;
};

// A monitor kind's own settings (config/kinds/: HttpSpec, DnsSpec, ...), parsed by that kind.
// Immutable once parsed; monitors share it across copies of their config.
class KindSpec {
 public:
  virtual ~KindSpec() = default;
  // The same settings: a reload keeps such a monitor's state.
  virtual bool equals(const KindSpec& other) const = 0;
  // TLS certificates are not verified (insecure = true).
  virtual bool insecure() const { return false; }
  // Run by the scheduler through a probe; false for a kind that is judged as its reports come
  // in (heartbeat).
  virtual bool probed() const { return true; }
};

// The base of every kind's spec: equality is the spec's own (defaulted) operator==, so a new
// key is compared the moment it is added to the struct.
template <typename T>
class SpecOf : public KindSpec {
 public:
  bool equals(const KindSpec& other) const override {
    const auto* o = dynamic_cast<const T*>(&other);
    return o != nullptr && static_cast<const T&>(*this) == *o;
  }
  bool operator==(const SpecOf&) const { return true; }
};

struct MonitorConfig {
  std::string name;
  // [[route]] names that may notify about it; unset: every route (each still filters by match).
  std::optional<std::vector<std::string>> routes;
  int flap_window = 10;    // runs looked at by the flap guard
  int flap_threshold = 4;  // state changes within them that make the monitor flapping
  std::string group;
  std::string type = "http";  // the kind (config/kinds/registry.cc)
  bool is_public = false;
  Duration interval{60'000};
  Duration timeout{10'000};
  int fail_after = 2;
  int recover_after = 2;
  std::string host;  // the target host, for the per-host concurrency cap
  SloConfig slo;     // the kinds that measure latency
  // Cluster mode: the locations that probe it; unset: every location that has a live node.
  std::optional<std::vector<std::string>> locations;
  std::shared_ptr<const KindSpec> spec;
  // SHA-256 (hex) of the monitor's table and of [defaults] as written, each rendered with its
  // keys in order: nodes of a cluster compare it to find a monitor configured differently.
  // Secrets count by their reference (`${env:...}`), never by their value.
  std::string digest;

  // The kind's spec; the caller knows the kind (a mismatch throws std::bad_cast).
  template <typename T>
  const T& spec_as() const {
    return dynamic_cast<const T&>(*spec);
  }
  // The kind's spec when it is of type T, else null.
  template <typename T>
  const T* spec_if() const {
    return dynamic_cast<const T*>(spec.get());
  }
  // Nothing changed: a reload keeps the monitor's state. Compares secret values too, and every
  // key of the kind's spec, without a list to keep.
  bool same_as(const MonitorConfig& other) const;
};

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string title = "Status";
  std::string public_url;
  std::optional<Secret> admin_token;
  // HTTPS with this certificate chain and key (PEM), and HSTS on every answer; plain HTTP when
  // unset.
  std::string tls_cert, tls_key;
  uint64_t max_request = 64 * 1024;   // bytes
  int rate_limit = 10;                // requests per client address on /ack and admin calls...
  Duration rate_window{60'000};       // ...per this window
  int ping_rate_limit = 60;           // pings per heartbeat token...
  Duration ping_rate_window{60'000};  // ...per this window; beyond it 429
  // The accept gate (plain HTTP): what one client address and all clients may hold open, and
  // how long a request's head and body may take to arrive.
  size_t max_connections_per_client = 32;
  size_t max_connections = 4096;
  Duration header_timeout{5000};
  Duration body_timeout{10'000};
};

struct StorageConfig {
  std::string path = "/var/lib/lookout/lookout.db";  // relative paths are resolved against the
                                                     // config file's folder
  Duration keep_raw{3LL * 86'400'000};
  Duration keep_minutes{3LL * 86'400'000};
  Duration keep_hours{90LL * 86'400'000};
  Duration keep_days{1825LL * 86'400'000};
  // Result rows held in memory while storage cannot be written; older ones are then dropped
  // (counted in lookout_storage_rows_dropped_total). Alerts are never dropped.
  size_t max_backlog = 200'000;
};

struct SchedulerConfig {
  size_t max_in_flight = 512;
  size_t max_per_host = 16;
};

// What a channel type reads beyond the keys every channel takes (config/channels/NAME_spec.h:
// EmailSpec, PagerDutySpec, ...). Immutable once parsed.
class ChannelSpec {
 public:
  virtual ~ChannelSpec() = default;
};

struct ChannelConfig {
  std::string name;
  std::string type = "webhook";        // email, webhook, sms, pagerduty, slack, ...
  Duration timeout{10'000};            // one delivery attempt
  Duration give_up_after{86'400'000};  // retries stop after this, loudly
  std::string ca_file;
  bool insecure = false;
  // Where messages go: the provider's API base, the whole webhook URL (a secret for Slack,
  // Teams or Discord, whose URL is the credential), or the SMTP server (email's smtp_url).
  Secret url;
  std::vector<std::string> to;  // email addresses or phone numbers: one row each for sms
  // The type's own keys; null for a type that has none (slack, teams, discord).
  std::shared_ptr<const ChannelSpec> spec;

  // The type's spec; the caller knows the type (a mismatch throws std::bad_cast).
  template <typename T>
  const T& spec_as() const {
    return dynamic_cast<const T&>(*spec);
  }
};

// Every channel type the config accepts, in the order of config/channels/registry.cc.
std::vector<std::string> channel_kinds();
// Whether a route with on_post may send status-page posts to a channel of this type (not to
// Opsgenie or Alertmanager, which keep one alert per incident).
bool channel_takes_posts(std::string_view type);

struct EscalationTier {
  Duration after{0};
  std::vector<std::string> notify;
};

// How a route gathers an alert storm: alerting/grouping.h.
enum class GroupMode { kLeading, kAlertmanager };

struct RouteConfig {
  std::string name;
  std::vector<std::pair<std::string, std::string>> match;  // name|group|type|state -> glob
  std::vector<std::string> notify;
  std::vector<EscalationTier> escalate;
  std::optional<Duration> repeat;
  bool on_resolve = true;
  // Status-page posts and their updates (incident.posted, incident.post_updated) go to `notify`
  // when the post fits `match` (alerting/routing.h).
  bool on_post = false;
  // Alert storms (alerting/grouping.h): leading sends a quiet group's first notification at
  // once and gathers what follows for group_wait; alertmanager gathers the first for
  // group_wait and later ones until group_interval after the previous send.
  GroupMode group_mode = GroupMode::kLeading;
  Duration group_wait{30'000};
  Duration group_interval{300'000};
};

// A [[maintenance]] block; the alert engine reads it through alerting/maintenance.h, beside
// the windows made through the API.
struct MaintenanceWindow {
  std::string title, body;            // shown on the page and in the API
  std::vector<std::string> monitors;  // globs on names
  WallTime start;
  Duration duration{0};
};

// [subscriptions]: stakeholders subscribe by email on the status page; the mails go through an
// email channel's server and sender (alerting/subscribers.h).
struct SubscriptionsConfig {
  std::string channel;
  int rate_limit = 10;           // POST /subscribe per client address...
  Duration rate_window{60'000};  // ...per this window; beyond it 429
};

// [heartbeat]: lookout's own dead man's switch. `url` is requested every `every` while lookout
// is healthy, so an outside check alerts when lookout dies or wedges.
struct DeadMansSwitchConfig {
  Secret url;  // its token is part of it (healthchecks.io, another lookout's /ping/TOKEN)
  Duration every{60'000};
};

// [cluster]: nodes in one or more locations that share one PostgreSQL database
// (docs/cluster.md).
struct ClusterConfig {
  Secret dsn;  // a libpq connection string or URI; never shown, its password masked everywhere
  std::string node;      // unique per node; default: the host name
  std::string location;  // where this node probes from
  // DOWN when down from at least this many locations; unset: a majority of the locations with
  // fresh results.
  std::optional<int> quorum;
  Duration lease{10'000};        // a dead node's work moves to another within about this
  SourceAddress source_address;  // where this node's probes connect from; empty: any
  int line = 0, col = 0;         // where [cluster] is written, for what is said about it
};

struct Config {
  std::string file;
  ServerConfig server;
  StorageConfig storage;
  SchedulerConfig scheduler;
  std::optional<DeadMansSwitchConfig> heartbeat;
  std::optional<ClusterConfig> cluster;
  std::vector<MonitorConfig> monitors;
  std::vector<ChannelConfig> channels;
  std::vector<RouteConfig> routes;
  std::vector<MaintenanceWindow> maintenance;
  std::optional<SubscriptionsConfig> subscriptions;
  const ChannelConfig* channel(const std::string& name) const;
  // Every secret value resolved while loading, for masking free text such as causes.
  std::shared_ptr<const Redactor> redactor = std::make_shared<Redactor>();

  // By name: through the index parse_config builds (the alert engine looks monitors up every
  // second), else by a scan, so a Config put together by hand works too.
  const MonitorConfig* find(const std::string& name) const;
  void index_monitors();

 private:
  std::unordered_map<std::string, size_t> index_;  // name -> position in monitors
};

struct ConfigError {
  std::string file;
  int line = 0;
  int col = 0;
  std::string message;
  bool warning = false;
  // FILE:LINE:COL: message  (or FILE:LINE:COL: warning: message)
  std::string str() const;
  // FILE:LINE:COL: message, for a log line whose level already says "warning".
  std::string plain() const;
};

struct LoadResult {
  std::optional<Config> config;     // set when there is no error (warnings allowed)
  std::vector<ConfigError> errors;  // errors and warnings, in file order
  // Where a secret is written in the file itself rather than as ${env:..} or ${file:..}:
  // load_config() warns when such a file is readable by other users.
  std::vector<ConfigError> inline_secrets;
  bool ok() const { return config.has_value(); }
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Reads and validates the file. Never throws; every problem is in errors.
LoadResult load_config(const std::string& path, const EnvLookup& env = process_env());
// The same on text already read; `path` names it in messages and anchors relative paths.
LoadResult parse_config(std::string_view text, const std::string& path, const EnvLookup& env);

// The names of the monitor kinds, as `type = "..."` takes them.
std::vector<std::string> monitor_kinds();

// The config path of the CLI: -c, else $LOOKOUT_CONFIG, else /etc/lookout/lookout.toml.
std::string resolve_config_path(const std::string& flag);

}  // namespace lookout
