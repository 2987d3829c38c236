// The config of the end-to-end tests' `lookout run` nodes: the monitor `home` probing
// ${env:TARGET} every second (down after 2 failed runs, up after 2 good ones) and a webhook
// channel for the one route, so that the nodes of a test compare equal and each test adds only
// what it is about.
#pragma once

#include <fmt/format.h>

#include <string>

namespace lookout::testing {

struct NodeConfigExtras {
  std::string server;  // lines of [server] (admin_token, rate_limit)
  std::string route;   // lines of the route (escalation tiers)
  std::string tables;  // whole tables before the monitor ([[maintenance]])
};

// `cluster` is the [cluster] table (cluster_table()), empty for a single node; the webhook
// posts to `hook_url` + "/hook".
inline std::string node_config(int port, const std::string& storage, const std::string& cluster,
                               const std::string& hook_url, const NodeConfigExtras& extras = {}) {
  return fmt::format(
      "[server]\nlisten = \"127.0.0.1:{0}\"\npublic_url = \"http://127.0.0.1:{0}\"\n{5}"
      "[storage]\npath = \"{1}\"\n{2}\n"
      "[[channel]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{3}/hook\"\n"
      "timeout = \"1s\"\n[[route]]\nname = \"oncall\"\nnotify = \"hook\"\ngroup_wait = \"0s\"\n"
      "group_interval = \"0s\"\n{4}\n{6}"
      "[[monitor]]\nname = \"home\"\ntype = \"http\"\n"
      "url = \"${{env:TARGET}}\"\ninterval = \"1s\"\ntimeout = \"1s\"\n"
      "fail_after = 2\nrecover_after = 2\n",
      port, storage, cluster, hook_url, extras.route, extras.server, extras.tables);
}

// A node `name` of `location` on ${env:LOOKOUT_PG}, with 2 s leases.
inline std::string cluster_table(const std::string& name, const std::string& location) {
  return fmt::format(
      "[cluster]\ndsn = \"${{env:LOOKOUT_PG}}\"\nnode = \"{}\"\nlocation = \"{}\"\nlease = \"2s\"",
      name, location);
}

}  // namespace lookout::testing
