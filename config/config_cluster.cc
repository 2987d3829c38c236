// [cluster] and a monitor's `locations`: cluster mode's keys (docs/cluster.md). The DSN is
// checked by libpq's own parser, so `lookout check` finds what the first connection would.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <set>
#include <string_view>

#include "config/config_parser.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string> kClusterKeys{"dsn",    "node",  "location",
                                         "quorum", "lease", "source_address"};

// Locations name where probes run from: in causes ("down from fra, nyc"), metric labels and
// lease names, so they keep to the characters of monitor names.
bool valid_location(const std::string& s) {
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A node is named like a host: "fra-1", "probe2.fra.acme.example".
bool valid_node(const std::string& s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// libpq's complaint about a connection string, without the string's values: most of its
// messages quote the text around the problem, which may be the password. Only the two that
// quote an option's name keep what they quote; one character ("=") tells nothing either.
std::string conninfo_problem(const char* why) {
  if (why == nullptr) return "out of memory";
  std::string_view message(why);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  std::string out;
  if (message.rfind("invalid connection option \"", 0) == 0 ||
      message.rfind("invalid URI query parameter: \"", 0) == 0) {
    out.append(message);
    return out;
  }
  size_t i = 0;
  while (i < message.size()) {
    const size_t open = message.find('"', i);
    const size_t close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close == std::string_view::npos) {
      out.append(message.substr(i));
      break;
    }
    out.append(message.substr(i, open - i));
    if (close - open <= 2) {
      out.append(message.substr(open, close - open + 1));
    } else {
      out.append("\"***\"");
    }
    i = close + 1;
  }
  return out;
}

// Parses the DSN as libpq will; its password goes to the redactor, so that no message shows it
// even when the DSN came in whole from one variable.
bool check_dsn(Parser& p, const toml::node& n, const Secret& dsn) {
  char* why = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.reveal().c_str(), &why);
  if (options == nullptr) {
    p.error(n.source(), fmt::format("cluster.dsn is not a libpq connection string or URI: {}",
                                    conninfo_problem(why)));
    PQfreemem(why);
    return false;
  }
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && std::string_view(o->keyword) == "password") p.also_secret(o->val);
  }
  PQconninfoFree(options);
  return true;
}

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

std::optional<ClusterConfig> parse_cluster(Parser& p, const toml::table& t) {
  p.check_keys(t, "[cluster]", kClusterKeys);
  ClusterConfig c;
  c.line = static_cast<int>(t.source().begin.line);
  c.col = static_cast<int>(t.source().begin.column);
  bool ok = true;
  if (const auto* n = t.get("dsn")) {
    if (auto v = p.masked_credential(*n, "cluster.dsn")) {
      ok = check_dsn(p, *n, *v) && ok;
      c.dsn = std::move(*v);
    } else {
      ok = false;
    }
  } else {
    p.error(t.source(),
            "[cluster] needs dsn: the PostgreSQL database the nodes share, as in dsn = "
            "\"${env:LOOKOUT_PG}\"");
    ok = false;
  }
  if (const auto* n = t.get("node")) {
    if (auto v = p.plain_text(*n, "cluster.node")) {
      if (valid_node(*v)) {
        c.node = *v;
      } else {
        p.error(n->source(),
                fmt::format("cluster.node \"{}\" may hold only letters, digits, '.', '_' and '-' "
                            "(at most 100)",
                            *v));
        ok = false;
      }
    } else {
      ok = false;
    }
  } else {
    c.node = host_name();
    if (!valid_node(c.node)) {
      p.error(t.source(),
              fmt::format("this host's name \"{}\" cannot name a node; set cluster.node", c.node));
      ok = false;
    }
  }
  if (const auto* n = t.get("location")) {
    if (auto v = p.plain_text(*n, "cluster.location")) {
      if (valid_location(*v)) {
        c.location = *v;
      } else {
        p.error(n->source(),
                fmt::format("cluster.location \"{}\" may hold only a-z, 0-9, _ and - (at most 32)",
                            *v));
        ok = false;
      }
    } else {
      ok = false;
    }
  } else {
    p.error(t.source(),
            "[cluster] needs location: where this node probes from, as in location = \"fra\"");
    ok = false;
  }
  if (const auto* n = t.get("quorum")) {
    if (auto v = p.integer(*n, "cluster.quorum", 1, 100)) {
      c.quorum = static_cast<int>(*v);
    } else {
      ok = false;
    }
  }
  if (const auto* n = t.get("lease")) {
    if (auto v = p.duration(*n, "cluster.lease")) {
      // Shorter, and a database pause or a busy loop of a second or two would move work that
      // is being done; longer, and a dead node's monitors wait that long.
      if (*v < Duration{2000} || *v > Duration{600'000}) {
        p.error(n->source(), "cluster.lease must be between 2s and 10m");
        ok = false;
      } else {
        c.lease = *v;
      }
    } else {
      ok = false;
    }
  }
  if (const auto* n = t.get("source_address")) {
    if (auto v = p.plain_text(*n, "cluster.source_address")) {
      if (auto address = SourceAddress::parse(*v)) {
        c.source_address = std::move(*address);
      } else {
        p.error(n->source(),
                fmt::format("cluster.source_address \"{}\" is not an IPv4 or IPv6 address", *v));
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return c;
}

void parse_monitor_locations(Parser& p, const Layers& layers, MonitorConfig& m) {
  const auto* n = layers.get("locations");
  if (n == nullptr) return;
  if (!n->is_array() && !n->is_string()) {
    p.string_list(*n, "locations");  // records the error naming the type
    return;
  }
  const auto items = list_items(*n);
  if (items.empty()) {
    p.error(n->source(),
            "locations is empty; leave it out to probe from every location that has a live node");
    return;
  }
  std::vector<std::string> out;
  for (const toml::node* item : items) {
    auto name = p.plain_text(*item, "locations");
    if (!name) return;
    if (!valid_location(*name)) {
      p.error(item->source(), fmt::format("location \"{}\" may hold only a-z, 0-9, _ and - (at "
                                          "most 32), like cluster.location",
                                          *name));
      return;
    }
    if (std::find(out.begin(), out.end(), *name) != out.end()) {
      p.error(item->source(), fmt::format("location \"{}\" is listed twice", *name));
      return;
    }
    out.push_back(std::move(*name));
  }
  m.locations = std::move(out);
}

void warn_locations_unused(Parser& p, const toml::table& root) {
  const auto warn = [&](const toml::node& n) {
    p.warning(n.source(),
              "locations applies only in cluster mode ([cluster]); without it every monitor is "
              "probed from here");
  };
  if (const auto* d = root.get("defaults"); d != nullptr && d->is_table()) {
    if (const auto* n = d->as_table()->get("locations")) warn(*n);
  }
  const auto* monitors = root.get("monitor") != nullptr ? root.get("monitor")->as_array() : nullptr;
  if (monitors == nullptr) return;
  for (const auto& item : *monitors) {
    const auto* t = item.as_table();
    if (t == nullptr) continue;
    if (const auto* n = t->get("locations")) warn(*n);
  }
}

}  // namespace lookout::config_detail
