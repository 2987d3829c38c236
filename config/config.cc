#include "config/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <re2/re2.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <tuple>

#include "config/config_parser.h"
#include "config/kinds/registry.h"
#include "core/digest.h"
#include "core/text.h"
#include "core/units.h"

namespace lookout {

using config_detail::find_kind;
using config_detail::kind_names;
using config_detail::KindParser;
using config_detail::Layers;
using config_detail::Parser;

bool MonitorConfig::same_as(const MonitorConfig& o) const {
  const auto common = [](const MonitorConfig& m) {
    return std::tie(m.name, m.routes, m.flap_window, m.flap_threshold, m.group, m.type, m.is_public,
                    m.interval, m.timeout, m.fail_after, m.recover_after, m.host, m.slo,
                    m.locations);
  };
  if (common(*this) != common(o)) return false;
  if (spec == nullptr || o.spec == nullptr) return spec == o.spec;
  return spec->equals(*o.spec);
}

const MonitorConfig* Config::find(const std::string& name) const {
  const auto it = index_.find(name);
  if (it != index_.end() && it->second < monitors.size() && monitors[it->second].name == name) {
    return &monitors[it->second];
  }
  if (it == index_.end() && !index_.empty() && index_.size() == monitors.size()) {
    return nullptr;  // the index is whole: the name is not there
  }
  for (const auto& m : monitors) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

void Config::index_monitors() {
  index_.clear();
  for (size_t i = 0; i < monitors.size(); ++i) index_.emplace(monitors[i].name, i);
}

std::string ConfigError::str() const {
  return fmt::format("{}:{}:{}: {}{}", file, line, col, warning ? "warning: " : "", message);
}

std::string ConfigError::plain() const {
  return fmt::format("{}:{}:{}: {}", file, line, col, message);
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string resolve_config_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("LOOKOUT_CONFIG"); env != nullptr && *env != '\0') return env;
  return "/etc/lookout/lookout.toml";
}

namespace config_detail {

void Parser::error(const toml::source_region& where, std::string message) {
  errors_.push_back({file_, static_cast<int>(where.begin.line),
                     static_cast<int>(where.begin.column), std::move(message), false});
}

void Parser::warning(const toml::source_region& where, std::string message) {
  errors_.push_back({file_, static_cast<int>(where.begin.line),
                     static_cast<int>(where.begin.column), std::move(message), true});
}

namespace {

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::optional<std::string> read_file_secret(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot read secret file {}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  if (!v.empty() && v.back() == '\n') v.pop_back();
  if (!v.empty() && v.back() == '\r') v.pop_back();
  return v;
}

}  // namespace

std::optional<Secret> Parser::credential(const toml::node& n, std::string_view key) {
  auto v = text(n, key);
  // A journey's "Bearer {{token}}" names a value taken at run time; it holds no secret itself.
  if (v && !v->is_secret() && !v->empty() && v->reveal().find("{{") == std::string::npos) {
    inline_secrets_.push_back({file_, static_cast<int>(n.source().begin.line),
                               static_cast<int>(n.source().begin.column), std::string(key), true});
  }
  return v;
}

std::optional<Secret> Parser::masked_credential(const toml::node& n, std::string_view key) {
  auto v = credential(n, key);
  if (!v || v->is_secret() || v->empty()) return v;
  also_secret(v->reveal());
  return Secret(v->reveal(), true);
}

void Parser::check_url(const toml::node& n, std::string_view key, const Secret& url,
                       std::initializer_list<std::string_view> schemes) {
  const std::string& u = url.reveal();
  // A scheme and then a host: "https://" alone, or "https:///path", sends nothing anywhere.
  for (std::string_view s : schemes) {
    if (u.rfind(s, 0) == 0 && u.size() > s.size() && u[s.size()] != '/') return;
  }
  error(n.source(), fmt::format("{} {} must be a URL that starts with {} and names a host", key,
                                url.shown(), or_list(schemes)));
}

std::optional<Secret> Parser::named_value(const toml::node& n, std::string_view name,
                                          std::string_view key) {
  static const RE2 kCredential(
      R"re((?i)^(authorization|proxy-authorization|x-api-key|api-key|x-auth-token|password)re"
      R"re(|passwd|secret|token|api_key|client_secret)$)re");
  return RE2::FullMatch(name, kCredential) ? credential(n, key) : text(n, key);
}

std::optional<Secret> Parser::text(const toml::node& n, std::string_view key) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    error(n.source(), fmt::format("{} must be a string, not {}", key, type_name(n)));
    return std::nullopt;
  }
  const std::string& raw = s->get();
  std::string out;
  bool secret = false;
  std::vector<std::string> fragments;
  size_t i = 0;
  while (i < raw.size()) {
    const size_t open = raw.find("${", i);
    if (open == std::string::npos) {
      out.append(raw, i);
      break;
    }
    out.append(raw, i, open - i);
    const size_t close = raw.find('}', open);
    if (close == std::string::npos) {
      error(
          n.source(),
          fmt::format(
              "{}: \"${{\" without a closing \"}}\"; write ${{env:NAME}} or ${{file:/path}}", key));
      return std::nullopt;
    }
    const std::string ref = raw.substr(open + 2, close - open - 2);
    std::string value;
    if (ref.rfind("env:", 0) == 0) {
      const std::string name = ref.substr(4);
      const auto v = env_(name);
      if (!v) {
        error(n.source(), fmt::format("{}: environment variable {} is not set", key, name));
        return std::nullopt;
      }
      if (v->empty()) {
        error(n.source(), fmt::format("{}: environment variable {} is empty", key, name));
        return std::nullopt;
      }
      value = *v;
    } else if (ref.rfind("file:", 0) == 0) {
      std::string why;
      const auto v = read_file_secret(ref.substr(5), why);
      if (!v) {
        error(n.source(), fmt::format("{}: {}", key, why));
        return std::nullopt;
      }
      if (v->empty()) {
        error(n.source(), fmt::format("{}: secret file {} is empty", key, ref.substr(5)));
        return std::nullopt;
      }
      value = *v;
    } else {
      error(n.source(),
            fmt::format("{}: unknown reference \"${{{}}}\"; write ${{env:NAME}} or ${{file:/path}}",
                        key, ref));
      return std::nullopt;
    }
    secret = true;
    fragments.push_back(value);
    out += value;
    i = close + 1;
  }
  if (secret) {
    for (const auto& f : fragments) redactor_.add(f);
    redactor_.add(out);
  }
  return Secret(std::move(out), secret);
}

