// The HTTP server on server.listen: health, the JSON API and metrics. Its worker threads read
// only the published snapshot and the store's health; they never touch loop state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "daemon/config.h"
#include "daemon/snapshot.h"
#include "store/history.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace lookout {

struct HealthReport {
  bool ok = true;
  std::string reason;
};

class WebServer {
 public:
  using HealthFn = std::function<HealthReport()>;
  using StoreHealthFn = std::function<StoreHealth()>;

  WebServer(const ServerConfig& cfg, const Clock& clock, const SnapshotHub& snapshots, const SummaryCache& summaries,
            const std::string& db_path, HealthFn health, StoreHealthFn store_health);
  ~WebServer();

  // Binds server.listen and starts serving; false with `error` when the address is taken.
  bool start(std::string& error);
  void stop();
  int port() const { return port_; }

 private:
  bool authorized(const std::string& authorization_header, const Snapshot& s) const;
  void routes();

  ServerConfig cfg_;
  const Clock& clock_;
  const SnapshotHub& snapshots_;
  const SummaryCache& summaries_;
  ReadPool reads_;
  HealthFn health_;
  StoreHealthFn store_health_;
  std::unique_ptr<httplib::Server> svr_;
  std::thread thread_;
  int port_ = 0;
};

// Constant-time comparison of a presented token with the admin token.
bool token_matches(const std::string& presented, const Secret& expected);

}  // namespace lookout
