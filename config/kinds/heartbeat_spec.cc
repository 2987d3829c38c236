// The heartbeat kind's keys.
#include "config/kinds/heartbeat_spec.h"

#include "config/kinds/registry.h"
#include "core/units.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& heartbeat_keys() {
  static const std::set<std::string> keys{"token", "period", "schedule",
                                          "tz",    "grace",  "max_runtime"};
  return keys;
}

const std::set<std::string>& heartbeat_no_expect_keys() {
  static const std::set<std::string> keys;
  return keys;
}

bool valid_token(const std::string& t) {
  if (t.size() < 16 || t.size() > 128) return false;
  for (const char c : t) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// period, grace and max_runtime: any duration of at least 1s, else an error at the value.
std::optional<Duration> heartbeat_duration(Parser& p, const toml::node& n, const char* key) {
  const auto v = p.duration(n, key);
  if (v && *v < Duration{1000}) {
    p.error(n.source(), fmt::format("{} must be at least 1s", key));
    return std::nullopt;
  }
  return v;
}

std::shared_ptr<const KindSpec> parse_heartbeat(Parser& p, const Layers& layers,
                                                const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<HeartbeatSpec>();
  // A job is not probed: the keys that time probes mean nothing here, and a value in the
  // monitor's own table is a mistake worth naming ([defaults] may still set them for others).
  for (const char* key : {"interval", "timeout", "fail_after", "recover_after"}) {
    if (const auto* n = where.get(key)) {
      p.error(n->source(),
              fmt::format("a heartbeat monitor has no {}; its pings are judged as they come "
                          "(set period or schedule, and grace)",
                          key));
    }
  }
  m.fail_after = 1;
  m.recover_after = 1;
  if (const auto* n = layers.get("token")) {
    spec->token = p.credential(*n, "token");
    if (spec->token && !valid_token(spec->token->reveal())) {
      p.error(n->source(), "token must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -");
    }
    if (spec->token && !spec->token->is_secret()) {
      // The token is the whole credential of the ping URL: masked however it is written.
      p.also_secret(spec->token->reveal());
      spec->token = Secret(spec->token->reveal(), true);
    }
  }
  const toml::node* period = layers.get("period");
  const toml::node* schedule = layers.get("schedule");
  if (period != nullptr && schedule != nullptr) {
    p.error(schedule->source(), fmt::format("heartbeat monitor \"{}\" has both period and "
                                            "schedule; keep one",
                                            m.name));
  } else if (period == nullptr && schedule == nullptr) {
    p.error(where.source(),
            fmt::format("heartbeat monitor \"{}\" needs period (\"1h\") or schedule "
                        "(\"0 3 * * *\")",
                        m.name));
  }
  if (period != nullptr) {
    if (auto v = heartbeat_duration(p, *period, "period")) spec->period = *v;
  }
  const toml::node* tz = layers.get("tz");
  if (tz != nullptr) {
    if (auto v = p.plain_text(*tz, "tz")) spec->tz = *v;
  }
  if (schedule != nullptr) {
    if (auto v = p.plain_text(*schedule, "schedule")) {
      spec->schedule = *v;
      std::string error;
      if (auto c = Calendar::parse(spec->schedule, spec->tz, error)) {
        spec->calendar = std::make_shared<const Calendar>(*c);
      } else {
        p.error(
            (error.find("zone") != std::string::npos && tz != nullptr ? tz : schedule)->source(),
            error);
      }
    }
  } else if (tz != nullptr) {
    p.error(tz->source(), "tz applies to a schedule; a period needs none");
  }
  if (const auto* n = layers.get("grace")) {
    if (auto v = heartbeat_duration(p, *n, "grace")) spec->grace = *v;
  }
  if (const auto* n = layers.get("max_runtime")) {
    if (auto v = heartbeat_duration(p, *n, "max_runtime")) spec->max_runtime = *v;
  }
  m.host.clear();
  return spec;
}

}  // namespace

extern const KindParser kHeartbeatKind{"heartbeat", heartbeat_keys, heartbeat_no_expect_keys,
                                       parse_heartbeat};

}  // namespace lookout::config_detail