std::optional<std::string> Parser::plain_text(const toml::node& n, std::string_view key) {
  auto v = text(n, key);
  if (!v) return std::nullopt;
  if (v->is_secret()) {
    error(
        n.source(),
        fmt::format(
            "{} cannot come from ${{env:...}} or ${{file:...}}: it names or selects something that "
            "lookout shows by name (in URLs, metrics, the page or alerts), so it cannot be hidden; "
            "write it in the file",
            key));
    return std::nullopt;
  }
  return v->reveal();
}

std::optional<bool> Parser::boolean(const toml::node& n, std::string_view key) {
  if (const auto* b = n.as_boolean()) return b->get();
  error(n.source(), fmt::format("{} must be true or false, not {}", key, type_name(n)));
  return std::nullopt;
}

std::optional<int64_t> Parser::integer(const toml::node& n, std::string_view key, int64_t lo,
                                       int64_t hi) {
  const auto* i = n.as_integer();
  if (i == nullptr) {
    error(n.source(), fmt::format("{} must be an integer, not {}", key, type_name(n)));
    return std::nullopt;
  }
  if (i->get() < lo || i->get() > hi) {
    error(n.source(), fmt::format("{} must be between {} and {}, not {}", key, lo, hi, i->get()));
    return std::nullopt;
  }
  return i->get();
}

std::optional<Duration> Parser::duration(const toml::node& n, std::string_view key) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    error(n.source(),
          fmt::format("{} must be a duration string such as \"30s\", not {}", key, type_name(n)));
    return std::nullopt;
  }
  auto parsed = parse_duration(s->get());
  if (!parsed.value) {
    error(n.source(), fmt::format("{}: {}", key, parsed.error));
    return std::nullopt;
  }
  return parsed.value;
}

