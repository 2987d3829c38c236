// The target of the cluster's end-to-end tests: /svc answers the status the test sets and
// counts the requests it got. Each location's nodes reach their own (the monitor's url is
// ${env:TARGET}, so the nodes' monitors are the same as written and compare equal).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string>

#include "tests/integration/harness.h"

namespace lookout::testing {

struct SvcTarget {
  SvcTarget() {
    server.routes().Get("/svc", [this](const httplib::Request&, httplib::Response& res) {
      ++requests;
      res.status = status.load();
      res.set_content("svc", "text/plain");
    });
    server.start();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/svc", server.port()); }
  TargetServer server;
  std::atomic<int> status{200};
  std::atomic<int> requests{0};
};

}  // namespace lookout::testing
