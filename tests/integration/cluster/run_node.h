// A `lookout run` node of the end-to-end cluster tests: its config (node_config() with the
// test's extras), spool and process, with the test's admin token in ${env:ADMIN}; stopped with
// SIGTERM when the test ends.
#pragma once

#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/cluster/node_config.h"
#include "tests/integration/cluster/svc_target.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {

struct RunNode {
  RunNode(const PostgresServer& pg, const std::string& name, const std::string& location,
          const SvcTarget& target, const test::HttpRecorder& hook, std::string admin_token,
          const NodeConfigExtras& extras)
      : port(free_port()), admin(std::move(admin_token)) {
    dir.write("lookout.toml", node_config(port, dir.file("spool.db"), cluster_table(name, location),
                                          hook.url(), extras));
    process = std::make_unique<Process>(
        std::vector<std::string>{lookout_binary(), "run", "-c", dir.file("lookout.toml")},
        std::map<std::string, std::string>{
            {"LOOKOUT_PG", pg.dsn()}, {"TARGET", target.url()}, {"ADMIN", admin}},
        dir.path());
  }
  ~RunNode() {
    if (process && !process->wait(0ms)) {
      process->signal(SIGTERM);
      process->wait(10'000ms);
    }
  }
  RunNode(const RunNode&) = delete;
  RunNode& operator=(const RunNode&) = delete;

  httplib::Headers admin_headers() const {
    return {{"Authorization", fmt::format("Bearer {}", admin)}};
  }

  TempDir dir;
  int port;
  std::string admin;
  std::unique_ptr<Process> process;
};

}  // namespace lookout::testing