std::optional<uint64_t> Parser::size(const toml::node& n, std::string_view key) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    error(n.source(),
          fmt::format("{} must be a size string such as \"1MiB\", not {}", key, type_name(n)));
    return std::nullopt;
  }
  auto parsed = parse_size(s->get());
  if (!parsed.bytes) {
    error(n.source(), fmt::format("{}: {}", key, parsed.error));
    return std::nullopt;
  }
  return parsed.bytes;
}

bool Parser::rate(const toml::node& n, std::string_view key, int& count, Duration& window) {
  auto v = plain_text(n, key);
  if (!v) return false;
  static const std::regex kForm(R"(^([0-9]{1,6})/(s|m|h)$)");
  std::smatch m;
  if (!std::regex_match(*v, m, kForm) || std::stoi(m[1].str()) <= 0) {
    error(n.source(),
          fmt::format("{} \"{}\" is not COUNT/UNIT, as in \"10/m\" (units s, m, h)", key, *v));
    return false;
  }
  count = std::stoi(m[1].str());
  window = Duration{m[2] == "s" ? 1000 : m[2] == "m" ? 60'000 : 3'600'000};
  return true;
}

std::vector<const toml::node*> list_items(const toml::node& n) {
  std::vector<const toml::node*> out;
  if (const auto* arr = n.as_array()) {
    for (const auto& item : *arr) out.push_back(&item);
  } else {
    out.push_back(&n);
  }
  return out;
}

std::optional<std::vector<std::string>> Parser::string_list(const toml::node& n,
                                                            std::string_view key) {
  if (!n.is_array() && !n.is_string()) {
    error(n.source(),
          fmt::format("{} must be a string or an array of strings, not {}", key, type_name(n)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const toml::node* item : list_items(n)) {
    auto v = plain_text(*item, key);
    if (v) {
      out.push_back(*v);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

void Parser::check_keys(const toml::table& table, std::string_view section,
                        const std::set<std::string>& known) {
  for (const auto& [k, v] : table) {
    const std::string key(k.str());
    if (known.count(key) != 0) continue;
    const std::string hint = suggest(key, known);
    error(k.source(), fmt::format("unknown key \"{}\" in {}{}", key, section,
                                  hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint)));
  }
}

const toml::node* Layers::get(std::string_view dotted) const {
  for (const toml::table* t : {monitor, defaults}) {
    if (t == nullptr) continue;
    const toml::node* n = t->at_path(dotted).node();
    if (n != nullptr) return n;
  }
  return nullptr;
}

std::string suggest(std::string_view word, const std::set<std::string>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

nlohmann::json to_json(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return n.as_string()->get();
    case toml::node_type::integer:
      return n.as_integer()->get();
    case toml::node_type::floating_point:
      return n.as_floating_point()->get();
    case toml::node_type::boolean:
      return n.as_boolean()->get();
    case toml::node_type::array: {
      auto out = nlohmann::json::array();
      for (const auto& item : *n.as_array()) out.push_back(to_json(item));
      return out;
    }
    case toml::node_type::table: {
      auto out = nlohmann::json::object();
      for (const auto& [k, v] : *n.as_table()) out[std::string(k.str())] = to_json(v);
      return out;
    }
    default:
      // Dates and times: compared as the text TOML would write.
      return n.visit([](const auto& v) {
        std::ostringstream ss;
        if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> ||
                      toml::is_date_time<decltype(v)>)
          ss << v;
        return ss.str();
      });
  }
}

const std::set<std::string>& common_monitor_keys() {
  static const std::set<std::string> keys{"name",       "type",          "group",
                                          "public",     "interval",      "timeout",
                                          "fail_after", "recover_after", "locations"};
  return keys;
}

}  // namespace config_detail

namespace {

const std::set<std::string> kTopKeys{"server",    "storage",       "defaults",    "monitor",
                                     "scheduler", "channel",       "maintenance", "route",
                                     "heartbeat", "subscriptions", "cluster"};
const std::set<std::string> kServerKeys{"listen",          "title",
                                        "public_url",      "admin_token",
                                        "max_request",     "rate_limit",
                                        "tls_cert",        "tls_key",
                                        "ping_rate_limit", "max_connections_per_client",
                                        "max_connections", "header_timeout",
                                        "body_timeout"};
const std::set<std::string> kStorageKeys{"path",      "keep_raw",     "keep_minutes", "keep_hours",
                                         "keep_days", "keep_rollups", "max_backlog"};
const std::set<std::string> kSchedulerKeys{"max_in_flight", "max_per_host"};
const std::set<std::string> kHeartbeatKeys{"url", "every"};

const toml::table* section(Parser& p, const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    p.error(n->source(), fmt::format("[{}] must be a table", name));
    return nullptr;
  }
  return n->as_table();
}

bool parse_listen(const std::string& text, std::string& host, uint16_t& port) {
  // "127.0.0.1:8080", "[::1]:8080" or ":8080"
  static const std::regex kForm(R"(^(\[[0-9a-fA-F:.]+\]|[^\[\]:]*):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(text, m, kForm)) return false;
  const long p = std::stol(m[2].str());
  if (p < 0 || p > 65535) return false;
  host = m[1].str();
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  port = static_cast<uint16_t>(p);
  return true;
}

// A PEM file of the config: its path (relative to the config's folder), checked readable.
std::optional<std::string> pem_file(Parser& p, const toml::node& n, std::string_view key,
                                    const std::string& config_path) {
  auto v = p.plain_text(n, key);
  if (!v) return std::nullopt;
  std::filesystem::path path(*v);
  if (path.is_relative()) path = std::filesystem::path(config_path).parent_path() / path;
  std::ifstream in(path);
  if (!in) {
    p.error(n.source(),
            fmt::format("{} {}: cannot read it: {}", key, path.string(), std::strerror(errno)));
    return std::nullopt;
  }
  return path.lexically_normal().string();
}

// server.tls_cert and server.tls_key: both or neither, a certificate chain and its private key.
void parse_server_tls(Parser& p, const toml::table& t, ServerConfig& s,
                      const std::string& config_path) {
  const toml::node* cert = t.get("tls_cert");
  const toml::node* key = t.get("tls_key");
  if ((cert == nullptr) != (key == nullptr)) {
    p.error((cert != nullptr ? cert : key)->source(),
            "server.tls_cert and server.tls_key go together: set both for HTTPS, or neither");
    return;
  }
  if (cert == nullptr) return;
  const auto cert_path = pem_file(p, *cert, "server.tls_cert", config_path);
  const auto key_path = pem_file(p, *key, "server.tls_key", config_path);
  if (!cert_path || !key_path) return;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path->c_str()) != 1) {
    p.error(cert->source(),
            fmt::format("server.tls_cert {} is not a PEM certificate chain", *cert_path));
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key_path->c_str(), SSL_FILETYPE_PEM) != 1) {
    p.error(key->source(), fmt::format("server.tls_key {} is not a PEM private key", *key_path));
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    p.error(key->source(), fmt::format("server.tls_key {} is not the key of the certificate in {}",
                                       *key_path, *cert_path));
  } else {
    s.tls_cert = *cert_path;
    s.tls_key = *key_path;
  }
  SSL_CTX_free(ctx);
  ERR_clear_error();
}

void parse_server(Parser& p, const toml::table& t, ServerConfig& s,
                  const std::string& config_path) {
  p.check_keys(t, "[server]", kServerKeys);
  parse_server_tls(p, t, s, config_path);
  if (const auto* n = t.get("listen")) {
    if (auto v = p.plain_text(*n, "server.listen")) {
      if (!parse_listen(*v, s.listen_host, s.listen_port)) {
        p.error(n->source(), fmt::format("server.listen \"{}\" is not HOST:PORT (as in "
                                         "\"127.0.0.1:8080\" or \"[::1]:8080\")",
                                         *v));
      }
    }
  }
  if (const auto* n = t.get("title")) {
    if (auto v = p.plain_text(*n, "server.title")) s.title = *v;
  }
  if (const auto* n = t.get("public_url")) {
    if (auto v = p.plain_text(*n, "server.public_url")) {
      if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0) {
        p.error(n->source(),
                fmt::format("server.public_url \"{}\" must start with http:// or https://", *v));
      }
      while (!v->empty() && v->back() == '/') v->pop_back();
      s.public_url = *v;
    }
  }
  if (const auto* n = t.get("admin_token")) {
    if (auto v = p.credential(*n, "server.admin_token")) {
      if (v->reveal().size() < 16) {
        p.error(n->source(), "server.admin_token must be at least 16 characters long");
      }
      if (!v->is_secret()) {
        p.warning(n->source(),
                  "server.admin_token is written in the config file; prefer \"${env:NAME}\" or "
                  "\"${file:/path}\"");
      }
      s.admin_token = Secret(v->reveal(), true);
    }
  }
  if (const auto* n = t.get("max_request")) {
    if (auto v = p.size(*n, "server.max_request")) s.max_request = *v;
  }
  auto rate = [&](const char* key, int& count, Duration& window) {
    if (const auto* n = t.get(key)) p.rate(*n, fmt::format("server.{}", key), count, window);
  };
  rate("rate_limit", s.rate_limit, s.rate_window);
  rate("ping_rate_limit", s.ping_rate_limit, s.ping_rate_window);
  if (const auto* n = t.get("max_connections_per_client")) {
    if (auto v = p.integer(*n, "server.max_connections_per_client", 1, 100'000))
      s.max_connections_per_client = static_cast<size_t>(*v);
  }
  if (const auto* n = t.get("max_connections")) {
    if (auto v = p.integer(*n, "server.max_connections", 16, 1'000'000))
      s.max_connections = static_cast<size_t>(*v);
  }
  // A deadline under a second would cut off honest clients on a slow link; one over ten
  // minutes would let a slow client hold its connection about as long as it likes.
  auto deadline = [&](const char* key, Duration& out) {
    const auto* n = t.get(key);
    if (n == nullptr) return;
    const std::string name = fmt::format("server.{}", key);
    if (auto v = p.duration(*n, name)) {
      if (*v < Duration{1000} || *v > Duration{600'000}) {
        p.error(n->source(), fmt::format("{} must be between 1s and 10m", name));
      } else {
        out = *v;
      }
    }
  };
  deadline("header_timeout", s.header_timeout);
  deadline("body_timeout", s.body_timeout);
}

void parse_storage(Parser& p, const toml::table& t, StorageConfig& s,
                   const std::string& config_path) {
  p.check_keys(t, "[storage]", kStorageKeys);
  if (const auto* n = t.get("path")) {
    if (auto v = p.plain_text(*n, "storage.path")) {
      std::filesystem::path path(*v);
      if (path.is_relative()) path = std::filesystem::path(config_path).parent_path() / path;
      s.path = path.lexically_normal().string();
    }
  }
  if (const auto* n = t.get("max_backlog")) {
    if (auto v = p.integer(*n, "storage.max_backlog", 10, 100'000'000))
      s.max_backlog = static_cast<size_t>(*v);
  }
  // keep_rollups sets hours and days at once; the finer keys win where both are written.
  if (const auto* n = t.get("keep_rollups")) {
    if (auto v = p.duration(*n, "storage.keep_rollups")) s.keep_hours = s.keep_days = *v;
  }
  const std::pair<const char*, Duration*> keeps[] = {{"keep_raw", &s.keep_raw},
                                                     {"keep_minutes", &s.keep_minutes},
                                                     {"keep_hours", &s.keep_hours},
                                                     {"keep_days", &s.keep_days}};
  for (const auto& [key, target] : keeps) {
    const auto* n = t.get(key);
    if (n == nullptr) continue;
    if (auto v = p.duration(*n, fmt::format("storage.{}", key))) {
      if (v->count() <= 0) {
        p.error(n->source(), fmt::format("storage.{} must be longer than 0s", key));
      } else {
        *target = *v;
      }
    }
  }
}

void parse_scheduler(Parser& p, const toml::table& t, SchedulerConfig& s) {
  p.check_keys(t, "[scheduler]", kSchedulerKeys);
  if (const auto* n = t.get("max_in_flight")) {
    if (auto v = p.integer(*n, "scheduler.max_in_flight", 1, 100'000))
      s.max_in_flight = static_cast<size_t>(*v);
  }
  if (const auto* n = t.get("max_per_host")) {
    if (auto v = p.integer(*n, "scheduler.max_per_host", 1, 100'000))
      s.max_per_host = static_cast<size_t>(*v);
  }
}

std::optional<DeadMansSwitchConfig> parse_heartbeat(Parser& p, const toml::table& t) {
  p.check_keys(t, "[heartbeat]", kHeartbeatKeys);
  DeadMansSwitchConfig h;
  const auto* url = t.get("url");
  if (url == nullptr) {
    p.error(t.source(),
            "[heartbeat] needs url: the outside check to request while lookout is healthy");
    return std::nullopt;
  }
  auto v = p.masked_credential(*url, "heartbeat.url");
  if (!v) return std::nullopt;
  p.check_url(*url, "heartbeat.url", *v, {"https://", "http://"});
  h.url = std::move(*v);
  if (const auto* n = t.get("every")) {
    if (auto every = p.duration(*n, "heartbeat.every")) {
      if (*every < Duration{1000}) {
        p.error(n->source(), "heartbeat.every must be at least 1s");
      } else {
        h.every = *every;
      }
    }
  }
  return h;
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string monitor_digest(const toml::table& monitor, const toml::table* defaults) {
  std::ostringstream text;
  text << toml::toml_formatter(monitor) << "\n[defaults]\n";
  if (defaults != nullptr) text << toml::toml_formatter(*defaults);
  return sha256_hex(text.str());
}

std::optional<MonitorConfig> parse_monitor(Parser& p, const toml::table& t,
                                           const toml::table* defaults) {
  const Layers layers{&t, defaults};
  MonitorConfig m;
  bool ok = true;
  m.digest = monitor_digest(t, defaults);

  const toml::node* name = t.get("name");
  if (name == nullptr) {
    p.error(t.source(), "monitor without a name; add name = \"...\" ([a-z0-9_-]+)");
    ok = false;
  } else if (auto v = p.plain_text(*name, "name")) {
    m.name = *v;
    if (!valid_name(m.name)) {
      p.error(name->source(),
              fmt::format("monitor name \"{}\" may hold only a-z, 0-9, _ and -", m.name));
      ok = false;
    }
  } else {
    ok = false;
  }

  const toml::node* type = t.get("type");
  if (type == nullptr) {
    p.error(t.source(), fmt::format("monitor \"{}\" has no type; add type = \"http\"", m.name));
    return std::nullopt;
  }
  const auto type_text = p.plain_text(*type, "type");
  if (!type_text) return std::nullopt;
  const KindParser* kind = find_kind(*type_text);
  if (kind == nullptr) {
    p.error(type->source(),
            fmt::format("unknown monitor type \"{}\"; use {}", *type_text, kind_names()));
    return std::nullopt;
  }
  m.type = std::string(kind->name);

  p.check_keys(t, fmt::format("{} monitor \"{}\"", *type_text, m.name),
               config_detail::monitor_keys(*kind));

  if (const auto* n = layers.get("group")) {
    if (auto v = p.plain_text(*n, "group")) m.group = *v;
  }
  if (const auto* n = layers.get("public")) {
    if (auto v = p.boolean(*n, "public")) m.is_public = *v;
  }
  const toml::node* interval_node = layers.get("interval");
  if (interval_node != nullptr) {
    if (auto v = p.duration(*interval_node, "interval")) {
      if (*v < Duration{100}) {
        p.error(interval_node->source(), "interval must be at least 100ms");
      } else {
        m.interval = *v;
      }
    }
  }
  const toml::node* timeout_node = layers.get("timeout");
  if (timeout_node != nullptr) {
    if (auto v = p.duration(*timeout_node, "timeout")) {
      if (v->count() <= 0) {
        p.error(timeout_node->source(), "timeout must be more than 0s");
      } else {
        m.timeout = *v;
      }
    }
  }
  if (m.timeout > m.interval) {
    const toml::node* where = timeout_node != nullptr ? timeout_node : interval_node;
    p.error(where != nullptr ? where->source() : t.source(),
            fmt::format("monitor \"{}\": timeout {} is longer than its interval {}; a run must end "
                        "before the next is due",
                        m.name, format_duration(m.timeout), format_duration(m.interval)));
  }
  if (const auto* n = layers.get("fail_after")) {
    if (auto v = p.integer(*n, "fail_after", 1, 100)) m.fail_after = static_cast<int>(*v);
  }
  if (const auto* n = layers.get("recover_after")) {
    if (auto v = p.integer(*n, "recover_after", 1, 100)) m.recover_after = static_cast<int>(*v);
  }
  m.spec = kind->parse(p, layers, t, m);
  config_detail::parse_monitor_alerting(p, layers, m);
  config_detail::parse_monitor_locations(p, layers, m);
  if (!ok) return std::nullopt;
  return m;
}

}  // namespace

LoadResult parse_config(std::string_view text, const std::string& path, const EnvLookup& env) {
  LoadResult result;
  Config config;
  config.file = path;
  auto redactor = std::make_shared<Redactor>();
  Parser p(path, env, result.errors, *redactor, result.inline_secrets);

  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    result.errors.push_back({path, static_cast<int>(e.source().begin.line),
                             static_cast<int>(e.source().begin.column),
                             std::string(e.description()), false});
    return result;
  }

  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (kTopKeys.count(key) != 0) continue;
    const std::string hint = config_detail::suggest(key, kTopKeys);
    p.error(k.source(),
            fmt::format("unknown section \"{}\"{}", key,
                        hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint)));
  }

  if (const auto* t = section(p, root, "server")) parse_server(p, *t, config.server, path);
  if (const auto* t = section(p, root, "storage")) parse_storage(p, *t, config.storage, path);
  if (const auto* t = section(p, root, "scheduler")) parse_scheduler(p, *t, config.scheduler);
  if (const auto* t = section(p, root, "heartbeat")) config.heartbeat = parse_heartbeat(p, *t);
  if (const auto* t = section(p, root, "cluster"))
    config.cluster = config_detail::parse_cluster(p, *t);
  const toml::table* defaults = section(p, root, "defaults");
  if (defaults != nullptr) {
    std::set<std::string> known = config_detail::any_monitor_keys();
    known.erase("name");
    known.erase("type");
    known.erase("step");
    p.check_keys(*defaults, "[defaults]", known);
    config_detail::check_defaults_sub_keys(p, *defaults);
  }

  if (const auto* n = root.get("monitor")) {
    const auto* arr = n->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      p.error(n->source(), "monitor must be written as [[monitor]] tables");
    } else {
      std::map<std::string, toml::source_region> seen;
      for (const auto& item : *arr) {
        auto m = parse_monitor(p, *item.as_table(), defaults);
        if (!m) continue;
        const auto* name_node = item.as_table()->get("name");
        auto [it, inserted] = seen.emplace(m->name, name_node->source());
        if (!inserted) {
          p.error(name_node->source(),
                  fmt::format("duplicate monitor name \"{}\" (first defined at line {})", m->name,
                              it->second.begin.line));
          continue;
        }
        config.monitors.push_back(std::move(*m));
      }
    }
  }

  config_detail::parse_alerting(p, root, config);
  if (root.get("cluster") == nullptr) config_detail::warn_locations_unused(p, root);

  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::tie(a.line, a.col) < std::tie(b.line, b.col);
                   });
  const bool has_error = std::any_of(result.errors.begin(), result.errors.end(),
                                     [](const ConfigError& e) { return !e.warning; });
  if (!has_error) {
    config.index_monitors();
    config.redactor = std::move(redactor);
    result.config = std::move(config);
  }
  return result;
}

LoadResult load_config(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back(
        {path, 1, 1,
         fmt::format("cannot read the config file: {} (set -c FILE or LOOKOUT_CONFIG)",
                     std::strerror(errno)),
         false});
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  LoadResult r = parse_config(ss.str(), path, env);
  struct stat st {};
  if (!r.inline_secrets.empty() && stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    std::vector<std::string> keys;
    for (const auto& e : r.inline_secrets) keys.push_back(e.message);
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const ConfigError& first = r.inline_secrets.front();
    r.errors.push_back(
        {path, first.line, first.col,
         fmt::format("{} is readable by every user of this machine (mode {:04o}) and holds secrets "
                     "written in it "
                     "({}); chmod o-r {}, or move them to ${{env:NAME}} or ${{file:/path}}",
                     path, st.st_mode & 07777, fmt::join(keys, ", "), path),
         true});
  }
  return r;
}

}  // namespace lookout
