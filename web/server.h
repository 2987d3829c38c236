// The HTTP server on server.listen: health, the JSON API and metrics. Its worker threads read
// only the published snapshot and the store's health; they never touch loop state.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alerting/posts.h"
#include "alerting/subscribers.h"
#include "config/config.h"
#include "probes/heartbeat.h"
#include "store/storage.h"
#include "web/rate_limit.h"
#include "web/snapshot.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace lookout {

class GatedServer;

struct HealthReport {
  bool ok = true;
  std::string reason;
};

// The answer to "accept the new answers of this dns monitor".
struct AcceptResult {
  // kUnavailable: cluster mode, the database could not take it (`error` says why).
  enum class Code {
    kDone,
    kUnknown,
    kNotDns,
    kNoAnswers,
    kNoAnswer,
    kUnavailable
  } code = Code::kNoAnswer;
  std::vector<std::string> answers;
  // Cluster mode: each location's accepted answers (`answers` is their union).
  std::map<std::string, std::vector<std::string>> locations;
  std::string error;
};

// What the web threads ask of the loop, which owns the state each changes. Those that wait
// answer nullopt when the loop did not answer in time.
enum class PingTaken { kTaken, kBehind, kNotRecorded };

struct LoopCalls {
  std::function<HealthReport()> health;
  std::function<std::optional<AlertEngine::AckResult>(int64_t incident_id, const std::string& by)>
      ack;
  std::function<AcceptResult(const std::string& monitor)> accept;
  // Hands a heartbeat's ping over: on a single node without waiting (kBehind when the loop is
  // behind); in cluster mode once PostgreSQL recorded it (kNotRecorded when it could not).
  std::function<PingTaken(const std::string& monitor, Ping ping)> ping;
  std::function<std::optional<PostChange>(PostCommand command)> post;
  std::function<std::optional<MaintenanceChange>(MaintenanceCommand command)> maintenance;
  std::function<std::optional<SubscriptionAnswer>(SubscriptionCommand command)> subscription;
};

class WebServer {
 public:
  // Reads history, incidents and storage health from `storage`, from its own threads.
  WebServer(const ServerConfig& cfg, const Clock& clock, const SnapshotHub& snapshots,
            StorageReader& storage, LoopCalls calls);
  ~WebServer();

  // Binds server.listen and starts serving; false with `error` when the address is taken.
  bool start(std::string& error);
  void stop();
  int port() const { return port_; }
  // After the posts changed (made here, or read from a cluster's database once the snapshot
  // has them): the next reader of `/`, the feed or the history gets a page rendered anew. Any
  // thread.
  void forget_rendered_pages();

 private:
  bool authorized(const std::string& authorization_header, const Snapshot& s) const;
  bool visible(const std::string& monitor, const Snapshot& s, bool admin) const;
  // False (and a 429 answer with Retry-After) when the client is over server.rate_limit.
  bool within_rate(const std::string& client, httplib::Response& res);
  // Rate limit and bearer token of an admin call; false (and the answer set) when refused.
  bool admin_call(const httplib::Request& req, httplib::Response& res);
  void routes();
  void ack_routes();
  void incident_routes();
  void page_routes();
  void ping_routes();
  void post_routes();
  void maintenance_routes();
  void feed_routes();
  void subscription_routes();  // web/subscription_routes.cc
  ServerConfig cfg_;
  const Clock& clock_;
  const SnapshotHub& snapshots_;
  StorageReader& storage_;
  LoopCalls calls_;
  RateLimiter limiter_;
  RateLimiter ping_limiter_;  // per heartbeat monitor: server.ping_rate_limit
  RateLimiter subscribe_limiter_{10, Duration{60'000}};  // subscriptions.rate_limit, per client
  // The status page and the status JSON are built at most once per ttl per view (public,
  // admin) and kept plain and gzip-compressed, so a crowd of readers costs one render and one
  // compression per ttl, not one per request. Once stale, an answer is still served while the
  // renderer thread makes the next one; only a cache without an answer (at start, after
  // forget_rendered_pages()) renders on the request.
  struct Rendered {
    std::string plain, gzip;
  };
  struct Cache {
    explicit Cache(Duration t) : ttl(t) {}
    Duration ttl;
    std::mutex mu;
    MonoTime built{};
    bool rendering = false;   // a job for the renderer thread is queued or running
    uint64_t generation = 0;  // counts forget_rendered_pages(): a render begun before is stale
    std::shared_ptr<const Rendered> value;
  };
  struct RenderJob {
    Cache* cache;
    std::function<std::string()> render;
    uint64_t generation;
  };
  // The page refreshes itself every minute: a few seconds of age cost nothing and save renders.
  Cache public_page_{Duration{5000}}, admin_page_{Duration{5000}};
  Cache public_status_{Duration{1000}}, admin_status_{Duration{1000}};
  // What aggregators and feed readers poll (public only).
  Cache statuspage_status_{Duration{1000}}, statuspage_summary_{Duration{1000}};
  Cache feed_{Duration{5000}}, public_history_{Duration{5000}};
  // public_url, or this server's own address when none is set (feeds need absolute links).
  std::string base_url() const;
  std::shared_ptr<const Rendered> cached(Cache& cache, const std::function<std::string()>& render);
  static std::shared_ptr<const Rendered> render_now(const std::function<std::string()>& render);
  void render_loop();
  std::mutex render_mu_;  // after a Cache's mu when both are held
  std::condition_variable render_cv_;
  std::vector<RenderJob> render_jobs_;
  bool render_ready_ = false;  // between start() and stop(): jobs are taken
  bool render_stop_ = false;
  std::thread renderer_;
  static void serve(const httplib::Request& req, httplib::Response& res,
                    std::shared_ptr<const Rendered> body, const char* content_type);
  std::unique_ptr<GatedServer> svr_;
  std::thread thread_;
  int port_ = 0;
};

// Constant-time comparison of a presented token with the admin token.
bool token_matches(const std::string& presented, const Secret& expected);

}  // namespace lookout
